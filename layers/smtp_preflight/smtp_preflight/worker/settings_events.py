"""The event contract with the SaaS: what it publishes when a tenant saves or deletes SMTP settings, what
the secret it points to holds, and what we publish when the check is done (camelCase JSON everywhere).

- `SmtpSettingsChanged` (source: the SaaS's, default `saas.settings`): `SettingsChanged`, the settings as
  the API takes them minus the secret, plus `tenantId`, `settingsId`, `version` and `credentialsSecretId`.
- `SmtpSettingsDeleted`: `SettingsDeleted` (`tenantId`, `settingsId`).
- `SmtpCheckCompleted` (source `smtp-preflight`): `CheckCompleted`.

Events never carry secrets: a detail that holds a `password` or `oauthToken` is refused (and the value is
never echoed: validation errors hide their input). The secret lives in Secrets Manager as JSON
`{"password": "..."}` or `{"oauthToken": "..."}` (`Credentials`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from smtp_preflight.model.findings import Status
from smtp_preflight.model.identifiers import ID_PATTERN
from smtp_preflight.model.input_errors import PATTERN_DESCRIPTIONS, describe_error
from smtp_preflight.model.report import CamelModel, CheckResource, CheckScope
from smtp_preflight.model.settings import AuthMethod, Secret, SmtpSettings

from .records import FailureReason, RecordFailed

SETTINGS_CHANGED = "SmtpSettingsChanged"
SETTINGS_DELETED = "SmtpSettingsDeleted"
CHECK_COMPLETED = "SmtpCheckCompleted"
COMPLETION_SOURCE = "smtp-preflight"
DEFAULT_SECRETS_PREFIX = "smtp-preflight/"

# A Secrets Manager secret name, or the ARN of one (whose name part is then what the prefix applies to).
SECRET_NAME_PATTERN = r"[A-Za-z0-9/_+=.@-]{1,512}"  # noqa: S105 - a pattern
SECRET_ARN_PREFIX = r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]{1,32}:[0-9]{12}:secret:"  # noqa: S105
SECRET_ID_PATTERN = rf"^(?:{SECRET_ARN_PREFIX})?{SECRET_NAME_PATTERN}$"
_SECRET_ARN = re.compile(SECRET_ARN_PREFIX)

EntityId = Annotated[str, Field(pattern=ID_PATTERN)]


PATTERNS = {
    **PATTERN_DESCRIPTIONS,
    SECRET_ID_PATTERN: "must be the name or ARN of a Secrets Manager secret",
}


def invalid_fields(error: ValidationError) -> list[str]:
    """`field: message` for each error, in words for people and never with the input (the detail could
    hold a secret by mistake)."""
    return [
        f"{'.'.join(str(part) for part in item['loc']) or '(detail)'}: {describe_error(item, PATTERNS)}"
        for item in error.errors(include_input=False, include_url=False)
    ]


class EventEnvelope(BaseModel):
    """An EventBridge event as an SQS target receives it (the message body)."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True, populate_by_name=True)

    id: str = Field(min_length=1, max_length=128)
    detail_type: str = Field(alias="detail-type", min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=256)
    time: datetime | None = None
    detail: dict[str, Any]


