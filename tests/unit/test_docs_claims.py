"""Counts and lists the manual states in prose agree with what they describe: the Makefile, template.yaml,
the layer's prune list and the services `make run` plays. Prose drifts silently; these cannot."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.server import MOTO_SERVICES
from local.tables import load_template
from smtp_preflight.config.policy import Policy
from smtp_preflight.limits import AbuseLimits
from smtp_preflight.worker.records import FailureReason
from smtp_preflight.worker.settings_events import CheckCompleted

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TEMPLATE: dict[str, Any] = load_template()
NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
ACTION = re.compile(r"`([a-z0-9-]+:[A-Za-z]+)`")


def page(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """From a heading to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    ends = [text.find(f"\n{'#' * depth} ", start) for depth in range(1, len(level) + 1)]
    return text[start : min((end for end in ends if end != -1), default=len(text))]


def bullet(text: str, opening: str) -> str:
    """A list item from its opening words to the next item of the same or an outer list."""
    start = text.index(opening)
    indent = len(opening) - len(opening.lstrip())
    rest = text[start + len(opening) :].split("\n")
    lines = [rest[0]]
    for line in rest[1:]:
        stripped = line.lstrip()
        if not stripped or (stripped.startswith("- ") and len(line) - len(stripped) <= indent):
            break
        lines.append(line)
    return "\n".join(lines)


def functions() -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in TEMPLATE["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_the_readme_gives_exactly_two_commands() -> None:
    commands = section(page("README.md"), "## The two commands")
    block = re.search(r"```sh\n(.*?)```", commands, re.DOTALL)
    assert block
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]

    assert lines == ["make run", "make test"]


def test_every_make_target_is_documented() -> None:
    phony = re.search(r"^\.PHONY: (.*)$", page("Makefile"), re.MULTILINE)
    assert phony
    targets = section(page("docs/local.md"), "## Other make targets")

    missing = [name for name in phony.group(1).split() if name not in {"run", "test"}]
    assert [name for name in missing if f"`make {name}`" not in targets] == []


def _routes(*, token: bool | None = None) -> set[str]:
    found = set()
    for properties in functions().values():
        for event in properties.get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            route = event["Properties"]
            open_route = route.get("Auth", {}).get("Authorizer") == "NONE"
            if token is None or token is not open_route:
                found.add(f"{route['Method']} {route['Path']}")
    return found


def test_the_deploy_guide_names_every_route_without_a_token() -> None:
    [row] = [line for line in page("docs/deploy.md").splitlines() if "has no authentication" in line]

    assert set(re.findall(r"`((?:GET|POST|DELETE) /\S*)`", row)) == _routes(token=False)


def test_the_api_page_lists_every_route() -> None:
    listed = {
        route.split("?", 1)[0] for route in re.findall(r"^\| `([A-Z]+ /[^`]*)`", page("docs/api.md"), re.M)
    }

    assert listed == _routes()


def test_the_deploy_guide_asks_every_parameter_and_names_every_output() -> None:
    deploy = page("docs/deploy.md")
    questions = section(deploy, "## 3. Deploy")

    assert [name for name in TEMPLATE["Parameters"] if f"`{name}`" not in questions] == []
    assert [name for name in TEMPLATE["Outputs"] if f"`{name}`" not in questions] == []


def test_the_configuration_page_names_every_variable_the_template_sets() -> None:
    configuration = page("docs/configuration.md")
    for name, properties in functions().items():
        variables = properties.get("Environment", {}).get("Variables", {})
        assert [variable for variable in variables if f"`{variable}`" not in configuration] == [], name


def test_the_architecture_lists_each_functions_permissions_in_full() -> None:
    architecture = page("docs/architecture.md")
    openings = {"CheckApiFunction": "  - the API function:", "SettingsChangedFunction": "  - the worker:"}
    for name, opening in openings.items():
        granted = {
            action
            for policy in functions()[name]["Policies"]
            for statement in policy["Statement"]
            for action in statement["Action"]
        }
        assert set(ACTION.findall(bullet(architecture, opening))) == granted, name


