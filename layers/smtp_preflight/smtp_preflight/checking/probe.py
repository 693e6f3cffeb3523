"""The deployment probe: a rules-only check of fixed settings, run by the pre-traffic hook through a new
version of the API function before CodeDeploy shifts any traffic to it (docs/operations.md).

It dials nothing, reads no secret, stores nothing and passes no abuse limit: the rules are pure, and the
probe never reaches the check service. It runs as the reserved tenant `PROBE_TENANT`, which only a direct
invocation (IAM `lambda:InvokeFunction`, granted to the hook alone) can name; an API request cannot.
The settings are chosen to trip three independent rules, so a release that breaks the rules, the
catalogue or the provider table answers differently and is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smtp_preflight.config.policy import Policy
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.rules import evaluate_rules

PROBE_EVENT_KEY = "smtpPreflightProbe"  # never a key of an API Gateway event
PROBE_TENANT = "smtp-preflight:deployment-probe"
PROBE_SETTINGS = {
    "host": "smtp.gmial.com",  # a slip of Google's host
    "port": 25,  # blocked for submission
    "security": "none",  # no TLS
    "username": "probe@example.com",
    "password": "not-a-secret",
    "fromAddress": "probe@example.com",
}
"""Validated when the probe runs, not at import: the sender address would load `email-validator` on
every cold start of the API."""
EXPECTED_CODES = ("HOST_TYPO_SUSPECTED", "TLS_REQUIRED", "PORT_25_BLOCKED")


@dataclass(frozen=True)
class ProbeResult:
    codes: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.codes == EXPECTED_CODES

    def to_json_dict(self) -> dict[str, Any]:
        return {"tenant": PROBE_TENANT, "codes": list(self.codes), "passed": self.passed}


def is_probe(event: dict[str, Any]) -> bool:
    return event.get(PROBE_EVENT_KEY) == "rules"


def run_probe(policy: Policy | None = None) -> ProbeResult:
    settings = SmtpSettings.model_validate(PROBE_SETTINGS)
    return ProbeResult(tuple(finding.code for finding in evaluate_rules(settings, policy or Policy())))
