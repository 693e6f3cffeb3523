"""The `smtp-preflight` command line: check SMTP settings and explain the result (`check`), or find
the settings for an address (`suggest`, in `cli/suggest.py`). Words come from the catalogues in the
language of `--lang`, else of the POSIX locale (`LC_ALL`, `LC_MESSAGES`, `LANG`).

Secrets are never accepted as plain arguments (they would land in shell history and `ps`): the
password or token comes from a named environment variable, from standard input, or (on a terminal)
from a prompt that does not echo. While the handshake runs, a terminal on stderr shows the stage
being attempted. Exit status: 0 passed or warning, 1 failed, 2 invalid invocation, settings or
configuration, 130 interrupted (Ctrl-C); every error path is in `cli.errors`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from pydantic import ValidationError

from smtp_preflight import __version__
from smtp_preflight.checking.check import run_check
from smtp_preflight.cli.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CliError,
    ErrorCode,
    FieldProblem,
    run_guarded,
    wants_json,
)
from smtp_preflight.cli.suggest import SUGGEST_EPILOG
from smtp_preflight.config.policy import DEFAULT_ALLOWED_PORTS, ConfigError, Policy
from smtp_preflight.model.codes import Severity
from smtp_preflight.model.findings import Finding, Status
from smtp_preflight.model.input_errors import describe_error
from smtp_preflight.model.localise import localise_report
from smtp_preflight.model.progress import StageObserver
from smtp_preflight.model.report import CheckScope, Report, Stage, StageName
from smtp_preflight.model.settings import (
    DEFAULT_TIMEOUT_SECONDS,
    MAX_TIMEOUT_SECONDS,
    MIN_TIMEOUT_SECONDS,
    AuthMethod,
    Security,
    SmtpSettings,
)
from smtp_preflight.safe_text import printable
from smtp_preflight.wording import i18n

EXIT_OK, EXIT_FAILED = 0, 1
SECRET_OPTIONS = "--password-env VAR, --password-stdin or --oauth-token-env VAR"  # noqa: S105 - names

Prompt = Callable[[str], str]

CHECK_EPILOG = f"""\
The password is never an argument: use --password-env VAR, --password-stdin (on a terminal: a prompt
that does not echo), or --oauth-token-env VAR for an XOAUTH2 access token. Without any of them, a
check that connects asks for the password on a terminal.

exit status:
  {EXIT_OK}    passed or warning
  {EXIT_FAILED}    failed (the findings say what to fix and who must act)
  {EXIT_USAGE}    invalid invocation, settings or SMTP_PREFLIGHT_* variable (named on stderr; with
       --json, stdout holds {{"error": {{"code", "message", "fields"}}}})
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)
  {EXIT_BROKEN_PIPE}  the reader of the output went away (e.g. | head); nothing more is printed

