"""Refuse request bodies that are too large, not JSON, not UTF-8, nested too deeply, holding numbers too
long to parse or a key given twice in one object, before the resolver parses them, so it and pydantic
only ever see bounded UTF-8 text of bounded depth with numbers Python converts (30,000 nested arrays
would exhaust the parser's recursion, and an integer of 4,301 digits hits CPython's conversion limit
inside `json.loads`: each a 500 with a traceback) and one value per field (`json.loads` keeps the last
of `{"host": "smtp.gmail.com", "host": "10.0.0.1"}` silently, where a proxy or a log may read the first).

A refusal is answered here, outside the resolver, in the same `ErrorBody` shape (with CORS headers).
"""

import base64
import json
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from aws_lambda_powertools.event_handler import CORSConfig, content_types

from .errors import ERROR_DESCRIPTIONS, error_body
from .schemas import ApiErrorCode, FieldError

MAX_BODY_BYTES = 64 * 1024  # settings are well under 20 KiB even with a long OAuth token
MAX_JSON_DEPTH = 32  # settings are one flat object; any depth past a few levels is not a request of ours
MAX_NUMBER_CHARS = 32  # a port or a timeout needs a handful; int() refuses past 4,300 digits


class Refusal(NamedTuple):
    status: int
    code: ApiErrorCode
    message: str
    fields: tuple[FieldError, ...] = ()


TOO_LARGE = Refusal(413, ApiErrorCode.PAYLOAD_TOO_LARGE, ERROR_DESCRIPTIONS[413])
NOT_JSON = Refusal(415, ApiErrorCode.UNSUPPORTED_MEDIA_TYPE, ERROR_DESCRIPTIONS[415])
NOT_UTF8 = Refusal(422, ApiErrorCode.VALIDATION_FAILED, "The body is not UTF-8 JSON.")
TOO_DEEP = Refusal(
    422, ApiErrorCode.VALIDATION_FAILED, f"The body is nested more than {MAX_JSON_DEPTH} levels deep."
)

# a JSON string (skipped whole, so brackets inside strings do not count) or a bracket
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, without parsing it (no recursion)."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        lexeme = match.group()
        if lexeme in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif lexeme in "]}":
            depth -= 1
    return deepest


def screen_body(event: dict[str, Any]) -> tuple[dict[str, Any], Refusal | None]:
    """The event with a base64 body decoded to text, and the refusal if the body must not be parsed."""
    body = event.get("body")
    if not body:
        return event, None
    if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:  # cheap bound before decoding: base64 grows by 4/3
        return event, TOO_LARGE
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    if not is_json_media_type(headers.get("content-type")):
        return event, NOT_JSON
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode("utf-8")
        text = raw.decode("utf-8")
    except ValueError:  # binascii.Error, UnicodeError, and non-ASCII text where base64 was promised
        return event, NOT_UTF8
    if len(raw) > MAX_BODY_BYTES:
        return event, TOO_LARGE
    if json_depth(text) > MAX_JSON_DEPTH:
        return event, TOO_DEEP
    oversized, repeated = read_body(text)
    if oversized:
        return event, _too_long(oversized)
    if repeated:
        return event, _repeated(repeated)
    return {
        **event,
        "headers": _as_plain_json(event.get("headers")),
        "body": text,
        "isBase64Encoded": False,
    }, None


class _Oversized:
    """Stands in for a number literal too long to convert, so that its place can be named."""


_OVERSIZED = _Oversized()


def _bounded(convert: Any) -> Any:
    def parse(literal: str) -> Any:
        return _OVERSIZED if len(literal) > MAX_NUMBER_CHARS else convert(literal)

    return parse


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    repeated: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object(pairs)
    if len(found) < len(pairs):
        keys = [key for key, _ in pairs]
        found.repeated = tuple(dict.fromkeys(key for index, key in enumerate(keys) if key in keys[:index]))
    return found


def read_body(text: str) -> tuple[list[str | None], list[str]]:
    """The camelCase paths of numbers longer than `MAX_NUMBER_CHARS` characters (None: the whole body),
    and of keys given more than once in their object.

    The body is parsed once here with bounded number conversion; text that is not JSON at all is left to
    the resolver, which answers it with its own 422.
    """
    try:
        document = json.loads(
            text, parse_int=_bounded(int), parse_float=_bounded(float), object_pairs_hook=_object
        )
    except ValueError:
        return [], []
    oversized: list[str | None] = []
    repeated: list[str] = []
    pending: list[tuple[str | None, Any]] = [(None, document)]
    while pending:
        path, value = pending.pop()
        if value is _OVERSIZED:
            oversized.append(path)
        elif isinstance(value, _Object):
            repeated.extend(f"{path}.{key}" if path else key for key in value.repeated)
            pending.extend((f"{path}.{key}" if path else str(key), item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]" if path else f"[{index}]", v) for index, v in enumerate(value))
    return sorted(oversized, key=lambda path: path or ""), sorted(repeated)


def _too_long(paths: list[str | None]) -> Refusal:
    return _invalid(paths, f"must be a number of at most {MAX_NUMBER_CHARS} characters")


def _repeated(paths: list[str]) -> Refusal:
    return _invalid(paths, "is given more than once: send each field once")


def _invalid(paths: Sequence[str | None], message: str) -> Refusal:
    """A 422 naming each body field at `paths` with the same `message`."""
    fields = tuple(FieldError(location="body", field=path, message=message) for path in paths)
    return Refusal(422, ApiErrorCode.VALIDATION_FAILED, "The request is invalid.", fields)


def is_json_media_type(content_type: str | None) -> bool:
    """`application/json` (any case), with at most a UTF-8 charset: JSON is UTF-8 (RFC 8259). A missing
    type, other JSON-based types (`application/merge-patch+json` means something else) and other
    charsets are refused rather than guessed at."""
    if content_type is None:
        return False
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    charsets = {
        value.strip('"') for name, _, value in (p.partition("=") for p in parameters) if name == "charset"
    }
    return media_type == "application/json" and charsets <= {"utf-8"}


def _as_plain_json(headers: dict[str, Any] | None) -> dict[str, Any]:
    """The headers with the vetted JSON media type spelled as the resolver expects it: it only parses
    bodies whose content-type starts with lowercase `application/json`, and would fail on the rest
    (`APPLICATION/JSON`) with a 500."""
    kept = {k: v for k, v in (headers or {}).items() if str(k).lower() != "content-type"}
    return {**kept, "content-type": content_types.APPLICATION_JSON}


def refusal_response(event: dict[str, Any], refusal: Refusal, cors: CORSConfig | None) -> dict[str, Any]:
    """The API Gateway v2 response for a refusal, with the CORS headers the resolver would have added."""
    headers = {"Content-Type": content_types.APPLICATION_JSON}
    if cors is not None:
        origin = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}.get("origin")
        headers.update(cors.to_dict(origin))
    return {
        "statusCode": refusal.status,
        "headers": headers,
        "body": json.dumps(error_body(refusal.code, refusal.message, list(refusal.fields))),
    }
