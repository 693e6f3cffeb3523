"""Validation errors in words for people, for every interface (API 422 bodies, CLI messages).

pydantic's messages speak to programmers: "String should match pattern '^[\\x21-\\x7e]{1,255}$'",
"Value should have at most 16384 items", "Value error, ...". Here each error type has a sentence, filled
from the error's context, never from its input (which may be a password). Patterns are described by a
table of the patterns this project uses, so no regex ever reaches a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .identifiers import ID_PATTERN
from .settings import NO_CONTROL_CHARACTERS_PATTERN

# The layer's patterns, described for people; an interface adds its own (see `describe_error`).
PATTERN_DESCRIPTIONS: dict[str, str] = {
    ID_PATTERN: "may contain only letters, digits and . _ : @ - (1 to 128 characters)",
    NO_CONTROL_CHARACTERS_PATTERN: "must not contain line breaks or control characters",
}
VALUE_ERROR_PREFIXES = ("Value error, ", "Assertion failed, ")


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _length(ctx: Mapping[str, Any], key: str) -> str:
    count = ctx.get(key, "?")
    return f"{count} character{'' if count == 1 else 's'}"


def _value_error(ctx: Mapping[str, Any], msg: str) -> str:
    for prefix in VALUE_ERROR_PREFIXES:
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _too_short(ctx: Mapping[str, Any]) -> str:
    return (
        "must not be empty"
        if ctx.get("min_length") == 1
        else f"must have at least {_length(ctx, 'min_length')}"
    )


Describe = Callable[[Mapping[str, Any], str], str]

BY_TYPE: dict[str, Describe] = {
    "missing": lambda ctx, msg: "is required",
    "extra_forbidden": lambda ctx, msg: "is not a field of this request",
    "json_invalid": lambda ctx, msg: "is not valid JSON",
    "model_type": lambda ctx, msg: "must be a JSON object",
    "model_attributes_type": lambda ctx, msg: "must be a JSON object",
    "dict_type": lambda ctx, msg: "must be a JSON object",
    "string_type": lambda ctx, msg: "must be a string",
    "int_type": lambda ctx, msg: "must be a whole number",
    "int_parsing": lambda ctx, msg: "must be a whole number",
    "int_from_float": lambda ctx, msg: "must be a whole number",
    "float_type": lambda ctx, msg: "must be a number",
    "float_parsing": lambda ctx, msg: "must be a number",
    "finite_number": lambda ctx, msg: "must be a finite number",
    "bool_type": lambda ctx, msg: "must be true or false",
    "bool_parsing": lambda ctx, msg: "must be true or false",
    "enum": lambda ctx, msg: f"must be one of {ctx.get('expected', 'the documented values')}",
    "literal_error": lambda ctx, msg: f"must be {ctx.get('expected', 'one of the documented values')}",
    "greater_than_equal": lambda ctx, msg: f"must be at least {_number(ctx.get('ge'))}",
    "greater_than": lambda ctx, msg: f"must be more than {_number(ctx.get('gt'))}",
    "less_than_equal": lambda ctx, msg: f"must be at most {_number(ctx.get('le'))}",
    "less_than": lambda ctx, msg: f"must be less than {_number(ctx.get('lt'))}",
    "string_too_short": lambda ctx, msg: _too_short(ctx),
    "too_short": lambda ctx, msg: _too_short(ctx),
    "string_too_long": lambda ctx, msg: f"must be at most {_length(ctx, 'max_length')}",
    "too_long": lambda ctx, msg: f"must be at most {_length(ctx, 'max_length')}",
    "string_unicode": lambda ctx, msg: "must be valid text",
    "value_error": _value_error,
    "assertion_error": _value_error,
}


def describe_error(error: Mapping[str, Any], patterns: Mapping[str, str] = PATTERN_DESCRIPTIONS) -> str:
    """One pydantic error (`ValidationError.errors()` item) as a sentence fragment for people;
    `patterns` describes the regexes the caller's models use."""
    kind = str(error.get("type"))
    ctx = error.get("ctx") or {}
    msg = str(error.get("msg") or "is invalid")
    if kind == "string_pattern_mismatch":
        return patterns.get(str(ctx.get("pattern")), "contains characters that are not allowed here")
    describe = BY_TYPE.get(kind)
    if describe is None:
        return "is invalid" if "pattern" in msg else _value_error(ctx, msg)
    return describe(ctx, msg)