environment (the operator's policy; checking real servers needs none of these):
  SMTP_PREFLIGHT_ALLOWED_PORTS     ports that may be dialled, comma-separated
                                   (default {",".join(str(port) for port in sorted(DEFAULT_ALLOWED_PORTS))})
  SMTP_PREFLIGHT_ALLOWED_NETWORKS  CIDRs exempted from the public-address guard (tests and local runs;
                                   default none)
  SMTP_PREFLIGHT_CA_FILE           extra trusted CA certificates (PEM files, separated by ':')
  SMTP_PREFLIGHT_DNS_SERVERS       resolvers for MX lookups, e.g. 9.9.9.9,1.1.1.1 (default: the system's)
  LC_ALL, LC_MESSAGES, LANG        the language of messages when --lang is not given
  NO_COLOR                         no colour, even on a terminal
"""


class UsageError(CliError):
    """The invocation cannot be turned into settings; the message is shown as is."""

    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(ErrorCode.INVALID_INVOCATION, message, usage=usage)


class Parser(argparse.ArgumentParser):
    """argparse whose errors are `UsageError`s, so that they too honour `--json` (argparse itself
    prints plain text and exits)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, usage=self.format_usage())


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="smtp-preflight",
        description="Check SMTP settings (host, port, TLS, login) before anyone relies on them.",
        epilog="`smtp-preflight check --help` lists the options, exit codes and environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check",
        help="check one set of SMTP settings",
        description="Evaluate provider rules, then attempt the real SMTP handshake (unless --no-connect).",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("--host", required=True, help="SMTP server host name, e.g. smtp.gmail.com")
    check.add_argument("--port", required=True, type=int, help="587 (STARTTLS) or 465 (TLS)")
    check.add_argument("--security", required=True, choices=[s.value for s in Security])
    check.add_argument("--username", help="login name, usually the full e-mail address")
    secret = check.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-env", metavar="VAR", help="read the password from environment variable VAR"
    )
    secret.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (a terminal prompts without echo)",
    )
    secret.add_argument(
        "--oauth-token-env", metavar="VAR", help="read an OAuth 2.0 access token (XOAUTH2) from variable VAR"
    )
    check.add_argument("--from", dest="from_address", metavar="ADDR", help="the From address to send as")
    check.add_argument(
        "--test-recipient", metavar="ADDR", help="also submit a real test message to this address"
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"overall deadline, {MIN_TIMEOUT_SECONDS:g} to {MAX_TIMEOUT_SECONDS:g} seconds"
        f" (default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    check.add_argument(
        "--connection-only",
        action="store_true",
        help="check the connection, TLS and the login methods offered, without logging in (no password)",
    )
    check.add_argument(
        "--allow-lookalike-host",
        action="store_true",
        help="log in even if the host looks like an imitation of a provider's server (the report says so)",
    )
    check.add_argument("--no-connect", action="store_true", help="only evaluate the rules, do not connect")
    check.add_argument("--json", action="store_true", help="print exactly one JSON report on stdout")
    _add_lang(check)
    suggest = commands.add_parser(
        "suggest",
        help="suggest SMTP settings for an e-mail address",
        description="Find the SMTP server, port, security and login for an address.",
        epilog=SUGGEST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    suggest.add_argument("email", metavar="EMAIL", help="the address that will send, e.g. ada@example.com")
    suggest.add_argument("--json", action="store_true", help="print the suggestion as JSON")
    _add_lang(suggest)
    return parser


def _add_lang(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--lang",
        choices=i18n.LOCALES,
        help="language of messages and advice (default: from LC_ALL, LC_MESSAGES or LANG, else en)",
    )


def chosen_locale(args: argparse.Namespace, environ: dict[str, str]) -> str:
    """`--lang`, else the POSIX locale variables, else English."""
    return str(args.lang) if args.lang else i18n.locale_from_environ(environ)


def settings_from_args(
    args: argparse.Namespace, stdin: TextIO, environ: dict[str, str], prompt: Prompt | None = None
) -> SmtpSettings:
    """Assemble the settings; raises UsageError for missing secrets, ValidationError for bad values.

    The password comes from a named variable, standard input, or, when standard input is a terminal,
    from `prompt` (no echo). A check that logs in needs one; a rules-only check (`--no-connect`) and a
    connection-only check (`--connection-only`, which takes none) do not.
    """
    secret_given = bool(args.password_env or args.oauth_token_env or args.password_stdin)
    if args.connection_only and secret_given:
        raise UsageError("--connection-only takes no password or token: it never logs in")
    data: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "security": args.security,
        "username": args.username,
        "fromAddress": args.from_address,
        "testRecipient": args.test_recipient,
        "timeout": args.timeout,
        "allowLookalikeHost": args.allow_lookalike_host or None,
        "connectionOnly": args.connection_only or None,
    }
    if args.password_env:
        data["password"] = _from_env(environ, args.password_env)
    elif args.oauth_token_env:
        data["authMethod"] = AuthMethod.XOAUTH2.value
        data["oauthToken"] = _from_env(environ, args.oauth_token_env)
    elif args.password_stdin or not (args.no_connect or args.connection_only):
        data["password"] = _password_from(stdin, prompt or getpass.getpass, args, asked=args.password_stdin)
    return SmtpSettings.model_validate({key: value for key, value in data.items() if value is not None})


