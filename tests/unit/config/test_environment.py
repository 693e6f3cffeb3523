"""Typed function configuration: read once, and a bad variable is named at cold start."""

from __future__ import annotations

import pytest
from pydantic import Field

from smtp_preflight.config.environment import CommaSeparated, FunctionEnvironment, load_environment
from smtp_preflight.config.policy import ConfigError


class SampleEnvironment(FunctionEnvironment):
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    retention_days: int = Field(90, alias="RETENTION_DAYS", ge=1)
    origins: CommaSeparated = Field((), alias="ALLOWED_ORIGINS")


def test_variables_are_read_by_their_names_and_others_ignored() -> None:
    env = load_environment(
        SampleEnvironment,
        {"TABLE_NAME": "checks", "ALLOWED_ORIGINS": " https://a.example, ,https://b.example", "PATH": "/bin"},
    )

    assert env.table_name == "checks"
    assert env.retention_days == 90
    assert env.origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "TABLE_NAME"),
        ({"TABLE_NAME": ""}, "TABLE_NAME"),
        ({"TABLE_NAME": "checks", "RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
        ({"TABLE_NAME": "checks", "RETENTION_DAYS": "ninety"}, "RETENTION_DAYS"),
    ],
)
def test_a_missing_or_malformed_variable_is_named(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_environment(SampleEnvironment, environ)


def test_the_api_function_refuses_to_start_without_its_table() -> None:
    from functions.check_api.env import ApiEnvironment

    with pytest.raises(ConfigError, match="TABLE_NAME"):
        load_environment(ApiEnvironment, {"ALLOWED_ORIGINS": "https://app.example.com"})
