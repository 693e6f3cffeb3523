"""The `smtp-preflight` command as a person uses it: on a real terminal (a pty), against the demo SMTP
server on loopback. The password prompt does not echo; progress names the stage being attempted and
is gone before the report; with stdout and stderr piped, neither appears."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME, DemoSmtpServer
from tests.support.dial_policy import LOOPBACK, dial_env

pytestmark = pytest.mark.timeout(30)
SCRIPT = str(Path(sys.executable).with_name("smtp-preflight"))


def _environment(demo_smtp: DemoSmtpServer) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMTP_PREFLIGHT_")}
    env.update(
        dial_env(demo_smtp, networks=LOOPBACK),
        TERM="xterm",
        LC_ALL="C.UTF-8",  # English words, whatever the machine's locale
    )
    env.pop("NO_COLOR", None)
    return env


def _argv(demo_smtp: DemoSmtpServer, *extra: str) -> list[str]:
    return [SCRIPT, "check", "--host", "localhost", "--port", str(demo_smtp.port), "--security", "starttls",
            "--username", DEMO_USERNAME, *extra]  # fmt: skip


def _on_a_terminal(argv: list[str], env: dict[str, str], typed: str) -> tuple[int, bytes]:
    """Run `argv` with stdin, stdout and stderr on one pty; type `typed` once the prompt shows."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)  # noqa: S603
    os.close(slave)
    seen = b""
    typed_yet = False
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal (EIO)
                    break
                if not chunk:
                    break
                seen += chunk
            if not typed_yet and b"Password for" in seen:
                os.write(master, typed.encode() + b"\n")
                typed_yet = True
            if process.poll() is not None and not ready:
                break
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return process.wait(timeout=5), seen


def test_on_a_terminal_the_password_is_prompted_without_echo_and_progress_shows(
    demo_smtp: DemoSmtpServer,
) -> None:
    code, seen = _on_a_terminal(_argv(demo_smtp), _environment(demo_smtp), typed=DEMO_PASSWORD)
    text = seen.decode("utf-8", "replace")

    assert code == 0, text
    assert f"Password for {DEMO_USERNAME}: " in text
    assert DEMO_PASSWORD not in text  # not echoed, not printed
    for words in ("connecting…", "encrypting (TLS handshake, certificate check)…", "logging in…"):
        assert words in text
    report = text[text.rindex("\r\033[K") :]  # the progress line is cleared before the report
    assert "PASSED" in report
    assert "LOGIN_ACCEPTED" in report


def test_piped_output_has_no_prompt_no_progress_and_the_same_json(demo_smtp: DemoSmtpServer) -> None:
    result = subprocess.run(  # noqa: S603 - our own console script
        _argv(demo_smtp, "--password-stdin", "--json"),
        input=DEMO_PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=_environment(demo_smtp),
        timeout=20,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.lstrip().startswith("{")
    assert '"status": "passed"' in result.stdout


def test_connection_only_on_a_terminal_asks_for_nothing_and_says_no_login_was_tried(
    demo_smtp: DemoSmtpServer,
) -> None:
    demo_smtp.reset_counts()
    argv = [SCRIPT, "check", "--host", "localhost", "--port", str(demo_smtp.port), "--security", "starttls",
            "--connection-only"]  # fmt: skip

    code, seen = _on_a_terminal(argv, _environment(demo_smtp), typed="never-typed")
    text = seen.decode("utf-8", "replace")

    assert code == 0, text
    assert "Password for" not in text
    report = text[text.rindex("\r\033[K") :]
    assert "PASSED (connection only: no login tried)" in report
    assert "CONNECTION_VERIFIED" in report
    assert "login methods offered: LOGIN PLAIN" in report  # as the server lists them
    assert demo_smtp.auth_attempts == 0


def test_connection_only_json_carries_the_scope_and_refuses_a_password(demo_smtp: DemoSmtpServer) -> None:
    demo_smtp.reset_counts()
    base = [SCRIPT, "check", "--host", "localhost", "--port", str(demo_smtp.port), "--security", "starttls",
            "--connection-only"]  # fmt: skip
    env = {**_environment(demo_smtp), "MAILBOX_PASSWORD": DEMO_PASSWORD}

    checked = subprocess.run(  # noqa: S603 - our own console script
        [*base, "--json"], capture_output=True, text=True, env=env, timeout=20, check=False
    )
    refused = subprocess.run(  # noqa: S603 - our own console script
        [*base, "--password-env", "MAILBOX_PASSWORD"],
        capture_output=True,
        text=True,
        env=env,
        timeout=20,
        check=False,
    )

    report = json.loads(checked.stdout)
    assert checked.returncode == 0, checked.stderr
    assert (report["status"], report["scope"]) == ("passed", "connection")
    assert [finding["code"] for finding in report["findings"]] == ["CONNECTION_VERIFIED"]
    assert refused.returncode == 2
    assert "--connection-only takes no password or token" in refused.stderr
    assert demo_smtp.auth_attempts == 0
