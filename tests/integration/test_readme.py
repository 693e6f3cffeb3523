"""Every `console` example in README.md is run, against a real `make run` and the installed CLI, and
its output compared with what the README shows, so the README cannot drift from the code.

A `console` block is a session: `$ command` lines (continued by a trailing backslash or an open quote),
each followed by the output it printed. Commands run in order in bash from the repository root, with
the environment (exports) carried from one to the next. `sh` blocks are instructions, not sessions. A
session preceded by `<!-- not replayed: reason -->` is skipped (it must be real output, and say why it
cannot run here).

What changes from run to run is matched, not compared: check ids and cursors (an id the README shows
is replaced, in later commands, by the id this run produced), durations, timestamps, the throw-away
CA's names and path, the demo's ports (the README shows `make run`'s defaults, 3000 and 2587).

After a deliberate change of output, `make readme` (`README_UPDATE=1` for this test) rewrites the
sessions whose output no longer matches from this run, and leaves the others alone (then read the diff).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.local_server import ROOT, LocalRun, local_server

README = ROOT / "README.md"
NOT_REPLAYED = "<!-- not replayed:"  # before a session that cannot be replayed here, with the reason
README_API = "http://127.0.0.1:3000"
README_SMTP_PORT = "2587"
CA_PATH = re.compile(r"[^\s=]*/smtp-preflight-demo-[^/\s]+/demo-ca\.pem")
ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
CURSOR = re.compile(r"\beyJ[A-Za-z0-9_-]{20,}")
LOCALES = sorted(ROOT.glob("layers/smtp_preflight/smtp_preflight/**/locales/*.json"))
# Catalogue placeholders whose values follow the clock (or the run), in every language's wording.
CLOCK_PLACEHOLDERS = ("days_left", "not_after", "seconds", "retry_after", "duration_ms", "check_id")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalogue_patterns() -> list[tuple[re.Pattern[str], str]]:
    """One pattern per catalogue text that shows a clock-bound value, for every language.

    The literal words on both sides of the placeholder anchor it (`valido ancora {days_left} giorni`,
    `noch {days_left} Tage gültig`), so a new language or wording is covered without a new line here.
    """
    patterns: dict[str, tuple[re.Pattern[str], str]] = {}
    for catalogue in LOCALES:
        for template in json.loads(catalogue.read_text(encoding="utf-8")).values():
            pieces = PLACEHOLDER.split(template)  # literal, name, literal, name, ...
            for index in range(1, len(pieces), 2):
                if pieces[index] not in CLOCK_PLACEHOLDERS:
                    continue
                before = pieces[index - 1].split("}")[-1][-24:]
                after = pieces[index + 1][:24] if index + 1 < len(pieces) else ""
                if not (before.strip() or after.strip()):
                    continue
                pattern = re.escape(before) + r"[^\s,;)]+" + re.escape(after)
                patterns.setdefault(pattern, (re.compile(pattern), f"{before}<{pieces[index]}>{after}"))
    return list(patterns.values())


VOLATILE = [  # (pattern, stand-in), applied to both sides before comparing
    (re.compile(r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\b"), "<TIME>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(?:\.\d+)?\b"), "<TIME>"),
    (re.compile(r" *\b\d+ ms\b"), " N ms"),
    (re.compile(r'"(durationMs|daysLeft|retryAfter|retryAfterSeconds)": ?\d+'), r'"\1": N'),
    (re.compile(r"(?i)(retry-after|max-age|expires_in): ?\d+"), r"\1: N"),
    *_catalogue_patterns(),
    (re.compile(r"(Testing (?:CA|cert)) #[A-Za-z0-9_-]+"), r"\1 #X"),
    (re.compile(r"trustme v[\d.]+"), "trustme vX"),
    (re.compile(r"\[message: \d+ lines, \d+ bytes\]"), "[message: N lines, N bytes]"),
]

# `make replay-ahead` runs this replay a year ahead under libfaketime (tests/support/clock_ahead.py): its
# variables reach every command, so the sessions' commands see the same moved clock as the server.
FAKE_CLOCK = (
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "FAKETIME",
    "FAKETIME_DONT_FAKE_MONOTONIC",
    "DONT_FAKE_MONOTONIC",
    "FAKETIME_NO_CACHE",
    "FAKETIME_FORCE_MONOTONIC_FIX",
)

pytestmark = pytest.mark.timeout(120)


@dataclass
class Command:
    text: str  # as the README shows it, without the `$ ` prompts
    expected: list[str]
    first_line: int  # 0-based index into the README's lines
    last_line: int  # exclusive end of the command and its output


@dataclass
class Session:
    info: str
    commands: list[Command] = field(default_factory=list)


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command)
    except ValueError:  # an open quote: the command goes on
        return False
    return True


def sessions(lines: list[str]) -> Iterator[Session]:
    """The README's `console` blocks, parsed into commands and their expected output."""
    index = 0
    while index < len(lines):
        fence = re.match(r"^```(\S+)?", lines[index])
        if not fence:
            index += 1
            continue
        info = fence.group(1) or ""
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        if info == "console" and before.startswith(NOT_REPLAYED):
            if not before.removeprefix(NOT_REPLAYED).strip(" ->"):
                pytest.fail(f"README.md:{index}: say why this session is not replayed")
        elif info == "console":
            session = Session(info)
            i = index + 1
            while i < end:
                if not lines[i].startswith("$ "):
                    pytest.fail(f"README.md:{i + 1}: output before any command in a console block")
                start = i
                text = lines[i][2:]
                while not _complete(text):
                    i += 1
                    text += "\n" + lines[i]
                i += 1
                output_start = i
                while i < end and not lines[i].startswith("$ "):
                    i += 1
                session.commands.append(Command(text, lines[output_start:i], start, i))
            yield session
        index = end + 1


