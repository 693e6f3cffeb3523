"""The performance page's table is the one `make bench` wrote from `benchmarks/results/latest.json`: a
figure edited by hand, or a run whose table was not written back, fails here."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.harness import PERFORMANCE_PAGE, RESULTS, TABLE_BEGIN, TABLE_END, docs_table, write_docs_table


def test_the_performance_pages_table_is_the_latest_results() -> None:
    document = json.loads((RESULTS / "latest.json").read_text())
    page = PERFORMANCE_PAGE.read_text()

    written = page.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip()

    assert written == docs_table(document)
    assert document["smoke"] is False  # a smoke run's figures judge nothing


def test_writing_the_table_replaces_only_what_lies_between_the_markers(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(f"intro\n\n{TABLE_BEGIN}\nold table\n{TABLE_END}\n\nafter\n")
    document = json.loads((RESULTS / "latest.json").read_text())

    write_docs_table(document, page)

    text = page.read_text()
    assert text.startswith("intro\n\n")
    assert text.endswith(f"{TABLE_END}\n\nafter\n")
    assert "old table" not in text
    assert docs_table(document) in text
