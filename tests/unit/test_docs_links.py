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


LAYER = ROOT / "layers/smtp_preflight/smtp_preflight"
NAMED_FILE = re.compile(r"`((?:[\w.{},-]+/)+[\w.{},*-]+\.(?:py|json|yaml|toml|txt))`")


@pytest.mark.parametrize("document", [README, *PAGES], ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_file_a_page_names_exists(document: Path) -> None:
    """A path in backticks is the repository's (`tests/unit/...`) or the layer's (`handshake/tls.py`,
    `smtp_preflight/release.py`);
    modules move (the layer was regrouped), and the page must follow."""

    def exists(name: str) -> bool:
        names = [name]
        if found := re.search(r"\{([^}]*)\}", name):  # `locales/{en,it,de}.json`
            names = [name.replace(found.group(0), choice) for choice in found.group(1).split(",")]
        return all(any(list(base.glob(each)) for base in (ROOT, LAYER.parent, LAYER)) for each in names)

    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    missing = [name for name in NAMED_FILE.findall(text) if not exists(name)]
    assert missing == [], f"{document.relative_to(ROOT)} names files that do not exist"