class SettingsChanged(SmtpSettings):
    """`SmtpSettingsChanged`'s detail: the settings the API takes, without any secret, plus whose they
    are, their version and where the secret is. Validated by the same model as the API (`SmtpSettings`),
    and like the API's body only in camelCase (`from_address` is an unknown field, like any other)."""

    model_config = ConfigDict(validate_by_name=False, validate_by_alias=True)

    tenant_id: EntityId
    settings_id: EntityId
    version: Annotated[int, Field(ge=1, le=2**53 - 1, strict=True)]
    credentials_secret_id: Annotated[
        str | None,
        Field(
            pattern=SECRET_ID_PATTERN,
            description="The Secrets Manager secret with the password or token; required unless "
            "connectionOnly is true (then it is never read).",
        ),
    ] = None

    @model_validator(mode="after")
    def _secret_unless_connection_only(self) -> Self:
        if self.credentials_secret_id is None and not self.connection_only:
            raise ValueError("credentialsSecretId is required unless connectionOnly is true")
        return self

    @property
    def secret_to_read(self) -> str | None:
        """The secret's id if the check logs in; None for a connection-only check (nothing is read)."""
        return None if self.connection_only else self.credentials_secret_id

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_the_event(cls, data: Any) -> Any:
        """Checked first, on the raw detail: a secret in an event is refused whatever else is wrong."""
        if isinstance(data, dict):
            if {"password", "oauthToken", "oauth_token"} & set(data):
                raise ValueError(
                    "events never carry secrets: store the password or token in Secrets Manager and send "
                    "its id as credentialsSecretId"
                )
            if "timeout" in data:
                raise ValueError("timeout is not part of the event (the service sets it)")
        return data

    def to_settings(self, credentials: Credentials | None, *, timeout: float) -> SmtpSettings:
        """The settings to check: this detail's fields, the secret from `credentials` (None for a
        connection-only check), our timeout."""
        fields = set(SmtpSettings.model_fields) - {"password", "oauth_token", "timeout"}
        data: dict[str, Any] = self.model_dump(include=fields)
        data["timeout"] = timeout
        if credentials is None:
            pass
        elif self.auth_method is AuthMethod.XOAUTH2:
            data["oauth_token"] = credentials.required("oauth_token")
        else:
            data["password"] = credentials.required("password")
        try:
            return SmtpSettings.model_validate(data)
        except ValidationError as exc:  # the secret itself is invalid (length, control characters)
            raise RecordFailed(FailureReason.SECRET_MALFORMED, "; ".join(invalid_fields(exc))) from None


class SettingsDeleted(CamelModel):
    """`SmtpSettingsDeleted`'s detail."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
        validate_by_name=False,
        validate_by_alias=True,
        defer_build=True,  # built at the first deletion, not on every cold start
    )

    tenant_id: EntityId
    settings_id: EntityId


class Credentials(CamelModel):
    """The SecretString: JSON with `password` or `oauthToken` (other keys are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    password: Secret | None = None
    oauth_token: Secret | None = None

    @classmethod
    def parse(cls, secret_string: str) -> Credentials:
        try:
            return cls.model_validate_json(secret_string)
        except ValidationError as exc:
            raise RecordFailed(
                FailureReason.SECRET_MALFORMED,
                'the secret must be JSON {"password": "..."} or {"oauthToken": "..."}; '
                + "; ".join(invalid_fields(exc)),
            ) from None

    def required(self, name: str) -> str:
        value = getattr(self, name)
        if value is None:
            key = "password" if name == "password" else "oauthToken"
            raise RecordFailed(FailureReason.SECRET_MALFORMED, f"the secret has no {key!r} key")
        secret: str = value.get_secret_value()
        return secret


class CredentialsSource(Protocol):
    """Where a record's secret is read from (`aws.secrets.CredentialsReader`): by its id, for its tenant."""

    def read(self, secret_id: str, *, tenant_id: str | None = None) -> Credentials: ...


def secret_name(secret_id: str) -> str:
    """The name part of a secret id (a name, or an ARN whose name may end in Secrets Manager's suffix)."""
    arn = _SECRET_ARN.match(secret_id)
    return secret_id[arn.end() :] if arn else secret_id


def secret_id_allowed(secret_id: str, prefix: str, tenant_id: str | None = None) -> bool:
    """True if the id names a secret under the configured prefix (IAM allows nothing else either) and,
    given the event's tenant, under `<prefix><tenantId>/`: one tenant's event can never name another
    tenant's mailbox secret, whatever the SaaS's bus carries."""
    name = secret_name(secret_id)
    scope = prefix if tenant_id is None else f"{prefix}{tenant_id}/"
    return bool(prefix) and name.startswith(scope) and len(name) > len(scope)


class CheckCompleted(CamelModel):
    """`SmtpCheckCompleted`'s detail: which settings version was checked, and the verdict in brief.
    Fetch the whole report with `GET /v1/smtp-checks/{checkId}`."""

    tenant_id: str
    settings_id: str
    version: int
    check_id: str
    status: Status
    scope: CheckScope = CheckScope.LOGIN  # what was proven, beside status: `connection` is no login
    finding_codes: list[str]
    created_at: datetime

    @classmethod
    def of(cls, resource: CheckResource, *, tenant_id: str, settings_id: str, version: int) -> CheckCompleted:
        return cls(
            tenant_id=tenant_id,
            settings_id=settings_id,
            version=version,
            check_id=resource.check_id,
            status=resource.status,
            scope=resource.scope,
            finding_codes=[finding.code for finding in resource.findings],
            created_at=resource.created_at,
        )

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
