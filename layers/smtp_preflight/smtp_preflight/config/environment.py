"""Typed environment for each function, validated once at cold start.

Each function declares a pydantic model whose field aliases are the variable names; `load_environment`
validates the environment against it and raises `ConfigError` naming each bad variable, so a deployment
mistake (say, a missing `TABLE_NAME`) fails the cold start with a clear message instead of answering
every request with "retry later".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from .policy import ConfigError


def _comma_separated(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CommaSeparated = Annotated[tuple[str, ...], BeforeValidator(_comma_separated)]
"""A variable such as `a, b,c` read as `("a", "b", "c")`; empty or unset is `()`."""


class FunctionEnvironment(BaseModel):
    """Base of the per-function models: aliases are the variable names; other variables are ignored.
    Each is built when first read (`defer_build`): a function builds its own, never the bases."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=False, defer_build=True)


EnvironmentModel = TypeVar("EnvironmentModel", bound=FunctionEnvironment)


def load_environment(
    model: type[EnvironmentModel], environ: Mapping[str, str] | None = None
) -> EnvironmentModel:
    """`model` read from the environment; `ConfigError` names every missing or malformed variable."""
    env = os.environ if environ is None else environ
    try:
        return model.model_validate(dict(env))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"{model.__name__}: {problems}") from None
