"""The worker's writes to the version ledger around a settings check, counted under moto through botocore's
own event hooks on the worker's clients: a checked version is claimed, then marked published with its
check id in one write after its completion event is out; a failed publish leaves it `checked` so that the
redelivery republishes the stored report without a second handshake; a claim taken over meanwhile is
logged, and its event is out all the same."""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from smtp_preflight.aws import clients
from smtp_preflight.aws.keys import SK, VERSION_SK
from smtp_preflight.aws.version_ledger import VersionLedger
from smtp_preflight.worker.settings_versions import Claim, Phase, VersionState
from tests.integration.api.conftest import TABLE, Api
from tests.integration.events.conftest import TENANT, Saas


@dataclass
class Calls:
    """The AWS calls the worker makes, in order: ("UpdateItem", "VERSION"), ("PutEvents", ""), ...
    `fail` names calls to refuse the way an unreachable endpoint would (BotoCoreError), each once."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    fail: list[Any] = field(default_factory=list)  # predicates (operation, params) -> bool

    def __post_init__(self) -> None:
        for service in ("dynamodb", "events"):
            clients.client(service).meta.events.register("before-parameter-build", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        key = params.get("Key", {}).get(SK, {}).get("S", "")
        self.seen.append((model.name, key))
        for predicate in self.fail:
            if predicate(model.name, params):
                self.fail.remove(predicate)
                raise EndpointConnectionError(endpoint_url=f"https://{model.name}.invalid")

    def ledger_writes(self) -> list[int]:
        """Positions of the writes to the `VERSION` item in `seen`."""
        return [n for n, call in enumerate(self.seen) if call == ("UpdateItem", VERSION_SK)]

    def positions(self, operation: str) -> list[int]:
        return [n for n, (name, _) in enumerate(self.seen) if name == operation]


def publishing(operation: str, params: dict[str, Any]) -> bool:
    return operation == "PutEvents"


def marking(phase: Phase) -> Any:
    def writes(operation: str, params: dict[str, Any]) -> bool:
        values = params.get("ExpressionAttributeValues", {})
        return operation == "UpdateItem" and values.get(":phase") == {"S": phase.value}

    return writes


def ledger_state() -> VersionState | None:
    from functions.settings_changed import services

    return services.ledger.read(TENANT, "settings-1")


def outcomes(logs: io.StringIO) -> list[str]:
    """Each record's outcome, or its failure's reason, in order."""
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    records = [line for line in lines if line["message"].startswith("record")]
    return [line.get("outcome") or line["reason"] for line in records]


def test_a_checked_version_takes_one_ledger_write_after_its_check(saas: Saas) -> None:
    calls = Calls()
    saas.publish(saas.settings(1))

    assert saas.deliver() == (1, [])

    # the claim, then one write, after the completion event: published, with the report's check id
    claim, published = calls.ledger_writes()
    assert [claim] < calls.positions("PutEvents") < [published] == [len(calls.seen) - 1]
    [report] = Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]
    state = ledger_state()
    assert state is not None
    assert (state.version, state.phase, state.check_id) == (1, Phase.PUBLISHED, report["checkId"])
    assert [c["detail"]["checkId"] for c in saas.completions()] == [report["checkId"]]


def test_a_failed_publish_leaves_the_version_checked_and_the_redelivery_republishes_it(
    saas: Saas, service_logs: io.StringIO
) -> None:
    # Given EventBridge cannot be reached once
    calls = Calls(fail=[publishing])
    saas.publish(saas.settings(1))

    # When the record fails
    assert len(saas.deliver()[1]) == 1

    # Then the version is left checked with the stored report's id (not published, not given back)
    [report] = Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]
    state = ledger_state()
    assert state is not None
    assert (state.phase, state.check_id) == (Phase.CHECKED, report["checkId"])
    assert saas.completions() == []

    # and the redelivery announces that report without a handshake, and marks the version published
    assert saas.deliver() == (1, [])
    assert saas.smtp.auth_attempts == 1
    *_, republished = calls.positions("PutEvents")
    assert calls.ledger_writes()[-1] == len(calls.seen) - 1 > republished
    assert [c["detail"]["checkId"] for c in saas.completions()] == [report["checkId"]]
    state = ledger_state()
    assert state is not None
    assert (state.phase, state.check_id) == (Phase.PUBLISHED, report["checkId"])

    # so that a further delivery of the same version is a duplicate: nothing announced a third time
    saas.publish(saas.settings(1))
    assert saas.deliver() == (1, [])
    assert saas.completions() == []
    assert outcomes(service_logs) == ["PUBLISH_FAILED", "republished", "duplicate"]


def test_a_ledger_that_fails_after_a_failed_publish_fails_the_record_and_runs_no_second_check(
    saas: Saas, service_logs: io.StringIO
) -> None:
    """Neither the event nor the `checked` mark got out: the record fails (SQS delivers it again) and the
    claim holds until its lease runs out, as after any failed ledger write."""
    Calls(fail=[publishing, marking(Phase.CHECKED)])
    saas.publish(saas.settings(1))

    assert len(saas.deliver()[1]) == 1
    assert len(saas.deliver()[1]) == 1

    state = ledger_state()
    assert state is not None
    assert state.phase is Phase.CHECKING
    assert saas.smtp.auth_attempts == 1
    assert saas.completions() == []
    assert outcomes(service_logs) == ["STORE_FAILED", "CHECK_IN_PROGRESS"]


@pytest.mark.parametrize("publish_fails", [False, True])
def test_a_claim_taken_over_while_checking_is_logged(
    saas: Saas, service_logs: io.StringIO, publish_fails: bool
) -> None:
    # Given another delivery takes the claim over while this one publishes (as after its lease ran out)
    taken: list[Claim | VersionState] = []
    later = VersionLedger(TABLE, retention_days=90, clock=lambda: time.time() + 3600)

    def take_over(operation: str, params: dict[str, Any]) -> bool:
        if operation == "PutEvents":
            taken.append(later.claim(TENANT, "settings-1", 1, lease_seconds=60))
            return publish_fails
        return False

    Calls(fail=[take_over])
    saas.publish(saas.settings(1))

    # When this delivery finishes
    received, failed = saas.deliver()

    # Then it warns, and leaves the version to the delivery that took it over
    lines = [json.loads(line) for line in service_logs.getvalue().splitlines()]
    [warning] = [line for line in lines if line["message"] == "claim taken over while checking"]
    assert (warning["level"], warning["settingsId"], warning["version"]) == ("WARNING", "settings-1", 1)
    [claim] = taken
    assert isinstance(claim, Claim)
    state = ledger_state()
    assert state is not None
    assert (state.phase, state.check_id) == (Phase.CHECKING, None)
    # its event is out all the same, unless the publish itself failed (then the record fails)
    assert (received, len(failed)) == (1, int(publish_fails))
    assert len(saas.completions()) == int(not publish_fails)
