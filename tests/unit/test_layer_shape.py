"""The layer's shape, where import-linter cannot hold it (its contracts live in pyproject.toml and run in
`make lint`): few modules loose at the top, and the hand-written module maps in package docstrings
naming exactly the modules that exist."""

import ast
import re
from pathlib import Path

import pytest

import smtp_preflight

LAYER = Path(smtp_preflight.__file__).parent
CHECK_API = LAYER.parents[2] / "functions" / "check_api"
MAX_LOOSE_MODULES = 8
NAMED_FILE = re.compile(r"`(?:[\w/]+/)?(\w+)\.py`")


def modules_of(package: Path) -> set[str]:
    return {path.stem for path in package.glob("*.py") if path.name != "__init__.py"}


def docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text("utf-8"))) or ""


def test_at_most_eight_modules_stand_loose_at_the_top_of_the_layer() -> None:
    loose = sorted(modules_of(LAYER))
    assert len(loose) <= MAX_LOOSE_MODULES, f"{len(loose)} loose modules, put some in a package: {loose}"


def packages_with_module_maps() -> list[Path]:
    """Every package of the layer whose docstring names one of its files (`x.py`)."""
    inits = sorted(LAYER.glob("*/__init__.py"))
    return [init for init in inits if NAMED_FILE.search(docstring(init))]


@pytest.mark.parametrize("init", packages_with_module_maps(), ids=lambda init: init.parent.name)
def test_a_package_docstring_that_lists_modules_lists_them_all(init: Path) -> None:
    named = set(NAMED_FILE.findall(docstring(init)))
    assert named == modules_of(init.parent)


def test_the_check_api_docstring_names_every_module_and_route() -> None:
    package = CHECK_API
    text = docstring(package / "app.py")
    named = set(re.findall(r"`(?:routes/)?(\w+)(?:\.py)?`", text))
    assert modules_of(package) - {"app"} <= named, (
        "a module of functions/check_api is not in app.py's docstring"
    )
    assert modules_of(package / "routes") <= named, "a route module is not in app.py's docstring"
    assert set(NAMED_FILE.findall(text)) <= modules_of(package / "routes") | modules_of(package)
