"""The settings a customer submits, validated and normalised (JSON in camelCase).

Secrets are `SecretStr`: they never print, never appear in `model_dump()` output unless revealed on
purpose, and validation errors never echo input (`hide_input_in_errors`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from smtp_preflight.guard import HostError, normalise_host

from .report import CheckScope

MIN_TIMEOUT_SECONDS = 1.0
MAX_TIMEOUT_SECONDS = 60.0
DEFAULT_TIMEOUT_SECONDS = 20.0
MAX_SECRET_LENGTH = 16384  # OAuth access tokens run to a few kilobytes


class Security(StrEnum):
    """How the connection is encrypted: STARTTLS upgrade (587), TLS from the start (465), or none."""

    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class AuthMethod(StrEnum):
    PASSWORD = "password"  # noqa: S105 - a method name
    XOAUTH2 = "xoauth2"


def _email_address(value: str) -> str:
    """A valid RFC 5322 addr-spec, normalised by email-validator (no DNS lookups)."""
    from email_validator import EmailNotValidError, validate_email  # ~25 ms: only once an address is given

    try:
        return validate_email(value, check_deliverability=False, allow_smtputf8=True).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from exc


def is_email_address(value: str) -> bool:
    try:
        _email_address(value)
    except ValueError:
        return False
    return True


def _host(value: str) -> str:
    try:
        return normalise_host(value)
    except HostError as exc:
        raise ValueError(str(exc)) from exc


EmailAddress = Annotated[str, StringConstraints(max_length=320), AfterValidator(_email_address)]
NO_CONTROL_CHARACTERS_PATTERN = r"^[^\x00-\x1f\x7f]+$"
NoControlText = Annotated[
    str, StringConstraints(min_length=1, max_length=320, pattern=NO_CONTROL_CHARACTERS_PATTERN)
]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=MAX_SECRET_LENGTH)]


class SmtpSettings(BaseModel):
    """What a customer typed in, as one check needs it."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
        str_strip_whitespace=False,
        field_title_generator=lambda name, _info: to_camel(name),
    )

    host: Annotated[
        str,
        StringConstraints(max_length=1024),
        AfterValidator(_host),
        Field(
            description="The SMTP server's host name or IP address, without scheme, port or user.",
            examples=["smtp.gmail.com", "smtp.office365.com"],
        ),
    ]
    port: Annotated[
        int,
        Field(ge=1, le=65535, strict=True, description="587 with STARTTLS or 465 with TLS.", examples=[587]),
    ]
    security: Annotated[
        Security,
        Field(
            description=(
                "`starttls` (upgrade after connecting, port 587), `tls` (from the start, 465) or `none`."
            )
        ),
    ]
    connection_only: Annotated[
        bool,
        Field(
            strict=True,
            description=(
                "Check the connection only: resolve, connect, verify TLS, list the login methods offered, "
                "and stop before any login (the report's `scope` is `connection`, its result "
                "CONNECTION_VERIFIED). No credentials are needed or used: a password, token or "
                "testRecipient sent with it is refused."
            ),
        ),
    ] = False
    username: Annotated[
        NoControlText | None,
        Field(
            description="The login, usually the mailbox's full e-mail address.",
            examples=["alice@example.com"],
        ),
    ] = None
    password: Annotated[
        Secret | None,
        Field(
            description="The password or app password (with authMethod `password`). Never stored or returned."
        ),
    ] = None
    auth_method: Annotated[
        AuthMethod, Field(description="`password` (AUTH PLAIN/LOGIN) or `xoauth2` (an OAuth access token).")
    ] = AuthMethod.PASSWORD
    oauth_token: Annotated[
        Secret | None,
        Field(
            description=(
                "An OAuth 2.0 access token (with authMethod `xoauth2`). Read before the login, never trusted "
                "(a JWT's claims are decoded without verifying its signature): a token the server must "
                "refuse is reported (`OAUTH_*` codes) and not sent. Never stored or returned."
            )
        ),
    ] = None
    from_address: Annotated[
        EmailAddress | None,
        Field(description="The address mail is sent as, if it differs from the username."),
    ] = None
    test_recipient: Annotated[
        EmailAddress | None,
        Field(description="If set, a real test message is sent to this address after the login."),
    ] = None
    allow_lookalike_host: Annotated[
        bool,
        Field(
            strict=True,
            description=(
                "Log in even though the host looks like an imitation of a provider's server (for the rare "
                "genuine server that does). Without it such a check stops before AUTH with "
                "HOST_LOOKALIKE_LOGIN_WITHHELD; with it the report records HOST_LOOKALIKE_LOGIN_ALLOWED."
            ),
        ),
    ] = False
    timeout: Annotated[
        float,
        Field(
            ge=MIN_TIMEOUT_SECONDS,
            le=MAX_TIMEOUT_SECONDS,
            allow_inf_nan=False,
            strict=True,  # one rule for every number: a JSON number, never a string or a boolean
            description=(
                f"Seconds the whole check may take ({MIN_TIMEOUT_SECONDS:g} to {MAX_TIMEOUT_SECONDS:g}); "
                "the API caps it to what the request allows, and the report shows the time actually allowed."
            ),
        ),
    ] = DEFAULT_TIMEOUT_SECONDS

    @field_validator("*", mode="before")
    @classmethod
    def _encodable(cls, value: Any) -> Any:
        """Text that cannot be encoded (a lone surrogate from a JSON `\\ud800` escape) is refused here,
        naming the field, before anything tries to encode it for the wire, a log line or a hash."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("contains characters that are not valid Unicode text") from None
        return value

    @field_validator("password", "oauth_token")
    @classmethod
    def _no_control_characters(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value.get_secret_value()):
            raise ValueError("must not contain line breaks or control characters")
        return value

    @field_validator("password", "oauth_token", "test_recipient")
    @classmethod
    def _not_for_connection_only(cls, value: Any, info: ValidationInfo) -> Any:
        """A connection-only check never logs in: a secret sent with it would be received for nothing."""
        if value is not None and info.data.get("connection_only"):
            what = "a test message" if info.field_name == "test_recipient" else "credentials"
            raise ValueError(f"a connection-only check sends no {what}: leave this out")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.auth_method is AuthMethod.XOAUTH2 and self.password is not None:
            raise ValueError("send either a password or an OAuth token, not both")
        if self.auth_method is AuthMethod.PASSWORD and self.oauth_token is not None:
            raise ValueError("an OAuth token needs the XOAUTH2 login method")
        if self.test_recipient is not None and self.sender is None:
            raise ValueError("a test recipient needs a From address (or an e-mail address as username)")
        return self

    @property
    def scope(self) -> CheckScope:
        """What a check of these settings sets out to prove once it dials."""
        if self.connection_only:
            return CheckScope.CONNECTION
        return CheckScope.MESSAGE if self.test_recipient is not None else CheckScope.LOGIN

    @property
    def secret(self) -> SecretStr | None:
        """The credential that AUTH would send: the password or the OAuth token."""
        return self.oauth_token if self.auth_method is AuthMethod.XOAUTH2 else self.password

    @property
    def sender(self) -> str | None:
        """The envelope sender for a test message: fromAddress, else the username if it is an address."""
        if self.from_address is not None:
            return self.from_address
        if self.username is not None:
            try:
                return _email_address(self.username)
            except ValueError:
                return None
        return None

    def public_view(self) -> dict[str, Any]:
        """The settings as a report shows them: normalised, camelCase, with no secret at all."""
        view = self.model_dump(mode="json", by_alias=True, exclude={"password", "oauth_token"})
        view["hasSecret"] = self.secret is not None
        return view
