"""The deployment probe: the rules it trips are the ones it expects, and only its own event names it."""

from __future__ import annotations

from smtp_preflight.checking.probe import EXPECTED_CODES, PROBE_EVENT_KEY, ProbeResult, is_probe, run_probe


def test_the_probe_passes_on_this_release() -> None:
    result = run_probe()

    assert result.codes == EXPECTED_CODES
    assert result.to_json_dict()["passed"] is True


def test_a_release_whose_rules_answer_differently_fails_the_probe() -> None:
    assert not ProbeResult(EXPECTED_CODES[:-1]).passed
    assert not ProbeResult((*EXPECTED_CODES, "LOGIN_ACCEPTED")).passed


def test_only_the_hooks_event_is_a_probe() -> None:
    assert is_probe({PROBE_EVENT_KEY: "rules"})
    assert not is_probe({PROBE_EVENT_KEY: "anything else"})
    assert not is_probe(
        {"version": "2.0", "rawPath": "/v1/smtp-checks", "body": '{"smtpPreflightProbe":"rules"}'}
    )
