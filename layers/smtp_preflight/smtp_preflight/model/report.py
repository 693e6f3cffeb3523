"""The report: the contract every interface (CLI, API, events) returns, in camelCase JSON.

A report never holds a secret: `settings` is the public view, transcripts are redacted before they
get here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from .findings import Finding, Status


class CamelModel(BaseModel):
    """JSON in camelCase, Python in snake_case: the convention of every body we send or store."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        field_title_generator=lambda name, _info: to_camel(name),
    )


class ProviderId(StrEnum):
    """Who runs a mail service; the catalogues word each as `provider.<id>`."""

    GOOGLE = "google"
    MICROSOFT365 = "microsoft365"
    OUTLOOK_COM = "outlookCom"
    GMX = "gmx"
    WEB_DE = "webDe"
    T_ONLINE = "tOnline"
    IONOS = "ionos"
    LIBERO = "libero"
    VIRGILIO = "virgilio"
    ARUBA = "aruba"
    OVH = "ovh"
    YAHOO = "yahoo"
    ICLOUD = "icloud"
    ZOHO = "zoho"
    FASTMAIL = "fastmail"
    OTHER = "other"


class ProviderRef(CamelModel):
    id: ProviderId
    name: str


class StageName(StrEnum):
    RESOLVE = "resolve"
    CONNECT = "connect"
    BANNER = "banner"
    EHLO = "ehlo"
    STARTTLS = "starttls"
    TLS = "tls"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"
    QUIT = "quit"


class Reply(CamelModel):
    """An SMTP reply, trimmed: basic code, enhanced status code (RFC 3463) if any, and its text."""

    code: int
    enhanced_code: str | None = None
    text: str


class Stage(CamelModel):
    name: StageName
    ok: bool
    duration_ms: int
    reply: Reply | None = None
    detail: str | None = None


class CertificateInfo(CamelModel):
    subject: str
    issuer: str
    sans: list[str]
    not_after: datetime
    days_left: int


class TlsInfo(CamelModel):
    version: str
    cipher: str
    certificate: CertificateInfo | None = None


class AddressAttempt(CamelModel):
    """One resolved address we tried, and what happened there."""

    address: str
    ok: bool
    error: str | None = None


class TranscriptLine(BaseModel):
    dir: Literal["C", "S"]
    line: str


class Handshake(CamelModel):
    attempted: bool
    address: str | None = None
    addresses: list[AddressAttempt] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)
    tls: TlsInfo | None = None
    auth_mechanisms: list[str] = Field(default_factory=list)
    transcript: list[TranscriptLine] = Field(default_factory=list)
    withheld_echoes: int = Field(0, exclude=True)
    """Server texts the redactor withheld because they echoed the credentials, counted where it withheld
    them: the operators' signal (`CredentialEchoes`). Never serialized, so no answer, stored item or event
    holds it (a report read back has 0)."""


class CheckScope(StrEnum):
    """What a check set out to prove; `status` says whether it did. A `passed` check of scope
    `connection` proves the connection and its TLS, never a login."""

    RULES = "rules"  # the rules only: nothing was dialled (the CLI's --no-connect)
    CONNECTION = "connection"  # resolve, connect, verified TLS, EHLO; no credentials, no login tried
    LOGIN = "login"  # ... and one login with the credentials given
    MESSAGE = "message"  # ... and a test message submitted after the login


SCOPE_DESCRIPTION = (
    "What the check set out to prove, beside `status`, which says whether it did: `connection` (connect, "
    "verified TLS, the offered login methods; no login tried: a connection-only check), `login` (also one "
    "login), `message` (also a test message), `rules` (nothing dialled). Never read a passed `connection` "
    "check as a verified login."
)


class Report(CamelModel):
    check_id: str
    status: Status
    scope: CheckScope = Field(CheckScope.LOGIN, description=SCOPE_DESCRIPTION)
    settings: dict[str, Any]
    provider: ProviderRef
    findings: list[Finding]
    handshake: Handshake | None = None
    duration_ms: int
    created_at: datetime

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class Trigger(StrEnum):
    """What started a stored check: a request to the API, the SaaS's `SmtpSettingsChanged` event, or a
    scheduled re-check of watched settings (`watch/`)."""

    API = "api"
    SETTINGS_CHANGED = "settingsChanged"
    RECHECK = "recheck"


class CheckResource(Report):
    """A stored check: the report plus the settings record it belongs to, if the caller named one, and
    what triggered it (reports stored before the field existed have none)."""

    settings_id: str | None = None
    trigger: Trigger | None = None
