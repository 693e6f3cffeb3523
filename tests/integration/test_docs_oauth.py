"""docs/oauth.md's `console` sessions run as shown: they need no server (tokens are minted on the spot and
checked without connecting), so they are replayed here with the README replay's parser and normalising."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from tests.integration.test_readme import _environment, normalised, sessions
from tests.support.local_server import ROOT

DOC = ROOT / "docs" / "oauth.md"

pytestmark = pytest.mark.timeout(120)


def _run(command: str, env: dict[str, str], workdir: Path) -> tuple[str, dict[str, str]]:
    """One command in bash from the repository root; the environment it leaves is carried on."""
    env_file = workdir / "env"
    script = f"{command}\n__status=$?\nenv -0 > {shlex.quote(str(env_file))}\nexit $__status\n"
    result = subprocess.run(  # noqa: S603 - the manual's own examples
        ["/bin/bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    pairs = (item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
    output = "\n".join(line.rstrip() for line in (result.stdout + result.stderr).split("\n")).rstrip("\n")
    return output, dict(pairs)


def test_every_console_session_in_the_oauth_guide_runs_as_shown(tmp_path: Path) -> None:
    found = list(sessions(DOC.read_text(encoding="utf-8").split("\n")))
    assert len(found) >= 3, "the OAuth guide's sessions went missing"
    env = _environment()
    mismatches = []
    for session in found:
        for command in session.commands:
            output, env = _run(command.text, env, tmp_path)
            if normalised(output) != normalised("\n".join(command.expected).rstrip("\n")):
                mismatches.append(
                    f"$ {command.text}\n--- shown\n{chr(10).join(command.expected)}\n--- ran\n{output}"
                )
    assert not mismatches, "\n\n".join(mismatches)
