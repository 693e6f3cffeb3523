"""Ids that become keys match their pattern in full: no trailing newline sneaks through."""

from __future__ import annotations

import pytest

from smtp_preflight.identifiers import is_check_id, is_id


@pytest.mark.parametrize("value", ["tenantA", "smtp-settings-42", "a.b_c:d@e-f", "x" * 128])
def test_well_formed_ids(value: str) -> None:
    assert is_id(value)


@pytest.mark.parametrize("value", ["", "tenantA\n", "tenant A", "a#b", "x" * 129, "naïve", None, 7])
def test_malformed_ids(value: object) -> None:
    assert not is_id(value)


def test_check_ids_are_ulids() -> None:
    assert is_check_id("01M8DHQ86Y24SHQGK4VH9WT6FF")
    assert not is_check_id("01M8DHQ86Y24SHQGK4VH9WT6FF\n")
    assert not is_check_id("01m8dhq86y24shqgk4vh9wt6ff")
