"""The response language: negotiated from `Accept-Language`, announced in `Content-Language`."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header

from smtp_preflight.wording.i18n import LOCALES, negotiate

AcceptLanguage = Annotated[
    str | None,
    Header(
        alias="Accept-Language",
        max_length=512,
        description="Preferred languages with quality values (e.g. `it-CH, de;q=0.8`); one of "
        f"{', '.join(LOCALES)} is used, English when none fits. The answer's `Content-Language` names it.",
    ),
]


CONTENT_LANGUAGE_HEADERS: dict[str, Any] = {
    "Content-Language": {
        "required": True,
        "description": "The language of the words in the body (`en`, `it` or `de`), from `Accept-Language`.",
        "schema": {"type": "string", "enum": list(LOCALES)},
    },
    "Vary": {"description": "`Accept-Language`: answers differ by language.", "schema": {"type": "string"}},
}
"""The OpenAPI `headers` entry of every answer that is worded for people."""


def language_headers(locale: str) -> dict[str, str]:
    """`Content-Language`, and `Vary` so that caches keep one answer per language."""
    return {"Content-Language": locale, "Vary": "Accept-Language"}


def response_locale(accept_language: str | None) -> str:
    return negotiate(accept_language)
