"""Findings as data: a stable code plus parameters, with wording looked up by code.

Clients switch on `code`, never on text, so codes are stable forever. `message` and `advice` are
rendered from the catalogues (`messages.py`) at creation time; `params` keep the raw values, so every
interface re-renders them in the reader's language (`localise.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, FieldSerializationInfo, field_serializer, field_validator
from pydantic import Field as ModelField
from pydantic.alias_generators import to_camel, to_snake

from smtp_preflight.wording.messages import render

from .codes import SPECS, Actor, Field, Severity

ParamValue = str | int | float


FindingCode = Annotated[
    str,
    ModelField(
        description="Stable forever: switch on it, never on the wording.",
        json_schema_extra={"enum": sorted(SPECS)},
    ),
]


class Finding(BaseModel):
    """One thing we found about the settings, who must act on it, and what to do.

    `params` are snake_case in Python (they fill the wording's placeholders) and camelCase in JSON, like
    every other key of the contract; reading JSON back (a stored report) turns them snake_case again.
    """

    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        field_title_generator=lambda name, _info: to_camel(name),
    )

    code: FindingCode
    severity: Severity
    field: Field | None
    actor: Actor
    message: str
    advice: str
    params: dict[str, ParamValue] = ModelField(
        default_factory=dict, description="The values the wording was filled from, by camelCase name."
    )
    # Reports stored before the field existed read as false.
    retryable: bool = ModelField(
        default=False,
        description="Checking the same settings again later may succeed without anyone acting (a limit "
        "that resets, a temporary 4xx reply, a network hiccup); false when someone must change something "
        "first. The report's status is `failed` either way.",
    )

    @field_validator("params", mode="before")
    @classmethod
    def _snake_case_params(cls, value: Any) -> Any:
        return {to_snake(key): item for key, item in value.items()} if isinstance(value, dict) else value

    @field_serializer("params")
    def _camel_case_params(
        self, params: dict[str, ParamValue], info: FieldSerializationInfo
    ) -> dict[str, ParamValue]:
        return {to_camel(key): item for key, item in params.items()} if info.by_alias else params


def make_finding(
    code: str,
    params: Mapping[str, ParamValue] | None = None,
    *,
    field: Field | None = None,
    actor: Actor | None = None,
    severity: Severity | None = None,
    retryable: bool | None = None,
    locale: str = "en",
    **more_params: ParamValue,
) -> Finding:
    """Build a finding for `code`; its spec gives defaults that a caller may override by context.

    Params come as a mapping, as keywords, or both. Raises KeyError for an unknown code or a missing
    param: a typo there is a programming error, caught by tests.
    """
    spec = SPECS[code]
    params = {**(params or {}), **more_params}
    message, advice = render(code, params, locale=locale)
    return Finding(
        code=code,
        severity=severity or spec.severity,
        field=field if field is not None else spec.field,
        actor=actor or spec.actor,
        message=message,
        advice=advice,
        params=params,
        retryable=spec.retryable if retryable is None else retryable,
    )


class Status(StrEnum):
    """Overall verdict of a check."""

    PASSED = "passed"
    WARNING = "warning"
    FAILED = "failed"


def overall_status(findings: list[Finding]) -> Status:
    """`failed` if any error, else `warning` if any warning, else `passed`."""
    severities = {finding.severity for finding in findings}
    if Severity.ERROR in severities:
        return Status.FAILED
    if Severity.WARNING in severities:
        return Status.WARNING
    return Status.PASSED


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.severity is Severity.ERROR for finding in findings)
