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

Timing: the worker must *start* the check by `start_by` (acceptance + `START_WITHIN_SECONDS`) or drop
it; a started check ends by its own timeout; `finish_by` adds `LOST_MARGIN_SECONDS` for storing.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol

from pydantic import ConfigDict, Field, model_validator

from smtp_preflight.model.codes import Actor
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

RUNNING: Literal["running"] = "running"


class StageInProgress(CamelModel):
    name: StageName
    started_at: datetime


class Progress(CamelModel):
    """What the worker writes while a check runs."""

    stages: list[Stage] = Field(default_factory=list)
    current_stage: StageInProgress | None = None


class RunningCheck(CamelModel):
    """A check accepted and not finished yet (`status: "running"`)."""

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
    created_at: datetime
    finish_by: datetime = Field(
        description="If no report exists by then, the check reads as failed with CHECK_LOST."
    )

    def with_progress(self, progress: Progress) -> RunningCheck:
        return self.model_copy(update={"stages": progress.stages, "current_stage": progress.current_stage})

    def lost(self, now: datetime) -> bool:
        return now >= self.finish_by


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
    finish_by = created + timedelta(seconds=START_WITHIN_SECONDS + settings.timeout + LOST_MARGIN_SECONDS)
    return RunningCheck(
        check_id=check_id,
        scope=settings.scope,
        settings=settings.public_view(),
        settings_id=settings_id,
        provider=provider,
        created_at=created,
        finish_by=finish_by,
    )


def lost_report(running: RunningCheck) -> CheckResource:
    """The failed report of a check that never finished: `CHECK_LOST`, with the stages it got through."""
    seconds = round((running.finish_by - running.created_at).total_seconds())
    return ended_report(running, make_finding("CHECK_LOST", seconds=seconds, actor=Actor.SERVICE))


def refused_report(running: RunningCheck, limit: str, retry_after: int) -> CheckResource:
    """The failed report of a check the abuse limits refused before anything was dialled."""
    return ended_report(running, make_finding("CHECK_RATE_LIMITED", limit=limit, retry_after=retry_after))


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
    """A `StageObserver` that hands a `Progress` snapshot to `sink` as each stage starts."""

    def __init__(self, sink: ProgressSink) -> None:
        self._sink = sink
        self._finished: list[Stage] = []
        self._lock = threading.Lock()

    def on_stage_started(self, stage: StageName) -> None:
        with self._lock:
            snapshot = Progress(
                stages=list(self._finished),
                current_stage=StageInProgress(name=stage, started_at=datetime.now(UTC)),
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

    def to_settings(self, secret: str | None) -> SmtpSettings:
        data = dict(self.settings)
        if secret is not None:
            data["oauthToken" if data.get("authMethod") == "xoauth2" else "password"] = secret
        return SmtpSettings.model_validate(data)


def request_fields(settings: SmtpSettings) -> dict[str, Any]:
    """The settings a `CheckRequested` carries: every field as the API takes it, never the secret."""
    return settings.model_dump(mode="json", by_alias=True, exclude={"password", "oauth_token"})
