"""Ids that become keys match their pattern in full: no trailing newline sneaks through."""

from __future__ import annotations

import pytest

from smtp_preflight.model.identifiers import check_id_time, is_check_id, is_id, new_check_id


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


def test_new_check_ids_are_ulids_that_sort_by_time() -> None:
    earlier, later = new_check_id(now=1_767_222_000.123), new_check_id(now=1_767_222_000.124)

    assert is_check_id(earlier)
    assert is_check_id(later)
    assert earlier < later
    assert check_id_time(earlier) == 1_767_222_000.123
    assert check_id_time("01M8DHQ86Y24SHQGK4VH9WT6FF") > 1_700_000_000  # one python-ulid made
    assert len({new_check_id(now=0) for _ in range(100)}) == 100  # random within a millisecond
