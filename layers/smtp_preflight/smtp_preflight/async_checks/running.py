"""Asynchronous checks: a check accepted now (`202`), run by the worker, readable while it runs.

- `RunningCheck` is what `GET /v1/smtp-checks/{id}` shows until the report exists: the public view of
  the settings, the stages finished so far (exactly as the report will show them: name, outcome, timing,
  the redacted reply) and the stage in progress.
- `LiveStages` is a `progress.StageObserver` that turns the handshake's callbacks into `Progress`
  snapshots for a `ProgressSink` (the DynamoDB writer in `aws.live_progress`): one snapshot when each
  stage *starts*, carrying every stage finished before it, so a check writes at most once per stage;
  the last stage's end is carried by the final report, which replaces the running item.
- `CheckRequested` is the worker's message (same queue as the SaaS's settings events, dispatched by its
  `detail-type`): ids and the settings' public fields, the secret only sealed (see `aws.sealing`).
- A check that never finishes (worker crash, lost message) is never `running` forever: after
  `finish_by` it reads as a failed report with `CHECK_LOST` (`lost_report`), written once.
- A check a limit holds back (its organisation's rate or concurrency, or its share of the worker) waits:
  `waiting_for` records why and until about when (`Waiting`), and moves its deadlines with it, so that
  waiting is never mistaken for dying; it ends `CHECK_RATE_LIMITED` only when the wait would pass
  `MAX_WAIT_SECONDS` after acceptance (`must_end`).

Timing, always counted from when the check may start: a worker must *start* it by `start_by` (acceptance,
or the end of its wait, + `START_WITHIN_SECONDS`) or drop it; once started it ends by its own timeout, so
`finish_by` is its start + timeout + `LOST_MARGIN_SECONDS` (`LiveStages` writes that with its first stage).
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from pydantic import ConfigDict, Field, model_validator

from smtp_preflight.model.codes import Actor
from smtp_preflight.model.codes import Field as FindingField
from smtp_preflight.model.findings import Finding, Status, make_finding
from smtp_preflight.model.identifiers import ID_PATTERN
from smtp_preflight.model.report import (
    SCOPE_DESCRIPTION,
    CamelModel,
    CheckResource,
    CheckScope,
    Handshake,
    ProviderRef,
    Stage,
    StageName,
)
from smtp_preflight.model.settings import AuthMethod, SmtpSettings

CHECK_REQUESTED = "SmtpCheckRequested"
REQUEST_SOURCE = "smtp-preflight.api"
START_WITHIN_SECONDS = 60.0  # from acceptance until a worker must have started the check
LOST_MARGIN_SECONDS = 15.0  # after the check's own timeout: storing, clocks, a slow worker
RETRY_AFTER_SECONDS = 1  # the polling hint while a check runs
MAX_WAIT_SECONDS = 600.0  # the longest a queued check waits for a limit (from acceptance) before it ends
MAX_POLL_AFTER_SECONDS = 30  # the polling hint while a check waits: never longer than this

RUNNING: Literal["running"] = "running"


# The running check's models (and the two messages below) are built on first use (`defer_build`): a worker
# serving settings events, or an API serving synchronous checks, never builds them; SnapStart builds every
# deferred model before its snapshot (`aws.snapstart`).
DEFERRED = ConfigDict(defer_build=True)


class StageInProgress(CamelModel):
    model_config = DEFERRED

    name: StageName
    started_at: datetime


class WaitReason(StrEnum):
    """The limits a queued check waits for (named as `limits.Limit` names them)."""

    TENANT_HANDSHAKE_RATE = "tenantHandshakeRate"  # the organisation's checks this minute
    TENANT_CONCURRENT_HANDSHAKES = "tenantConcurrentHandshakes"  # its checks running at once
    TENANT_WORKER_SHARE = "tenantWorkerShare"  # its share of the shared worker


class Waiting(CamelModel):
    """Why a queued check has not started, and about when a worker takes it up again."""

    model_config = DEFERRED

    reason: WaitReason = Field(description="The limit it waits for.")
    until: datetime = Field(description="About when a worker tries it again.")


class Progress(CamelModel):
    """What the worker writes while a check runs, or while it waits (then also its moved deadlines)."""

    model_config = DEFERRED

    stages: list[Stage] = Field(default_factory=list)
    current_stage: StageInProgress | None = None
    waiting: Waiting | None = None
    start_by: datetime | None = None  # set: the check's deadlines move (a wait, or its start)
    finish_by: datetime | None = None


class RunningCheck(CamelModel):
    """A check accepted and not finished yet (`status: "running"`)."""

    model_config = DEFERRED

    check_id: str
    status: Literal["running"] = RUNNING
    scope: CheckScope = Field(CheckScope.LOGIN, description=SCOPE_DESCRIPTION)
    settings: dict[str, Any]
    settings_id: str | None = None
    provider: ProviderRef
    stages: list[Stage] = Field(
        default_factory=list, description="The handshake stages finished so far, in order."
    )
    current_stage: StageInProgress | None = Field(
        None, description="The stage in progress, if the handshake has begun one."
    )
    waiting: Waiting | None = Field(
        None,
        description="Set while the check waits in the queue for a limit: why, and about until when. "
        "Its `startBy` and `finishBy` move with the wait.",
    )
    created_at: datetime
    start_by: datetime | None = Field(
        None, description="A worker starts the check by then (counted from when it may start)."
    )
    finish_by: datetime = Field(
        description="If no report exists by then, the check reads as failed with CHECK_LOST (counted "
        "from when it may start: waiting for a limit never makes a check lost)."
    )

    def with_progress(self, progress: Progress) -> RunningCheck:
        update: dict[str, Any] = {
            "stages": progress.stages,
            "current_stage": progress.current_stage,
            "waiting": progress.waiting,
        }
        if progress.start_by is not None:
            update["start_by"] = progress.start_by
        if progress.finish_by is not None:
            update["finish_by"] = progress.finish_by
        return self.model_copy(update=update)

    def lost(self, now: datetime) -> bool:
        return now >= self.finish_by

    def late(self, now: datetime, start_by: datetime) -> bool:
        """Past the later of the message's `start_by` and this check's own (moved by its waits)."""
        return now > max(start_by, self.start_by or start_by)

    def must_end(self, until: datetime) -> bool:
        """A wait until `until` would pass the longest a queued check may wait."""
        return until > self.created_at + timedelta(seconds=MAX_WAIT_SECONDS)

    def poll_after(self, now: datetime) -> int:
        """Seconds a client waits before polling again: 1 while it runs, about the wait while it waits."""
        if self.waiting is None:
            return RETRY_AFTER_SECONDS
        left = math.ceil((self.waiting.until - now).total_seconds())
        return max(RETRY_AFTER_SECONDS, min(MAX_POLL_AFTER_SECONDS, left))


def accept(
    settings: SmtpSettings,
    *,
    check_id: str,
    settings_id: str | None,
    provider: ProviderRef,
    now: datetime | None = None,
) -> RunningCheck:
    """The running check for settings accepted now; its timeout is what the worker will allow."""
    created = now or datetime.now(UTC)
    start_by = created + timedelta(seconds=START_WITHIN_SECONDS)
    return RunningCheck(
        check_id=check_id,
        scope=settings.scope,
        settings=settings.public_view(),
        settings_id=settings_id,
        provider=provider,
        created_at=created,
        start_by=start_by,
        finish_by=start_by + timedelta(seconds=settings.timeout + LOST_MARGIN_SECONDS),
    )


def waiting_for(reason: WaitReason, until: datetime, *, timeout: float) -> Progress:
    """What a check that waits for a limit until `until` writes: why, and its deadlines moved after it."""
    start_by = until + timedelta(seconds=START_WITHIN_SECONDS)
    return Progress(
        waiting=Waiting(reason=reason, until=until),
        start_by=start_by,
        finish_by=start_by + timedelta(seconds=timeout + LOST_MARGIN_SECONDS),
    )


def lost_report(running: RunningCheck) -> CheckResource:
    """The failed report of a check that never finished: `CHECK_LOST`, with the stages it got through."""
    seconds = round((running.finish_by - running.created_at).total_seconds())
    return ended_report(running, make_finding("CHECK_LOST", seconds=seconds, actor=Actor.SERVICE))


def refused_report(running: RunningCheck, limit: str, retry_after: int) -> CheckResource:
    """The failed report of a check the abuse limits refused before anything was dialled."""
    return ended_report(running, make_finding("CHECK_RATE_LIMITED", limit=limit, retry_after=retry_after))


def retired_seal_report(running: RunningCheck, field: str) -> CheckResource:
    """The failed report of a check whose secret is sealed in a format this worker no longer opens (an
    old API's envelope without the legacy envelopes layer): unopened, nothing dialled; `field` is the
    secret's (`password` or `oauthToken`)."""
    return ended_report(running, make_finding("SEALED_SECRET_FORMAT_RETIRED", field=FindingField(field)))


def ended_report(running: RunningCheck, finding: Finding) -> CheckResource:
    """A running check ended by `finding` alone (failed), with the stages it got through."""
    handshake = Handshake(attempted=True, stages=running.stages) if running.stages else None
    return CheckResource(
        check_id=running.check_id,
        status=Status.FAILED,
        scope=running.scope,
        settings=running.settings,
        provider=running.provider,
        findings=[finding],
        handshake=handshake,
        duration_ms=round((running.finish_by - running.created_at).total_seconds() * 1000),
        created_at=running.created_at,
        settings_id=running.settings_id,
    )


class ProgressSink(Protocol):
    def record(self, progress: Progress) -> None:
        """Keep `progress` (the newest snapshot wins); must not block the handshake for long."""


class LiveStages:
    """A `StageObserver` that hands a `Progress` snapshot to `sink` as each stage starts. With `timeout`
    (the check's own), each snapshot also says the check started: no wait any more, and `finishBy` its
    start + timeout + margin, so the first stage write moves the deadline without a write of its own."""

    def __init__(self, sink: ProgressSink, *, timeout: float | None = None) -> None:
        self._sink = sink
        self._finished: list[Stage] = []
        self._lock = threading.Lock()
        self._finish_by: datetime | None = None
        if timeout is not None:
            self._finish_by = datetime.now(UTC) + timedelta(seconds=timeout + LOST_MARGIN_SECONDS)

    def on_stage_started(self, stage: StageName) -> None:
        with self._lock:
            snapshot = Progress(
                stages=list(self._finished),
                current_stage=StageInProgress(name=stage, started_at=datetime.now(UTC)),
                finish_by=self._finish_by,
            )
        self._sink.record(snapshot)

    def on_stage_finished(self, stage: Stage) -> None:
        with self._lock:
            self._finished.append(stage)


class SealedSecret(CamelModel):
    """A request's password or token encrypted for one check (see `aws.sealing`); never the value.

    Either `kmsCiphertext` (KMS `Encrypt` of the secret itself, at most `MAX_SEALED_SECRET_BYTES`), or the
    envelope that APIs before it wrote (`encryptedKey`, `nonce`, `ciphertext`: a KMS data key and AES-GCM),
    which a worker keeps opening while an old API may still queue it during a gradual deployment."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True, defer_build=True)

    kms_ciphertext: str | None = Field(
        None, min_length=1, max_length=8192, description="KMS Encrypt's ciphertext blob, base64"
    )
    encrypted_key: str | None = Field(
        None, min_length=1, max_length=4096, description="KMS-encrypted data key, base64 (envelope)"
    )
    nonce: str | None = Field(None, min_length=1, max_length=64)
    ciphertext: str | None = Field(None, min_length=1, max_length=32768)

    @model_validator(mode="after")
    def _one_format(self) -> SealedSecret:
        envelope = {self.encrypted_key is None, self.nonce is None, self.ciphertext is None}
        if envelope != {self.kms_ciphertext is not None}:
            raise ValueError("a sealed secret is either kmsCiphertext or encryptedKey + nonce + ciphertext")
        return self

    @property
    def is_envelope(self) -> bool:
        return self.kms_ciphertext is None


MAX_SEALED_SECRET_BYTES = 4096  # KMS Encrypt's plaintext limit: the most an asynchronous check can carry


class SecretTooLargeToSeal(ValueError):
    """An asynchronous check's secret is over `MAX_SEALED_SECRET_BYTES` (synchronous checks never seal)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is over {MAX_SEALED_SECRET_BYTES} bytes, more than KMS seals in one call")
        self.field = field


def secret_field(settings: SmtpSettings) -> str:
    """The request field that carries the secret: `oauthToken` for XOAUTH2, else `password`."""
    return "oauthToken" if settings.auth_method is AuthMethod.XOAUTH2 else "password"


class CheckRequested(CamelModel):
    """`SmtpCheckRequested`'s detail: an asynchronous API check for the worker."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True, defer_build=True)

    tenant_id: Annotated[str, Field(pattern=ID_PATTERN)]
    check_id: Annotated[str, Field(min_length=26, max_length=26)]
    settings_id: Annotated[str | None, Field(pattern=ID_PATTERN)] = None
    settings: dict[str, Any] = Field(description="The settings without any secret (SmtpSettings fields).")
    sealed_secret: SealedSecret | None = None
    start_by: datetime

    @property
    def secret_field(self) -> str:
        """The settings field the sealed secret fills: `oauthToken` for XOAUTH2, else `password`."""
        return "oauthToken" if self.settings.get("authMethod") == AuthMethod.XOAUTH2.value else "password"

    def to_settings(self, secret: str | None) -> SmtpSettings:
        data = dict(self.settings)
        if secret is not None:
            data[self.secret_field] = secret
        return SmtpSettings.model_validate(data)


def request_fields(settings: SmtpSettings) -> dict[str, Any]:
    """The settings a `CheckRequested` carries: every field as the API takes it, never the secret."""
    return settings.model_dump(mode="json", by_alias=True, exclude={"password", "oauth_token"})
