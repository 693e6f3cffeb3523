"""How the installed `smtp-preflight` command ends when its user or its reader stops it, as a real process:
Ctrl-C (SIGINT) while a server on loopback never answers is one line and exit 130; a reader that went
away (a closed pipe, `| head`) is silence and exit 141, never a BrokenPipeError."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)
SCRIPT = str(Path(sys.executable).with_name("smtp-preflight"))
RULES_ONLY = ["check", "--host", "smtp.gmail.com", "--port", "587", "--security", "starttls", "--no-connect"]


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A loopback listener that accepts connections and never says a word (no SMTP greeting)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(30)
        yield listener


def _environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMTP_PREFLIGHT_")}
    env.update(LC_ALL="C.UTF-8", SMTP_PREFLIGHT_DNS_SERVERS="127.0.0.1#9", **extra)
    return env


@pytest.mark.parametrize("as_json", [False, True])
def test_ctrl_c_during_a_check_is_one_line_and_exit_130(silent_server: socket.socket, as_json: bool) -> None:
    # Given a check that waits for the greeting of a server that never sends one
    port = silent_server.getsockname()[1]
    env = _environment(
        SMTP_PREFLIGHT_ALLOWED_NETWORKS="127.0.0.0/8",
        SMTP_PREFLIGHT_ALLOWED_PORTS=str(port),
        SMTP_PASSWORD="not-a-real-password",  # never sent: no greeting, no login
    )
    argv = [SCRIPT, "check", "--host", "127.0.0.1", "--port", str(port), "--security", "starttls",
            "--username", "ada@example.com", "--password-env", "SMTP_PASSWORD"]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603
        [*argv, *(["--json"] if as_json else [])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        connection, _ = silent_server.accept()  # the check is now waiting in the middle of its handshake

        # When the user presses Ctrl-C
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        connection.close()
    finally:
        process.kill()

    # Then one line says so, and the exit status is the shell's for an interrupted command
    assert process.returncode == 130
    assert err == "smtp-preflight: error: interrupted\n"
    if as_json:
        assert json.loads(out)["error"]["code"] == "INTERRUPTED"
    else:
        assert out == ""


@pytest.mark.parametrize(
    "argv",
    [
        RULES_ONLY,
        [*RULES_ONLY, "--json"],
        ["suggest", "ada@gmail.com"],
        ["suggest", "ada@gmail.com", "--json"],
        [*RULES_ONLY, "--port", "none", "--json"],  # an error object, to a reader gone too
    ],
)
def test_a_reader_that_went_away_gets_silence_and_exit_141(argv: list[str]) -> None:
    # Given stdout is a pipe whose reading end is already closed
    reader, writer = os.pipe()
    os.close(reader)
    try:
        # When the command writes its output
        result = subprocess.run(  # noqa: S603
            [SCRIPT, *argv],
            stdout=writer,
            stderr=subprocess.PIPE,
            env=_environment(),
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        os.close(writer)

    # Then nothing is said about it, and the status is the shell's for a command the pipe stopped
    assert result.stderr in {"", "smtp-preflight: error: argument --port: invalid int value: 'none'\n"}
    assert "BrokenPipe" not in result.stderr
    assert result.returncode == 141


def test_piped_into_head_prints_only_what_head_shows() -> None:
    pipeline = f'{SCRIPT} {" ".join(RULES_ONLY)} --json | head -n 1; echo "status ${{PIPESTATUS[0]}}"'

    result = subprocess.run(  # noqa: S603
        ["/bin/bash", "-c", pipeline],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=30,
        check=False,
    )

    lines = result.stdout.splitlines()
    assert lines[0] == "{"
    assert lines[-1] in {"status 1", "status 141"}  # 1: failed (no login given); 141: head left first
    assert result.stderr == ""


def test_a_terminal_that_cannot_show_a_character_gets_a_question_mark_not_a_traceback() -> None:
    result = subprocess.run(  # noqa: S603
        [SCRIPT, *RULES_ONLY],
        env=_environment(PYTHONIOENCODING="ascii"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 1  # failed: no login given
    assert result.stdout.startswith("? FAILED")
    assert result.stderr == ""