def _password_from(stdin: TextIO, prompt: Prompt, args: argparse.Namespace, *, asked: bool) -> str:
    """The password from a no-echo prompt on a terminal, else (only if asked for) from a piped stdin."""
    if _is_terminal(stdin):
        try:
            password = prompt(f"Password for {args.username or args.host}: ")
        except EOFError:  # Ctrl-D; Ctrl-C interrupts the command (exit 130)
            raise UsageError(f"no password entered (or use {SECRET_OPTIONS})") from None
    elif asked:
        password = stdin.readline().rstrip("\r\n")
    else:
        raise UsageError(
            f"no password: use {SECRET_OPTIONS} (or --connection-only to check without logging in, "
            "or --no-connect to evaluate the rules only)"
        )
    if not password:
        raise UsageError(f"the password is empty (use {SECRET_OPTIONS})")
    return password


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def _from_env(environ: dict[str, str], name: str) -> str:
    value = environ.get(name)
    if not value:
        raise UsageError(f"environment variable {name} is not set or empty")
    return value


def settings_problems(error: ValidationError, locale: str) -> list[FieldProblem]:
    """One problem per invalid field, named in words in `locale` (and, for scripts, as in the JSON
    contract), without ever echoing the input."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(_camel(str(part)) for part in item["loc"]) or None
        label = i18n.text(f"field.{field}", locale) if i18n.has(f"field.{field}") else field or ""
        problems.append(FieldProblem(field=field, label=label, problem=describe_error(item)))
    return problems


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def main(argv: Sequence[str] | None = None) -> int:
    """The `smtp-preflight` command; every way it can fail ends in `cli.errors.run_guarded`."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    return run_guarded(lambda: _run(arguments), as_json=wants_json(arguments))


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    locale = chosen_locale(args, dict(os.environ))
    if args.command == "suggest":
        from smtp_preflight.cli.suggest import run_suggest

        return run_suggest(args.email, locale=locale, as_json=args.json)
    try:
        policy = Policy.from_env()
    except ConfigError as exc:
        raise CliError(ErrorCode.INVALID_CONFIGURATION, str(exc)) from None
    try:
        settings = settings_from_args(args, sys.stdin, dict(os.environ))
    except ValidationError as exc:
        problems = settings_problems(exc, locale)
        raise CliError(ErrorCode.INVALID_SETTINGS, "invalid settings", fields=problems) from None
    progress = TerminalProgress(sys.stderr, locale) if wants_progress(sys.stderr) else None
    try:
        checked = run_check(settings, connect=not args.no_connect, policy=policy, observer=progress)
    finally:
        if progress is not None:
            progress.clear()
    report = localise_report(checked, locale)
    if args.json:
        print(json.dumps(report.to_json_dict(), indent=2))
    else:
        print(render_text(report, colour=_wants_colour(sys.stdout), locale=locale))
    return EXIT_FAILED if report.status is Status.FAILED else EXIT_OK


def _wants_colour(stream: TextIO) -> bool:
    return _is_terminal(stream) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def wants_progress(stream: TextIO) -> bool:
    """Progress only for a person watching a terminal that can rewrite its line."""
    return _is_terminal(stream) and os.environ.get("TERM") != "dumb"


class TerminalProgress(StageObserver):
    """One line on a terminal, rewritten as the handshake moves on (`connecting…`), in `locale`."""

    def __init__(self, stream: TextIO, locale: str = i18n.DEFAULT_LOCALE) -> None:
        self.stream = stream
        self.locale = locale
        self.shown = False

    def on_stage_started(self, stage: StageName) -> None:
        self.stream.write(f"\r\033[K{i18n.text(f'progress.{stage.value}', self.locale)}…")
        self.stream.flush()
        self.shown = True

    def on_stage_finished(self, stage: Stage) -> None:
        return None  # the next stage (or the report) replaces the line

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


