"""The HTTP API's request and response bodies (camelCase JSON), as the OpenAPI document shows them.

The request is the settings the CLI takes plus the frontend's optional `settingsId`; responses are the
stored report (which holds no secret). The layer knows nothing of these: they import from it.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from smtp_preflight.model.findings import Finding, Status
from smtp_preflight.model.identifiers import ID_PATTERN
from smtp_preflight.model.report import SCOPE_DESCRIPTION, CamelModel, CheckResource, CheckScope, ProviderRef
from smtp_preflight.model.settings import SmtpSettings

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

SettingsId = Annotated[
    str,
    Field(
        pattern=ID_PATTERN,
        description="The frontend's id for this settings record (letters, digits and . _ : @ -).",
        examples=["smtp-settings-42"],
    ),
]


class CheckRequest(SmtpSettings):
    """The settings to check, as the CLI takes them, plus the frontend's optional settings record id.

    Only the camelCase names are accepted (`from_address` is an unknown field, like any other).
    """

    model_config = ConfigDict(validate_by_name=False, validate_by_alias=True)

    settings_id: SettingsId | None = None

    def to_settings(self) -> SmtpSettings:
        """The settings alone, for the domain (the secret stays a `SecretStr`)."""
        return SmtpSettings.model_validate(self.model_dump(exclude={"settings_id"}))


class CheckSummary(CamelModel):
    """A stored check without its handshake details (stages, TLS, transcript): what a list shows."""

    model_config = ConfigDict(defer_build=True)  # built when first used: not on a create's cold start

    check_id: str
    status: Status
    scope: CheckScope = Field(description=SCOPE_DESCRIPTION)
    settings_id: str | None = None
    settings: dict[str, Any]
    provider: ProviderRef
    findings: list[Finding]
    handshake_attempted: bool = Field(description="Whether the check dialled the server at all.")
    duration_ms: int
    created_at: datetime

    @classmethod
    def of(cls, resource: CheckResource) -> "CheckSummary":
        return cls.model_validate(
            {
                **resource.model_dump(exclude={"handshake"}),
                "handshake_attempted": resource.handshake is not None and resource.handshake.attempted,
            }
        )


class CheckPage(CamelModel):
    """One page of a tenant's checks, newest first. Pass `nextCursor` back as `cursor` for the next page.
    Items are full checks, or summaries with `view=summary`."""

    model_config = ConfigDict(defer_build=True)

    items: list[CheckResource] | list[CheckSummary]
    next_cursor: str | None = None


class ErasedChecks(CamelModel):
    """What an erasure removed. `complete` false: more remain (a very long history); send it again."""

    model_config = ConfigDict(defer_build=True)

    deleted_count: int
    complete: bool


class WatchState(CamelModel):
    """A settings record's watch: it is re-checked once a period (24 hours by default) and a change of
    its verdict is announced as `SmtpCheckStatusChanged`. Records are watched once checked through the
    event path (`SmtpSettingsChanged`); deletion or erasing their history ends the watch."""

    model_config = ConfigDict(defer_build=True)

    watched: bool = Field(description="Always true: a record that is not watched answers 404.")
    next_check_at: datetime = Field(description="When the next re-check is due (it may run a little later).")
    last_check_id: str = Field(description="The watch's last report: `GET /v1/smtp-checks/{checkId}`.")
    last_status: Status
    since: datetime = Field(description="When the watch began.")


class Health(CamelModel):
    model_config = ConfigDict(defer_build=True)

    status: str = Field(examples=["ok"])
    version: str


class ApiErrorCode(StrEnum):
    """The `error.code` values, stable like finding codes: clients switch on them."""

    VALIDATION_FAILED = "VALIDATION_FAILED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    TENANT_MISSING = "TENANT_MISSING"
    CHECK_NOT_FOUND = "CHECK_NOT_FOUND"
    WATCH_NOT_FOUND = "WATCH_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    REQUEST_IN_PROGRESS = "REQUEST_IN_PROGRESS"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    TOO_MANY_FAILED_LOGINS = "TOO_MANY_FAILED_LOGINS"
    TOO_MANY_CHECKS = "TOO_MANY_CHECKS"
    TOO_MANY_CONCURRENT_CHECKS = "TOO_MANY_CONCURRENT_CHECKS"
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class FieldError(CamelModel):
    location: str = Field(description="Where the problem is: body, query, header or path.")
    field: str | None = Field(
        description="The camelCase path of the invalid field, or null for the whole body."
    )
    message: str = Field(description="What is wrong, never echoing the value sent.")


class ErrorDetail(CamelModel):
    code: ApiErrorCode = Field(examples=["VALIDATION_FAILED"])
    message: str
    fields: list[FieldError] = Field(default_factory=list)


class ErrorBody(CamelModel):
    error: ErrorDetail


class GatewayMessage(CamelModel):
    """The shape of answers API Gateway gives itself (401, 429, 5xx): not ours, but a client sees them."""

    message: str = Field(examples=["Unauthorized"])
