"""Microsoft's basic-auth retirement depends on the date: clocks on both sides of it, never today's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from smtp_preflight.config.policy import Policy
from smtp_preflight.model.findings import make_finding
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.rules import evaluate_rules
from smtp_preflight.rules.retirement import DEFAULT_OFF_AT, basic_auth_after_retirement, days_left

BEFORE = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
LAST_DAY = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
AFTER = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


ACCEPTED = {"host": "smtp.office365.com", "tls_version": "TLSv1.3"}


def m365(**overrides: str) -> SmtpSettings:
    data = {
        "host": "smtp.office365.com",
        "port": 587,
        "security": "starttls",
        "username": "alice@contoso.com",
        "password": "Secret-Password-1",
        **overrides,
    }
    return SmtpSettings.model_validate(data)


def at(moment: datetime) -> Policy:
    return dataclasses.replace(Policy(), clock=lambda: moment)


def test_before_the_date_a_password_check_warns_with_the_days_left() -> None:
    found = {finding.code: finding for finding in evaluate_rules(m365(), at(BEFORE))}

    retiring = found["M365_BASIC_AUTH_RETIRING"]
    assert retiring.params["days_left"] == 28
    assert "28 days left" in retiring.message


def test_the_warning_counts_down_to_one_on_the_last_day() -> None:
    assert days_left(LAST_DAY) == 1
    assert days_left(DEFAULT_OFF_AT) == 0


@pytest.mark.parametrize("moment", [DEFAULT_OFF_AT, AFTER])
def test_from_the_date_on_the_warning_is_gone(moment: datetime) -> None:
    codes = {finding.code for finding in evaluate_rules(m365(), at(moment))}

    assert "M365_BASIC_AUTH_RETIRING" not in codes
    assert "M365_SMTP_AUTH_REQUIREMENTS" in codes


def test_oauth_is_never_warned() -> None:
    settings = SmtpSettings.model_validate(
        {
            **m365().model_dump(by_alias=True, exclude={"password"}),
            "authMethod": "xoauth2",
            "oauthToken": "t0ken-1",
        }
    )

    assert "M365_BASIC_AUTH_RETIRING" not in {f.code for f in evaluate_rules(settings, at(BEFORE))}


def test_after_the_date_a_login_that_still_works_is_reported_as_an_exception() -> None:
    accepted = [make_finding("LOGIN_ACCEPTED", ACCEPTED)]

    [finding] = basic_auth_after_retirement(m365(), accepted, AFTER)

    assert finding.code == "M365_BASIC_AUTH_STILL_ENABLED"
    assert finding.severity.value == "warning"


def test_before_the_date_or_without_a_login_nothing_more_is_said() -> None:
    accepted = [make_finding("LOGIN_ACCEPTED", ACCEPTED)]
    refused = [make_finding("M365_BASIC_AUTH_DISABLED", detail="550 5.7.30")]

    assert basic_auth_after_retirement(m365(), accepted, BEFORE) == []
    assert basic_auth_after_retirement(m365(), refused, AFTER) == []
    assert basic_auth_after_retirement(m365(host="smtp.gmail.com"), accepted, AFTER) == []
