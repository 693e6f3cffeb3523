"""Every `console` session in README.md and docs/*.md is run, against one real `make run` and the
installed CLI, and its output compared with what the file shows, so the manual cannot drift from the code.

A `console` block is a session: `$ command` lines (continued by a trailing backslash or an open quote),
each followed by the output it printed. Commands run in order in bash from the repository root, with
the environment (exports) carried from one to the next. `sh` blocks are instructions, not sessions. A
session preceded by `<!-- not replayed: reason -->` is skipped (it must be real output, and say why it
cannot run here).

The files are replayed in order, README.md first, then docs/*.md by name, against the same server. Each
file is self-contained: it starts in a fresh shell (its own exports, tokens and ids) and may rely only
on the state left by earlier sessions of the same file. What it stores on the shared server it keeps
apart (its own `settingsId`, or its own tenant through a token minted in the session), so a file reads,
and replays, the same whichever files ran before it.

What changes from run to run is matched, not compared: check ids and cursors (an id a file shows is
replaced, in its later commands, by the id this run produced), durations, timestamps, the throw-away
CA's names and path, the demo's ports (the files show `make run`'s defaults, 3000 and 2587) and the AWS
endpoint (shown as `MOTO_PORT=5055` makes it).

After a deliberate change of output, `make readme` (`README_UPDATE=1` for this test) rewrites, in every
file, the sessions whose output no longer matches from this run, and leaves the others alone (then read
the diff).
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
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]  # replayed in this order, one test each
NOT_REPLAYED = "<!-- not replayed:"  # before a session that cannot be replayed here, with the reason
README_API = "http://127.0.0.1:3000"
README_SMTP_PORT = "2587"
README_AWS = "http://127.0.0.1:5055"  # make run's moto endpoint, as the files show it (MOTO_PORT=5055)
AWS_ENDPOINT = re.compile(r"Events +bus \S+ at (http://127\.0\.0\.1:\d+)")
CA_PATH = re.compile(r"[^\s=]*/smtp-preflight-demo-[^/\s]+/demo-ca\.pem")
ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
CURSOR = re.compile(r"\beyJ[A-Za-z0-9_-]{20,}")
LOCALES = sorted(ROOT.glob("layers/smtp_preflight/smtp_preflight/**/locales/*.json"))
# Catalogue placeholders whose values follow the clock (or the run), in every language's wording.
CLOCK_PLACEHOLDERS = ("days_left", "not_after", "seconds", "retry_after", "duration_ms", "check_id")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5}


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
    # libfaketime's shared clock state, owned by the process that created it. It must be this long-lived
    # one's: a shell that creates its own removes it when it (or any subshell, `$(...)`) exits, and the
    # commands still running, or the next command's shell, then print sem_open errors.
    "FAKETIME_SHARED",
)

pytestmark = pytest.mark.timeout(120)

# One command in bash, with what the terminal held before it: the shell variables the sessions set
# (saved with `declare -p`, the shell's own left out; builtins only) and the environment (`env -0`, read
# back by Python).
SHELL_LINE = """__own=$'\\n'"$(compgen -v)"$'\\n'
if [ -f {variables} ]; then source {variables}; fi
(exit {status})
{command}
__status=$?
env -0 > {env_file}
__set=""
for __name in $(compgen -v); do
  [[ $__own == *$'\\n'"$__name"$'\\n'* || $__name == __* ]] && continue
  __set="$__set $__name"
done
if [ -n "$__set" ]; then declare -p $__set > {variables}; fi
exit $__status
"""


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


def sessions(lines: list[str], name: str = "README.md") -> Iterator[Session]:
    """A file's `console` blocks, parsed into commands and their expected output."""
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
                pytest.fail(f"{name}:{index}: say why this session is not replayed")
        elif info == "console":
            session = Session(info)
            i = index + 1
            while i < end:
                if not lines[i].startswith("$ "):
                    pytest.fail(f"{name}:{i + 1}: output before any command in a console block")
                start = i
                text = lines[i][2:]
                while not _complete(text):
                    i += 1
                    if i >= end:
                        pytest.fail(f"{name}:{start + 1}: the command never ends (an open quote?)")
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

    @property
    def aws(self) -> str:
        found = AWS_ENDPOINT.search(self.run.text)
        assert found, "make run's banner no longer names its AWS endpoint"
        return found.group(1)

    def to_live(self, command: str) -> str:
        command = command.replace(README_API, self.run.api).replace(README_AWS, self.aws)
        command = re.sub(rf"\b{README_SMTP_PORT}\b", str(self.run.smtp_port), command)
        found = CA_PATH.search(command)
        if found:
            self.readme_ca = found.group(0)
            command = command.replace(found.group(0), self.run.exports["SMTP_PREFLIGHT_CA_FILE"])
        for shown, live in self.ids.items():
            command = command.replace(shown, live)
        return command

    def to_readme(self, output: str) -> str:
        output = output.replace(self.run.api, README_API).replace(self.aws, README_AWS)
        output = re.sub(rf"\b{self.run.smtp_port}\b", README_SMTP_PORT, output)
        if self.readme_ca:
            output = output.replace(self.run.exports["SMTP_PREFLIGHT_CA_FILE"], self.readme_ca)
        return "\n".join(line.rstrip() for line in output.replace("\r\n", "\n").split("\n")).rstrip("\n")

    def execute(self, command: str) -> str:
        """Run one command as the next line of the same terminal: exports, shell variables
        (`TOKEN=$(...)`) and `$?` carry over from the commands before it."""
        env_file, variables = self.workdir / "env", self.workdir / "variables"
        script = SHELL_LINE.format(
            variables=shlex.quote(str(variables)),
            status=self.last_status,
            command=command,
            env_file=shlex.quote(str(env_file)),
        )
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
            self.env = {key: value for key, value in pairs if key not in FAKE_CLOCK}
            self.env |= {key: os.environ[key] for key in FAKE_CLOCK if key in os.environ}
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


