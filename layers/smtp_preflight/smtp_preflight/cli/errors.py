"""How every command of the CLI ends when it cannot do its job: one exit status, and one message in
the output mode asked for.

Every error path goes through `run_guarded`, so no traceback ever reaches a person:
- an error the command raises (`CliError`): its lines on stderr, or with `--json` one error object on
  stdout (`{"error": {"code", "message", "fields"}}`, the API's error shape), so a script that parses
  stdout never meets plain text; exit 2;
- Ctrl-C: one line, exit 130 (128 + SIGINT, what shells report for an interrupted command);
- the reader of stdout gone (`| head`): silence, exit 141 (128 + SIGPIPE, what a shell reports for
  a command the pipe stopped); stdout is pointed at /dev/null so that the interpreter's last flush at
  exit cannot print "BrokenPipeError" either;
- a terminal whose encoding cannot show a character (✓ on an ASCII terminal): `?` in its place.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class ErrorCode(StrEnum):
    """What went wrong, for scripts (stable, like the API's error codes)."""

    INVALID_INVOCATION = "INVALID_INVOCATION"  # options, or a secret that could not be read
    INVALID_SETTINGS = "INVALID_SETTINGS"  # the SMTP settings given are not valid
    INVALID_CONFIGURATION = "INVALID_CONFIGURATION"  # an SMTP_PREFLIGHT_* variable is malformed
    INVALID_ADDRESS = "INVALID_ADDRESS"  # `suggest` was not given an e-mail address
    INTERRUPTED = "INTERRUPTED"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str | None  # the camelCase name of the JSON contract, for scripts; None: the settings as a whole
    label: str  # the field in words, in the person's language ("" for the settings as a whole)
    problem: str


class CliError(Exception):
    """A command cannot go on; `message` is one line for people (never a secret)."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        fields: Sequence[FieldProblem] = (),
        status: int = EXIT_USAGE,
        usage: str = "",
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.fields, self.status, self.usage = code, message, fields, status, usage

    def lines(self) -> list[str]:
        """The error as `smtp-preflight` prints it on stderr."""
        if self.fields:
            return [
                f"smtp-preflight: {self.message}: {item.label + ': ' if item.label else ''}{item.problem}"
                for item in self.fields
            ]
        return [f"smtp-preflight: error: {self.message}"]

    def to_json_dict(self) -> dict[str, object]:
        return {
            "error": {
                "code": self.code.value,
                "message": self.message,
                "fields": [{"field": item.field, "message": item.problem} for item in self.fields],
            }
        }


def wants_json(argv: Sequence[str]) -> bool:
    """Whether `--json` (or an abbreviation argparse accepts) was given, before the options are parsed:
    a malformed invocation still answers in the mode asked for."""
    options = argv[: list(argv).index("--")] if "--" in argv else argv
    return any(len(item) > 2 and "--json".startswith(item) for item in options)


def run_guarded(command: Callable[[], int], *, as_json: bool) -> int:
    """`command`'s exit status, with every way it can fail turned into a message and a status."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
    try:
        try:
            status = command()
        except CliError as error:
            status = report(error, as_json=as_json)
        except KeyboardInterrupt:
            status = report(
                CliError(ErrorCode.INTERRUPTED, "interrupted", status=EXIT_INTERRUPTED), as_json=as_json
            )
        except SystemExit as done:  # --help and --version: what they printed is flushed below too
            status = done.code if isinstance(done.code, int) else EXIT_USAGE
        sys.stdout.flush()  # inside the guard: a reader gone is found out here, not at exit
        return status
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


def report(error: CliError, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(error.to_json_dict(), indent=2, ensure_ascii=False))
    elif error.usage:
        sys.stderr.write(error.usage)
    for line in error.lines():
        print(line, file=sys.stderr)
    return error.status
