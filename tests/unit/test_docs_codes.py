"""docs/codes.md lists the catalogue's finding codes: every code, with who acts, field and retry."""

from __future__ import annotations

import re
from pathlib import Path

from smtp_preflight.model.codes import SPECS

CODES_PAGE = Path(__file__).resolve().parents[2] / "docs" / "codes.md"
ROW = re.compile(r"^\| `(?P<code>[A-Z0-9_]+)`(?: \(\w+\))? \| (?P<cells>.*) \|$", re.MULTILINE)


def _rows() -> dict[str, list[str]]:
    section = CODES_PAGE.read_text(encoding="utf-8")
    return {match["code"]: match["cells"].split(" | ") for match in ROW.finditer(section)}


def test_every_code_is_listed() -> None:
    section = CODES_PAGE.read_text(encoding="utf-8")

    assert [code for code in SPECS if f"`{code}`" not in section] == []


def test_each_row_says_who_acts_which_field_and_whether_a_retry_helps() -> None:
    for code, cells in _rows().items():
        spec = SPECS[code]
        actor, field = cells[0], cells[1]
        assert actor.startswith(spec.actor.value), code
        assert field == (spec.field.value if spec.field else "—"), code
        if len(cells) == 4:  # handshake tables have a retry column
            assert cells[2].startswith("yes") is spec.retryable, code