def _name(document: Path) -> str:
    return document.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("document", DOCUMENTS, ids=_name)
def test_every_console_session_runs_as_shown(readme_run: LocalRun, document: Path) -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    assert not missing, f"the sessions need {', '.join(missing)} on PATH"
    name = _name(document)
    lines = document.read_text(encoding="utf-8").split("\n")
    found = list(sessions(lines, name))
    if document == README:
        assert found, "the README's worked example went missing"
    updating = bool(os.environ.get("README_UPDATE"))
    replacements: list[tuple[int, int, list[str]]] = []
    rewritten: dict[str, str] = {}  # ids of outputs rewritten in update mode: shown id → this run's
    mismatches: list[str] = []
    with tempfile.TemporaryDirectory() as workdir:
        runner = Runner(readme_run, Path(workdir), _environment())
        for session in found:
            for command in session.commands:
                live = runner.to_live(command.text)
                known = dict(runner.ids)
                actual = runner.execute(live)
                for shown, live_id in known.items():  # ids the file already showed keep their names
                    actual = actual.replace(live_id, shown)
                expected = "\n".join(command.expected).rstrip("\n")
                runner.learn_ids(expected, actual)
                differs = normalised(actual) != normalised(expected)
                if differs:
                    mismatches.append(
                        f"{name}:{command.first_line + 1}: $ {command.text}\n"
                        f"--- {name}\n{expected}\n--- this run\n{actual}\n"
                    )
                if updating:  # keep what still matches; rewrite what does not (and the ids it showed)
                    text = command.text
                    for shown, live_id in rewritten.items():
                        text = text.replace(shown, live_id)
                    output = (actual.split("\n") if actual else []) if differs else command.expected
                    if differs:  # ids new in this output replace the file's in later commands
                        for pattern in (ULID, CURSOR):
                            pairs = zip(pattern.findall(expected), pattern.findall(actual), strict=False)
                            rewritten.update((shown, new) for shown, new in pairs if shown not in known)
                    replacements.append((command.first_line, command.last_line, [f"$ {text}", *output]))
    if updating:
        for start, end, new in reversed(replacements):
            lines[start:end] = new
        document.write_text("\n".join(lines), encoding="utf-8")
        return
    assert not mismatches, "\n".join(mismatches)


def test_the_log_samples_are_what_make_run_printed(readme_run: LocalRun) -> None:
    """The samples of `make run`'s log (`text` blocks) show lines the sessions above made it print
    (this test runs after them, on the same server)."""
    text = "\n".join(document.read_text(encoding="utf-8") for document in DOCUMENTS)
    blocks = re.findall(r"^```text\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    shown = [line for block in blocks for line in block.splitlines() if " /v1/" in line]
    assert shown, "the sample of make run's log went missing"

    def masked(line: str) -> str:
        return re.sub(r"^\d\d:\d\d:\d\d", "HH:MM:SS", normalised(line.rstrip()))

    printed = {masked(line) for line in readme_run.output}
    for line in shown:
        assert masked(line) in printed, f"make run never printed a line like: {line}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=_name)
def test_the_exports_shown_are_the_ones_make_run_prints(readme_run: LocalRun, document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    shown = dict(re.findall(r"^\$ export (SMTP_PREFLIGHT_[A-Z_]+)=(\S+)$", text, re.MULTILINE))
    counted = re.findall(r"\b(two|three|four|five)\b(?: as)? `export", text)  # "the three `export` lines"
    assert [NUMBERS[word] for word in counted] == [len(readme_run.exports)] * len(counted)
    if document == README:
        assert shown, "the README's worked example lost make run's export lines"
    if not shown:
        return
    assert set(shown) == set(readme_run.exports)
    assert shown["SMTP_PREFLIGHT_ALLOWED_NETWORKS"] == readme_run.exports["SMTP_PREFLIGHT_ALLOWED_NETWORKS"]
    ports = readme_run.exports["SMTP_PREFLIGHT_ALLOWED_PORTS"].replace(
        str(readme_run.smtp_port), README_SMTP_PORT
    )
    assert shown["SMTP_PREFLIGHT_ALLOWED_PORTS"] == ports
    assert CA_PATH.fullmatch(shown["SMTP_PREFLIGHT_CA_FILE"])