def _prune_services() -> frozenset[str]:
    spec = importlib.util.spec_from_file_location("layer_prune", ROOT / "layers/smtp_preflight/prune.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    services: frozenset[str] = module.SERVICES
    return services


def test_the_size_section_names_the_services_the_layer_keeps() -> None:
    size = bullet(page("docs/performance.md"), "- **Size**")
    claim = re.search(r"keeps the\s+(\w+) the functions call \(([^;]*);", size)
    assert claim, size
    services = _prune_services()

    assert NUMBERS[claim.group(1)] == len(services)
    assert set(re.findall(r"`([a-z]+)`", claim.group(2))) == services


def test_the_local_page_names_every_service_moto_plays() -> None:
    local = page("docs/local.md")
    [row] = [line for line in local.splitlines() if line.startswith("| `AWS_ENDPOINT_URL_EVENTBRIDGE`")]
    named = {"DYNAMODB"} | set(re.findall(r"`_?(?:AWS_ENDPOINT_URL_)?([A-Z_]+)`", row))
    count = re.search(r"any of the (\w+) is unset", row)
    assert count

    assert named == set(MOTO_SERVICES)
    assert NUMBERS[count.group(1)] == len(MOTO_SERVICES)


def test_no_page_pastes_a_token() -> None:
    """A pasted JWT expires (and a replay a year ahead finds out): sessions mint theirs at run time."""
    jwt = re.compile(r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.")
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

    assert [path.name for path in pages if jwt.search(path.read_text(encoding="utf-8"))] == []


@pytest.mark.parametrize(
    ("command", "prose"), [("check", "`--timeout` sets the overall"), ("suggest", "`--json` prints the")]
)
def test_the_cli_page_gives_every_exit_status_the_help_lists(command: str, prose: str) -> None:
    cli = Path(sys.executable).parent / "smtp-preflight"
    shown = subprocess.run(  # noqa: S603 - our own command's help
        [cli, command, "--help"], capture_output=True, text=True, check=True, env={"NO_COLOR": "1"}
    ).stdout
    if "exit status:" not in shown:
        pytest.skip(f"smtp-preflight {command} --help lists no exit status")
    listed = re.findall(r"^  (\d+) ", shown.split("exit status:", 1)[1].split("\n\n", 1)[0], re.MULTILINE)
    paragraph = next(part for part in page("docs/cli.md").split("\n\n") if prose in part)
    said = re.findall(r"`(\d+)` [a-z]", paragraph.split("Exit status:", 1)[1])

    assert said == listed


def test_the_events_page_explains_every_failure_reason() -> None:
    events = page("docs/events.md")
    rows = "\n".join(line for line in events.splitlines() if line.startswith("| `"))
    permanent = re.search(r"The (\w+) \*permanent\* reasons", events)
    assert permanent

    assert [reason.value for reason in FailureReason if f"`{reason.value}`" not in rows] == []
    assert NUMBERS[permanent.group(1)] == sum(reason.permanent for reason in FailureReason)


def _architecture_map() -> list[tuple[Path, str]]:
    """(folder, name) for every file or folder the source map names, each resolved against its line's
    folder: a top-level entry, the indented entry under it, or the folder a continued line describes."""
    block = page("docs/architecture.md").split("```\n", 2)[1]
    named: list[tuple[Path, str]] = []
    top = context = ROOT
    for line in block.splitlines():
        first, _, description = line.strip().partition("  ")
        if not line.startswith(" "):
            entries = first.split()
            top = context = ROOT / entries[0] if entries[0].endswith("/") else ROOT
            named += [(ROOT, entry) for entry in entries]
        elif not line.startswith(" " * 32):
            entries = first.split()
            named += [(top, entry) for entry in entries]
            context = top / entries[0] if entries[0].endswith("/") else top
        else:
            description = line
        named += [(context, name) for name in re.findall(r"\b[\w/]+\.py\b|\blocales/\*\.json", description)]
    return named


def test_the_architecture_map_names_files_that_exist() -> None:
    missing = [f"{folder.relative_to(ROOT)}/{name}" for folder, name in _architecture_map()]
    missing = [path for path in missing if not list(ROOT.glob(path.removeprefix("./")))]

    assert missing == []


def test_the_architecture_map_shows_every_folder_and_loose_module_of_the_layer() -> None:
    layer = ROOT / "layers/smtp_preflight/smtp_preflight"
    shown = {name.rstrip("/") for folder, name in _architecture_map() if folder == layer}
    parts = {path.name for path in layer.iterdir() if path.suffix == ".py" and path.name != "__init__.py"}
    parts |= {path.name for path in layer.iterdir() if (path / "__init__.py").exists()}

    assert parts - shown == set()


def test_the_architecture_map_names_every_module_of_the_layers_folders() -> None:
    layer = ROOT / "layers/smtp_preflight/smtp_preflight"
    named = {(folder, name) for folder, name in _architecture_map()}
    modules = {
        (path.parent, path.name)
        for path in layer.glob("*/*.py")
        if path.name != "__init__.py" and (path.parent / "__init__.py").exists()
    }

    assert sorted(str(folder.relative_to(layer) / name) for folder, name in modules - named) == []


def test_the_deploy_guide_gives_each_parameters_default() -> None:
    parameters = TEMPLATE["Parameters"]
    for row in page("docs/deploy.md").splitlines():
        if not row.startswith("| Parameter "):
            continue
        head, answer = row.split(" | ", 2)[:2]
        names = re.findall(r"`(\w+)`", head)
        defaults = re.findall(r"default `?([^`);,]+?)`?[);:,]", answer)
        expected = [str(parameters[name]["Default"]) for name in names if "Default" in parameters[name]]
        assert defaults == expected, row


def test_the_configuration_page_gives_the_policys_and_the_limits_defaults() -> None:
    policy, limits = Policy(), AbuseLimits()
    defaults = {
        "SMTP_PREFLIGHT_ALLOWED_PORTS": ",".join(str(port) for port in sorted(policy.allowed_ports)),
        "SMTP_PREFLIGHT_MAX_ADDRESSES_PER_FAMILY": str(policy.max_addresses_per_family),
        "SMTP_PREFLIGHT_MAX_ADDRESSES": str(policy.max_addresses),
        "SMTP_PREFLIGHT_MAX_FAILED_LOGINS": str(limits.max_failed_logins),
        "SMTP_PREFLIGHT_FAILED_LOGIN_WINDOW_SECONDS": str(limits.failed_login_window_seconds),
        "SMTP_PREFLIGHT_MAX_HANDSHAKES_PER_MINUTE": str(limits.max_handshakes_per_minute),
        "SMTP_PREFLIGHT_MAX_CONCURRENT_HANDSHAKES": str(limits.max_concurrent_handshakes),
        "SMTP_PREFLIGHT_LEASE_SECONDS": str(limits.lease_seconds),
    }
    shown: dict[str, str] = {}
    for row in page("docs/configuration.md").splitlines():
        cells = row.split(" | ")
        if row.startswith("| `SMTP_PREFLIGHT_") and len(cells) >= 3:
            names = re.findall(r"`(SMTP_PREFLIGHT_\w+)`", cells[0])
            shown.update(zip(names, re.findall(r"`([^`]+)`", cells[1]), strict=False))

    assert {name: shown.get(name) for name in defaults} == defaults


def test_the_events_page_shows_a_completion_event_as_the_worker_publishes_it() -> None:
    shown = re.search(r"```json\n(.*?)```", section(page("docs/events.md"), "## What comes back"), re.DOTALL)
    assert shown

    event = CheckCompleted.model_validate_json(shown.group(1))
    assert json.loads(shown.group(1)) == json.loads(event.model_dump_json(by_alias=True))
