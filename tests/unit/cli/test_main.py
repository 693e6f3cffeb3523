"""The `smtp-preflight` command line: arguments, secrets, output formats and exit codes."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from local.oauth_token import microsoft_claims, mint_jwt
from smtp_preflight import __version__
from smtp_preflight.cli.main import TerminalProgress, main, wants_progress
from smtp_preflight.cli.suggest import SOURCES
from smtp_preflight.discovery import Source
from smtp_preflight.model.report import Stage, StageName
from tests.support.canary import assert_no_canary

SECRET = "s3cret-app-password"
BASE = ["check", "--host", "smtp.gmail.com", "--port", "587", "--security", "starttls", "--no-connect"]


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMTP_PREFLIGHT_ALLOWED_PORTS", "SMTP_PREFLIGHT_ALLOWED_NETWORKS", "SMTP_PREFLIGHT_CA_FILE",
                 "LC_ALL", "LC_MESSAGES", "LANG"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    monkeypatch.setenv("SMTP_PREFLIGHT_DNS_SERVERS", "127.0.0.1#9")  # no real DNS from tests: nothing answers


def test_json_output_is_exactly_one_report(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [*BASE, "--username", "ada@gmail.com", "--password-env", "SMTP_PASSWORD", "--json"]
    code, out, _ = run(argv, capsys, monkeypatch)
    report = json.loads(out)
    assert code == 0
    assert report["status"] == "passed"
    assert [f["code"] for f in report["findings"]] == ["GMAIL_AUTH_REQUIREMENTS"]
    assert SECRET not in out


def test_password_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = [*BASE, "--username", "ada@gmail.com", "--password-stdin", "--json"]
    code, out, _ = run(argv, capsys, monkeypatch, stdin=SECRET + "\n")
    assert code == 0
    assert json.loads(out)["settings"]["hasSecret"] is True
    assert SECRET not in out


def test_failed_check_exits_1_and_explains_for_people(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["check", "--host", "smtp-relay.gmail.com", "--port", "25", "--security", "none", "--no-connect",
            "--username", "ada@gmail.com", "--password-env", "SMTP_PASSWORD"]  # fmt: skip
    code, out, _ = run(argv, capsys, monkeypatch)
    assert code == 1
    assert out.startswith("✗ FAILED  smtp-relay.gmail.com:25 (none)")
    for expected in (
        "GMAIL_SMTP_RELAY_UNSUPPORTED",
        "PORT_25_BLOCKED",
        "TLS_REQUIRED",
        "→ Use smtp.gmail.com",
    ):
        assert expected in out
    assert "\033[" not in out  # no colour when not a terminal


def test_warning_exits_0(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["check", "--host", "smtp.office365.com", "--port", "587", "--security", "starttls",
            "--no-connect", "--username", "ada@contoso.com", "--password-env", "SMTP_PASSWORD"]  # fmt: skip
    code, out, _ = run(argv, capsys, monkeypatch)
    assert code == 0
    assert out.startswith("! WARNING")
    assert "M365_BASIC_AUTH_RETIRING" in out


def test_invalid_settings_exit_2_naming_the_field(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["check", "--host", "smtp.gmail.com:587", "--port", "587", "--security", "starttls",
            "--no-connect", "--from", "not-an-address", "--password-env", "SMTP_PASSWORD"]  # fmt: skip
    code, out, err = run(argv, capsys, monkeypatch)
    assert code == 2
    assert out == ""
    assert "invalid settings: host:" in err
    assert "invalid settings: From address:" in err  # words, as in the findings' [field · actor]
    assert SECRET not in err


def test_missing_secret_variable_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run([*BASE, "--password-env", "NOT_SET_ANYWHERE"], capsys, monkeypatch)
    assert code == 2
    assert "NOT_SET_ANYWHERE is not set" in err


@pytest.mark.parametrize(
    "extra",
    [
        ["--password", SECRET],  # a password as a plain argument is not accepted at all
        ["--password-env", "SMTP_PASSWORD", "--password-stdin"],
        ["--security", "ssl"],
        ["--port", "five"],
    ],
)
def test_invalid_invocations_exit_2(
    extra: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run([*BASE, *extra], capsys, monkeypatch)
    assert code == 2
    assert out == ""


def test_oauth_token_selects_xoauth2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = mint_jwt(microsoft_claims(user="ada@contoso.com"))
    monkeypatch.setenv("M365_TOKEN", token)
    argv = ["check", "--host", "smtp.office365.com", "--port", "587", "--security", "starttls",
            "--no-connect", "--username", "ada@contoso.com", "--oauth-token-env", "M365_TOKEN",
            "--json"]  # fmt: skip
    code, out, _ = run(argv, capsys, monkeypatch)
    report = json.loads(out)
    assert code == 0
    assert report["settings"]["authMethod"] == "xoauth2"
    assert "M365_BASIC_AUTH_RETIRING" not in {f["code"] for f in report["findings"]}
    assert_no_canary(out, token, where="CLI JSON")


def test_without_connecting_the_token_is_still_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = mint_jwt(microsoft_claims(user="bob@contoso.com", scp="Mail.Send"))
    monkeypatch.setenv("M365_TOKEN", token)
    argv = ["check", "--host", "smtp.office365.com", "--port", "587", "--security", "starttls",
            "--no-connect", "--username", "ada@contoso.com", "--oauth-token-env", "M365_TOKEN",
            "--lang", "de"]  # fmt: skip
    code, out, _ = run(argv, capsys, monkeypatch)
    assert code == 1
    assert "OAUTH_TOKEN_MISSING_SCOPE" in out
    assert "OAUTH_TOKEN_WRONG_USER" in out
    assert "Die Anmeldung wurde nicht versucht." in out
    assert_no_canary(out, token, where="CLI text")


def test_console_script_is_installed() -> None:
    script = shutil.which("smtp-preflight") or str(Path(sys.executable).with_name("smtp-preflight"))
    result = subprocess.run(  # noqa: S603 - our own console script
        [script, *BASE, "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1  # no credentials given
    assert {f["code"] for f in json.loads(result.stdout)["findings"]} >= {"CREDENTIALS_MISSING"}


# ----- smtp-preflight suggest ----------------------------------------------------------------------------


def test_suggest_prints_the_settings_in_the_chosen_language(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["suggest", "ada@web.de", "--lang", "de"], capsys, monkeypatch)
    assert code == 0
    assert out.splitlines()[:3] == [
        "Empfohlene Einstellungen für ada@web.de",
        "  Server: smtp.web.de  Port: 587  Verschlüsselung: starttls",
        "  Anmeldung: ada@web.de mit dem Passwort des Postfachs",
    ]
    assert "POP3/IMAP" in out  # WEB.DE wants app access switched on first


def test_suggest_json_and_unknown_domains(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, loopback_dns: Any
) -> None:
    monkeypatch.setenv("SMTP_PREFLIGHT_DNS_SERVERS", f"127.0.0.1#{loopback_dns.port}")
    loopback_dns.zone.mx["cli-ionos.example.net"] = [(10, "mx00.ionos.de")]
    code, out, _ = run(["suggest", "ada@cli-ionos.example.net", "--json"], capsys, monkeypatch)
    assert code == 0
    assert json.loads(out)["host"] == "smtp.ionos.de"

    code, out, _ = run(["suggest", "ada@unknown-cli.example.net"], capsys, monkeypatch)
    assert code == 1
    assert out.startswith("No suggestion for ada@unknown-cli.example.net.")


def test_suggest_refuses_what_is_not_an_address(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(["suggest", "no-at-sign"], capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert "not a valid e-mail address" in err


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_version(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(["--version"], capsys, monkeypatch)

    assert code == 0
    assert out == f"smtp-preflight {__version__}\n"


def test_help_lists_the_timeout_range_exit_codes_and_variables(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["check", "--help"], capsys, monkeypatch)

    assert code == 0
    assert "overall deadline, 1 to 60 seconds (default 20)" in out
    for line in (
        "0    passed or warning",
        "1    failed",
        "2    invalid invocation, settings",
        "130  interrupted",
        "141  the reader",
    ):
        assert line in out
    for variable in (
        "SMTP_PREFLIGHT_ALLOWED_PORTS",
        "SMTP_PREFLIGHT_ALLOWED_NETWORKS",
        "SMTP_PREFLIGHT_CA_FILE",
    ):
        assert variable in out
    assert "default 25,465,587,2525" in out


def test_no_password_without_a_terminal_names_every_way_to_give_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a check that would connect, no secret option, and stdin that is not a terminal
    argv = ["check", "--host", "smtp.gmail.com", "--port", "587", "--security", "starttls",
            "--username", "ada@gmail.com"]  # fmt: skip

    code, out, err = run(argv, capsys, monkeypatch)

    assert code == 2
    assert out == ""
    for option in ("--password-env", "--password-stdin", "--oauth-token-env"):
        assert option in err


@pytest.mark.parametrize("option", [[], ["--password-stdin"]])
def test_a_terminal_is_asked_for_the_password_without_echo(
    option: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return SECRET

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    argv = ["check", "--host", "smtp.gmail.com", "--port", "25", "--security", "starttls",
            "--username", "ada@gmail.com", *option, "--json"]  # fmt: skip

    code = main(argv)  # port 25 is a rule error: nothing is dialled
    out, _ = capsys.readouterr()

    assert code == 1
    assert prompts == ["Password for ada@gmail.com: "]
    assert json.loads(out)["settings"]["hasSecret"] is True
    assert SECRET not in out


def test_an_empty_or_abandoned_prompt_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def abandoned(prompt: str) -> str:
        raise EOFError  # Ctrl-D

    monkeypatch.setattr("getpass.getpass", abandoned)
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    code = main([*BASE[:-1], "--username", "ada@gmail.com", "--password-stdin"])
    assert code == 2
    assert "no password entered" in capsys.readouterr().err

    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    assert main([*BASE[:-1], "--username", "ada@gmail.com"]) == 2
    assert "the password is empty" in capsys.readouterr().err


def test_a_rules_only_check_needs_no_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run([*BASE, "--username", "ada@gmail.com", "--json"], capsys, monkeypatch)

    assert code == 1
    assert "CREDENTIALS_MISSING" in {finding["code"] for finding in json.loads(out)["findings"]}


def test_terminal_progress_names_each_stage_and_clears_its_line() -> None:
    terminal = FakeTerminal()
    progress = TerminalProgress(terminal)

    progress.on_stage_started(StageName.CONNECT)
    progress.on_stage_finished(Stage(name=StageName.CONNECT, ok=True, duration_ms=3))
    progress.on_stage_started(StageName.AUTH)
    progress.clear()

    assert terminal.getvalue() == "\r\033[Kconnecting…\r\033[Klogging in…\r\033[K"


def test_terminal_progress_speaks_the_chosen_language() -> None:
    terminal = FakeTerminal()

    TerminalProgress(terminal, "it").on_stage_started(StageName.AUTH)

    assert terminal.getvalue() == "\r\033[Kaccesso in corso…"


def test_no_progress_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not wants_progress(io.StringIO())
    monkeypatch.setenv("TERM", "dumb")
    assert not wants_progress(FakeTerminal())


def test_suggest_help_lists_every_source_its_exit_codes_and_variables(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["suggest", "--help"], capsys, monkeypatch)

    assert code == 0
    assert set(SOURCES) == {source.value for source in Source} - {Source.UNKNOWN.value}
    for source in SOURCES:
        assert f"  {source} " in out
    for line in (
        "0    settings found",
        "1    nothing is known",
        "2    not an e-mail address",
        "130  interrupted",
    ):
        assert line in out
    assert "SMTP_PREFLIGHT_DNS_SERVERS" in out


# ----- every error path, in every output mode --------------------------------------------------------

CHECK = ["check", "--host", "smtp.gmail.com", "--port", "587", "--security", "starttls"]


class Refusal(NamedTuple):
    argv: list[str]
    environ: dict[str, str]
    code: str  # the JSON error's code
    named: str  # what the message must name


CA = "SMTP_PREFLIGHT_CA_FILE"
REFUSALS = [
    Refusal([*CHECK, "--security", "ssl"], {}, "INVALID_INVOCATION", "--security"),
    Refusal(["check", "--port", "587"], {}, "INVALID_INVOCATION", "--host"),
    Refusal(["frobnicate"], {}, "INVALID_INVOCATION", "frobnicate"),
    Refusal([*CHECK, "--password-env", "NOT_SET_ANYWHERE"], {}, "INVALID_INVOCATION", "NOT_SET_ANYWHERE"),
    Refusal([*CHECK, "--username", "ada@gmail.com"], {}, "INVALID_INVOCATION", "--password-env"),
    Refusal([*CHECK, "--no-connect", "--from", "nobody"], {}, "INVALID_SETTINGS", "From address"),
    Refusal([*CHECK, "--no-connect", "--timeout", "600"], {}, "INVALID_SETTINGS", "time limit"),
    Refusal([*CHECK, "--no-connect", "--test-recipient", "a@example.com"], {}, "INVALID_SETTINGS",
            "test recipient"),
    Refusal([*CHECK, "--no-connect"], {"SMTP_PREFLIGHT_ALLOWED_PORTS": "seven"}, "INVALID_CONFIGURATION",
            "SMTP_PREFLIGHT_ALLOWED_PORTS"),
    Refusal([*CHECK, "--no-connect"], {CA: "/nonexistent/demo-ca.pem"}, "INVALID_CONFIGURATION", CA),
    Refusal([*CHECK, "--no-connect"], {CA: __file__}, "INVALID_CONFIGURATION", CA),  # not PEM
    Refusal(["suggest", "no-at-sign"], {}, "INVALID_ADDRESS", "e-mail address"),
    Refusal(["suggest", "ada@example.com"], {"SMTP_PREFLIGHT_DNS_SERVERS": "dns.example"},
            "INVALID_CONFIGURATION", "SMTP_PREFLIGHT_DNS_SERVERS"),
]  # fmt: skip


@pytest.mark.parametrize("refusal", REFUSALS)
def test_every_error_exits_2_with_one_line_per_problem_and_nothing_on_stdout(
    refusal: Refusal, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in refusal.environ.items():
        monkeypatch.setenv(name, value)

    code, out, err = run(refusal.argv, capsys, monkeypatch)

    assert (code, out) == (2, "")
    assert [line for line in err.splitlines() if line.startswith("smtp-preflight: ")]
    assert refusal.named in err
    assert "Traceback" not in err
    assert SECRET not in err


@pytest.mark.parametrize("refusal", REFUSALS)
def test_with_json_every_error_keeps_stdout_json(
    refusal: Refusal, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in refusal.environ.items():
        monkeypatch.setenv(name, value)

    code, out, err = run([*refusal.argv, "--json"], capsys, monkeypatch)

    assert code == 2
    error = json.loads(out)["error"]  # exactly one JSON document, nothing else
    assert error["code"] == refusal.code
    said = error["message"] + " ".join(f"{item['field']} {item['message']}" for item in error["fields"])
    assert refusal.named in said + err
    assert "usage:" not in out


def test_json_field_errors_name_the_contract_field_and_the_words(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(
        [*CHECK, "--no-connect", "--from", "nobody", "--json", "--lang", "de"], capsys, monkeypatch
    )

    assert code == 2
    assert json.loads(out)["error"]["fields"][0]["field"] == "fromAddress"  # for scripts
    assert "invalid settings: Absenderadresse:" in err  # for people, in their language


@pytest.mark.parametrize("argv", [["--js"], ["--json"], ["--jso", "--lang", "it"]])
def test_json_is_recognised_before_the_options_are_parsed(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run([*CHECK, "--port", "none", *argv], capsys, monkeypatch)
    assert code == 2
    assert json.loads(out)["error"]["code"] == "INVALID_INVOCATION"


def test_ctrl_c_at_the_password_prompt_is_an_interruption(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("getpass.getpass", interrupted)
    monkeypatch.setattr(sys, "stdin", FakeTerminal())

    code = main([*BASE[:-1], "--username", "ada@gmail.com"])

    assert code == 130
    assert capsys.readouterr().err == "smtp-preflight: error: interrupted\n"