@dataclass
class Runner:
    run: LocalRun
    workdir: Path
    env: dict[str, str]
    readme_ca: str | None = None
    ids: dict[str, str] = field(default_factory=dict)  # README id or cursor → this run's
    last_status: int = 0

    def to_live(self, command: str) -> str:
        command = command.replace(README_API, self.run.api)
        command = re.sub(rf"\b{README_SMTP_PORT}\b", str(self.run.smtp_port), command)
        found = CA_PATH.search(command)
        if found:
            self.readme_ca = found.group(0)
            command = command.replace(found.group(0), self.run.exports["SMTP_PREFLIGHT_CA_FILE"])
        for shown, live in self.ids.items():
            command = command.replace(shown, live)
        return command

    def to_readme(self, output: str) -> str:
        output = output.replace(self.run.api, README_API)
        output = re.sub(rf"\b{self.run.smtp_port}\b", README_SMTP_PORT, output)
        if self.readme_ca:
            output = output.replace(self.run.exports["SMTP_PREFLIGHT_CA_FILE"], self.readme_ca)
        return "\n".join(line.rstrip() for line in output.replace("\r\n", "\n").split("\n")).rstrip("\n")

    def execute(self, command: str) -> str:
        env_file = self.workdir / "env"
        save_env = f"env -0 > {shlex.quote(str(env_file))}"
        script = f"(exit {self.last_status})\n{command}\n__status=$?\n{save_env}\nexit $__status\n"
        result = subprocess.run(  # noqa: S603 - the README's own examples
            ["/bin/bash", "-c", script],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.last_status = result.returncode
        if env_file.exists():
            pairs = (item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
            self.env = dict(pairs)
        return self.to_readme(result.stdout + result.stderr)

    def learn_ids(self, expected: str, actual: str) -> None:
        for pattern in (ULID, CURSOR):
            for shown, live in zip(pattern.findall(expected), pattern.findall(actual), strict=False):
                self.ids.setdefault(shown, live)


def normalised(text: str) -> str:
    text = ULID.sub("<ID>", CURSOR.sub("<CURSOR>", text))
    for pattern, stand_in in VOLATILE:
        text = pattern.sub(stand_in, text)
    return text


@pytest.fixture(scope="module")
def readme_run() -> Iterator[LocalRun]:
    with local_server() as run:
        yield run


def _environment() -> dict[str, str]:
    """A clean shell: the README's sessions run in English unless a command says otherwise (`LANG=it_IT…`)."""
    keep = ("PATH", "HOME", "TMPDIR", "SSL_CERT_FILE", *FAKE_CLOCK)
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(NO_COLOR="1", LANG="C.UTF-8")
    return env


def test_every_console_example_in_the_readme_runs_as_shown(readme_run: LocalRun) -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    assert not missing, f"the README's examples need {', '.join(missing)} on PATH"
    lines = README.read_text(encoding="utf-8").split("\n")
    found = list(sessions(lines))
    assert len(found) >= 3, "the README's sessions went missing"
    updating = bool(os.environ.get("README_UPDATE"))
    replacements: list[tuple[int, int, list[str]]] = []
    rewritten: dict[str, str] = {}  # ids of outputs rewritten in update mode: README id → this run's
    mismatches: list[str] = []
    with tempfile.TemporaryDirectory() as workdir:
        runner = Runner(readme_run, Path(workdir), _environment())
        for session in found:
            for command in session.commands:
                live = runner.to_live(command.text)
                known = dict(runner.ids)
                actual = runner.execute(live)
                for shown, live_id in known.items():  # ids the README already showed keep their names
                    actual = actual.replace(live_id, shown)
                expected = "\n".join(command.expected).rstrip("\n")
                runner.learn_ids(expected, actual)
                differs = normalised(actual) != normalised(expected)
                if differs:
                    mismatches.append(
                        f"README.md:{command.first_line + 1}: $ {command.text}\n"
                        f"--- README\n{expected}\n--- this run\n{actual}\n"
                    )
                if updating:  # keep what still matches; rewrite what does not (and the ids it showed)
                    text = command.text
                    for shown, live_id in rewritten.items():
                        text = text.replace(shown, live_id)
                    output = (actual.split("\n") if actual else []) if differs else command.expected
                    if differs:  # ids new in this output replace the README's in later commands
                        for pattern in (ULID, CURSOR):
                            pairs = zip(pattern.findall(expected), pattern.findall(actual), strict=False)
                            rewritten.update((shown, new) for shown, new in pairs if shown not in known)
                    replacements.append((command.first_line, command.last_line, [f"$ {text}", *output]))
    if updating:
        for start, end, new in reversed(replacements):
            lines[start:end] = new
        README.write_text("\n".join(lines), encoding="utf-8")
        return
    assert not mismatches, "\n".join(mismatches)
    _the_log_sample_is_what_make_run_printed(readme_run)


def _the_log_sample_is_what_make_run_printed(run: LocalRun) -> None:
    """The README's sample of `make run`'s log (a `text` block) shows lines these sessions printed."""
    readme = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^```text\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    shown = [line for block in blocks for line in block.splitlines() if " /v1/" in line]
    assert shown, "the README's sample of make run's log went missing"

    def masked(line: str) -> str:
        return re.sub(r"^\d\d:\d\d:\d\d", "HH:MM:SS", normalised(line.rstrip()))

    printed = {masked(line) for line in run.output}
    for line in shown:
        assert masked(line) in printed, f"make run never printed a line like: {line}"


def test_the_readme_shows_the_exports_make_run_prints(readme_run: LocalRun) -> None:
    readme = README.read_text(encoding="utf-8")
    shown = dict(re.findall(r"^\$ export (SMTP_PREFLIGHT_[A-Z_]+)=(\S+)$", readme, re.MULTILINE))

    assert set(shown) == set(readme_run.exports)
    assert shown["SMTP_PREFLIGHT_ALLOWED_NETWORKS"] == readme_run.exports["SMTP_PREFLIGHT_ALLOWED_NETWORKS"]
    ports = readme_run.exports["SMTP_PREFLIGHT_ALLOWED_PORTS"].replace(
        str(readme_run.smtp_port), README_SMTP_PORT
    )
    assert shown["SMTP_PREFLIGHT_ALLOWED_PORTS"] == ports
    assert CA_PATH.fullmatch(shown["SMTP_PREFLIGHT_CA_FILE"])