_COLOURS = {"red": "31", "yellow": "33", "green": "32", "dim": "2", "bold": "1"}
_STATUS_STYLE = {Status.PASSED: ("✓", "green"), Status.WARNING: ("!", "yellow"), Status.FAILED: ("✗", "red")}
_SCOPE_NOTES = {CheckScope.CONNECTION: "ui.scope_connection"}
_SEVERITY_STYLE = {
    Severity.ERROR: ("✗", "red"),
    Severity.WARNING: ("!", "yellow"),
    Severity.INFO: ("i", "dim"),
}


def render_text(report: Report, *, colour: bool = False, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A report for people, in `locale`: verdict, what was checked, each finding with who acts and
    what to do. Findings are worded from their codes and params, whatever language they were made in."""
    report = localise_report(report, locale)

    def paint(text: str, style: str) -> str:
        return f"\033[{_COLOURS[style]}m{text}\033[0m" if colour else text

    def say(key: str, **params: object) -> str:
        return i18n.text(key, locale, **params)

    p = printable  # every string from the report is escaped again: the terminal never gets a raw control
    settings = report.settings
    mark, style = _STATUS_STYLE[report.status]
    verdict = f"{mark} {say(f'status.{report.status.value}')}"
    if report.scope in _SCOPE_NOTES:  # a passed check that proves less than a login says so at once
        verdict += f" ({say(_SCOPE_NOTES[report.scope])})"
    lines = [
        f"{paint(verdict, style)}  {p(str(settings['host']))}:{p(str(settings['port']))}"
        f" ({p(str(settings['security']))}) · {p(report.provider.name)}",
        paint(say("ui.check", check_id=p(report.check_id), duration_ms=report.duration_ms), "dim"),
    ]
    handshake = report.handshake
    if handshake is not None and handshake.attempted:
        lines.append("")
        address = handshake.address
        lines.append(say("ui.handshake_via", address=p(address)) if address else say("ui.handshake"))
        names = [say(f"stage.{stage.name.value}") for stage in handshake.stages]
        width = max((len(name) for name in names), default=0)
        for stage, name in zip(handshake.stages, names, strict=True):
            ok = paint("✓", "green") if stage.ok else paint("✗", "red")
            reply = f"  {stage.reply.code} {p(stage.reply.text)}" if stage.reply else ""
            lines.append(f"  {ok} {name:<{width}} {stage.duration_ms:>5} ms{reply}")
        if handshake.tls is not None:
            tls = handshake.tls
            lines.append(f"  TLS {p(tls.version)}, {p(tls.cipher)}")
            if tls.certificate is not None:
                cert = tls.certificate
                names_text = p(", ".join(cert.sans) or cert.subject)
                lines.append(
                    "  "
                    + say("ui.certificate", names=names_text, issuer=p(cert.issuer), days_left=cert.days_left)
                )
        if handshake.auth_mechanisms:
            lines.append("  " + say("ui.login_methods", mechanisms=p(" ".join(handshake.auth_mechanisms))))
    if report.findings:
        lines.append("")
    for finding in report.findings:
        mark, mark_style = _SEVERITY_STYLE[finding.severity]
        blame = _blame(finding, locale)
        heading = f"{paint(mark, mark_style)} {paint(p(finding.code), 'bold')}"
        lines.append(f"{heading}  {paint(blame, 'dim')}" if blame else heading)
        lines.append(f"  {p(finding.message)}")
        lines.append(f"  → {p(finding.advice)}")
    return "\n".join(lines)


def _blame(finding: Finding, locale: str) -> str:
    """`[field · who must act]`; information needs nobody to act, so it names only the field."""
    parts = [i18n.text(f"field.{finding.field.value}", locale)] if finding.field else []
    if finding.severity is not Severity.INFO:
        parts.append(i18n.text(f"actor.{finding.actor.value}", locale))
    return f"[{' · '.join(parts)}]" if parts else ""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
