"""Cursors name exactly the query that handed them out; keys always carry the tenant."""

from __future__ import annotations

import pytest

from smtp_preflight.aws.keys import (
    BY_TENANT_PK,
    BY_TENANT_SK,
    PK,
    REPORT_SK,
    SK,
    CursorError,
    InvalidIdError,
    check_pk,
    decode_cursor,
    encode_cursor,
    s,
    tenant_prefix,
)

CHECK_ID = "01M8DHQ86Y24SHQGK4VH9WT6FF"


def key_for(tenant: str) -> dict[str, dict[str, str]]:
    prefix = tenant_prefix(tenant)
    return {
        PK: s(check_pk(prefix, CHECK_ID)),
        SK: s(REPORT_SK),
        BY_TENANT_PK: s(prefix),
        BY_TENANT_SK: s(CHECK_ID),
    }


def test_a_cursor_round_trips_for_its_own_query() -> None:
    cursor = encode_cursor(key_for("acme"), BY_TENANT_PK, BY_TENANT_SK)

    assert decode_cursor(cursor, "TENANT#acme", BY_TENANT_PK, BY_TENANT_SK, "TENANT#acme") == key_for("acme")


def test_another_tenants_cursor_is_refused() -> None:
    cursor = encode_cursor(key_for("globex"), BY_TENANT_PK, BY_TENANT_SK)

    with pytest.raises(CursorError):
        decode_cursor(cursor, "TENANT#acme", BY_TENANT_PK, BY_TENANT_SK, "TENANT#acme")


@pytest.mark.parametrize("cursor", ["", "not-base64!", "e30", "x" * 2000])
def test_garbage_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(CursorError):
        decode_cursor(cursor, "TENANT#acme", BY_TENANT_PK, BY_TENANT_SK, "TENANT#acme")


@pytest.mark.parametrize("tenant", ["", "acme\n", "a#b"])
def test_a_tenant_that_cannot_be_a_key_is_refused(tenant: str) -> None:
    with pytest.raises(InvalidIdError):
        tenant_prefix(tenant)
