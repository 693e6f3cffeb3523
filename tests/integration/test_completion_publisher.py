"""The completion events' group commit (`aws.events.CompletionPublisher`) against moto's EventBridge: a lone
event goes at once; events published while a call is in flight go together in the next one (at most 10,
at most 256 KB); each record hears about its own entry only, and a failed call fails only its entries."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from smtp_preflight.aws.events import CompletionPublisher
from smtp_preflight.model.findings import Status
from smtp_preflight.worker.records import FailureReason, RecordFailed
from smtp_preflight.worker.settings_events import CheckCompleted

BUS = "saas-bus"


class HeldEvents:
    """moto's EventBridge, recording each call's entries; the first call waits until `release` is set (so
    that others publish while it is in flight), and `answer` may change what a call answers."""

    def __init__(self, events: Any) -> None:
        self._events = events
        self.calls: list[list[dict[str, Any]]] = []
        self.in_flight = threading.Event()
        self.release = threading.Event()
        self.answer: Callable[[list[dict[str, Any]], dict[str, Any]], dict[str, Any]] = lambda _, sent: sent

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if len(self.calls) == 1:
            self.in_flight.set()
            self.release.wait(timeout=10)
        return self.answer(Entries, self._events.put_events(Entries=Entries))


@pytest.fixture
def events() -> Iterator[HeldEvents]:
    with mock_aws():
        client = boto3.client("events", region_name="us-east-1")
        client.create_event_bus(Name=BUS)
        yield HeldEvents(client)


def completed(index: int, **overrides: Any) -> CheckCompleted:
    fields: dict[str, Any] = {
        "tenant_id": "acme",
        "settings_id": f"settings-{index}",
        "version": 1,
        "check_id": f"01JCHECK{index:018d}",
        "status": Status.PASSED,
        "finding_codes": [],
        "created_at": datetime(2026, 12, 5, tzinfo=UTC),
        **overrides,
    }
    return CheckCompleted(**fields)


def publish_at_once(
    publisher: CompletionPublisher, events: HeldEvents, count: int, detail: Callable[[int], CheckCompleted]
) -> dict[int, BaseException | None]:
    """Publish one event from a thread; once its call is in flight, `count - 1` more from their own threads,
    then let the first call answer. Each thread's outcome, by index."""
    outcomes: dict[int, BaseException | None] = {}

    def publish(index: int) -> None:
        try:
            publisher.publish(detail(index))
            outcomes[index] = None
        except BaseException as exc:  # the outcome is what is asserted
            outcomes[index] = exc

    first = threading.Thread(target=publish, args=(0,))
    first.start()
    assert events.in_flight.wait(timeout=10)
    others = [threading.Thread(target=publish, args=(index,)) for index in range(1, count)]
    for thread in others:
        thread.start()
    _wait_until_queued(publisher, count - 1)
    events.release.set()
    for thread in [first, *others]:
        thread.join(timeout=10)
    return outcomes


def _wait_until_queued(publisher: CompletionPublisher, count: int) -> None:
    for _ in range(1000):
        with publisher._lock:
            if len(publisher._waiting) >= count:
                return
        threading.Event().wait(0.005)
    raise AssertionError("the events were never queued")


def test_a_lone_event_goes_at_once(events: HeldEvents) -> None:
    events.release.set()
    CompletionPublisher(BUS, client=events).publish(completed(1))

    assert [len(call) for call in events.calls] == [1]


def test_events_published_during_a_call_go_together_in_the_next(events: HeldEvents) -> None:
    publisher = CompletionPublisher(BUS, client=events)

    outcomes = publish_at_once(publisher, events, 12, completed)

    assert outcomes == dict.fromkeys(range(12))  # every record heard its event was published
    assert [len(call) for call in events.calls] == [1, 10, 1]  # PutEvents takes 10 entries at most
    sent = [entry["Detail"] for call in events.calls for entry in call]
    assert sorted(sent) == sorted({entry["Detail"] for call in events.calls for entry in call})
    assert len(sent) == 12


def test_each_record_hears_about_its_own_entry_only(events: HeldEvents) -> None:
    def refuse_the_third(entries: list[dict[str, Any]], answer: dict[str, Any]) -> dict[str, Any]:
        if len(entries) < 3:
            return answer
        results = list(answer["Entries"])
        results[2] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
        return {"FailedEntryCount": 1, "Entries": results}

    events.answer = refuse_the_third
    publisher = CompletionPublisher(BUS, client=events)

    outcomes = publish_at_once(publisher, events, 5, completed)

    failed = {index: exc for index, exc in outcomes.items() if exc is not None}
    assert len(failed) == 1
    [failure] = failed.values()
    assert isinstance(failure, RecordFailed)
    assert failure.reason is FailureReason.PUBLISH_FAILED
    assert "InternalFailure" in str(failure)


def test_a_failed_call_fails_its_entries_and_the_next_call_still_goes(events: HeldEvents) -> None:
    def fail_the_first(entries: list[dict[str, Any]], answer: dict[str, Any]) -> dict[str, Any]:
        if len(events.calls) == 1:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "PutEvents")
        return answer

    events.answer = fail_the_first
    publisher = CompletionPublisher(BUS, client=events)

    outcomes = publish_at_once(publisher, events, 4, completed)

    assert isinstance(outcomes[0], RecordFailed)  # the first call's one entry
    assert [outcomes[index] for index in (1, 2, 3)] == [None, None, None]  # the next call's
    assert [len(call) for call in events.calls] == [1, 3]


def test_a_call_carries_at_most_256_kb(events: HeldEvents) -> None:
    publisher = CompletionPublisher(BUS, client=events)
    big = "X" * 60_000  # a finding code list this long never happens; the limit holds all the same

    outcomes = publish_at_once(
        publisher, events, 10, lambda index: completed(index, finding_codes=[f"{big}{index}"])
    )

    assert outcomes == dict.fromkeys(range(10))
    assert [len(call) for call in events.calls] == [1, 4, 4, 1]
    for call in events.calls:
        assert sum(len(entry["Detail"]) for entry in call) <= 256 * 1024
