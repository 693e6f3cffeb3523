"""The README's map of docs/ and every page's links point at files that exist, and every page is on the map.

Pages come and go as the manual grows (other branches add theirs); a link to a page that is not there
yet, or a page nobody can find from the README, fails here rather than in a newcomer's browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def local_links(document: Path) -> list[str]:
    """Relative links outside code blocks, without their #fragment (web links are not files)."""
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    targets = (target.split("#", 1)[0] for target in LINK.findall(text))
    return [target for target in targets if target and not re.match(r"^[a-z][a-z+.-]*:", target)]


@pytest.mark.parametrize("document", [README, *PAGES], ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_link_resolves_to_a_file(document: Path) -> None:
    broken = [target for target in local_links(document) if not (document.parent / target).exists()]
    assert not broken, f"{document.relative_to(ROOT)} links to files that do not exist: {broken}"


def test_every_page_of_docs_is_on_the_readmes_map() -> None:
    mapped = {(README.parent / target).resolve() for target in local_links(README)}
    missing = [page.name for page in PAGES if page.resolve() not in mapped]
    assert not missing, f"docs/ pages the README's map leaves out: {missing}"
