"""The HTTP API's request and response bodies (camelCase JSON), as the OpenAPI document shows them.

Pure: pydantic only. The request is the settings the CLI takes plus the frontend's optional
`settingsId`; responses are the report (which holds no secret) plus that id.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .models import SmtpSettings
from .report import CamelModel, Report

# Ids become parts of DynamoDB keys joined by '#': keep them to a safe, printable alphabet.
ID_PATTERN = r"^[A-Za-z0-9._:@-]{1,128}$"
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
    """The settings to check, as the CLI takes them, plus the frontend's optional settings record id."""

    settings_id: SettingsId | None = None

    def to_settings(self) -> SmtpSettings:
        """The settings alone, for the domain (the secret stays a `SecretStr`)."""
        return SmtpSettings.model_validate(self.model_dump(exclude={"settings_id"}))


class CheckResource(Report):
    """A stored check: the report plus the settings record it belongs to, if the caller named one."""

    settings_id: str | None = None


class CheckPage(CamelModel):
    """One page of a tenant's checks, newest first. Pass `nextCursor` back as `cursor` for the next page."""

    items: list[CheckResource]
    next_cursor: str | None = None


class FieldError(CamelModel):
    location: str = Field(description="Where the problem is: body, query, header or path.")
    field: str | None = Field(
        description="The camelCase path of the invalid field, or null for the whole body."
    )
    message: str = Field(description="What is wrong, never echoing the value sent.")


class ErrorDetail(CamelModel):
    code: str = Field(examples=["VALIDATION_FAILED"])
    message: str
    fields: list[FieldError] = Field(default_factory=list)


class ErrorBody(CamelModel):
    error: ErrorDetail
