"""`within_edits` passes over names whose lengths alone put them too far apart: it must answer exactly
as the full distance does, for every pair and bound."""

from __future__ import annotations

import itertools

import pytest

from smtp_preflight.rules.distance import edit_distance, within_edits

NAMES = [
    *("gmail.com", "gmial.com", "gmail.co", "gmaill.com", "smtp.gmail.com", "smpt.gmail.com"),
    *("outlook.com", "outlok.com", "smtp.office365.com", "smtp.ofice365.com", "localhost"),
    *("", "a", "ab", "ba"),
]


@pytest.mark.parametrize("limit", [0, 1, 2, 3])
def test_within_edits_agrees_with_the_distance(limit: int) -> None:
    for left, right in itertools.product(NAMES, repeat=2):
        assert within_edits(left, right, limit) == (edit_distance(left, right) <= limit), (left, right)


def test_a_swap_is_one_slip_and_a_longer_name_is_not_near() -> None:
    assert within_edits("gmial.com", "gmail.com", 1)
    assert not within_edits("smtp.gmail.com", "gmail.com", 2)
