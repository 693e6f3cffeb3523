"""`make run` as tests start it: `python -m local` in a subprocess, as the Makefile runs it, with
free ports and a clean environment (nothing of the test process's fake AWS settings leaks in).

With `documentation_resolver=True` the server runs through this module instead
(`python -m tests.support.local_server --documentation-resolver`): every host name then resolves to
192.0.2.25, a documentation address the guard refuses, so fuzzed host names never reach DNS while the
guard itself stays as configured.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# a ceiling for a start that hangs, not an expectation: `make run` boots moto, the table, the event path and
# every function's cold start, which took over 30 s on a machine busy with two other test runs
START_TIMEOUT = 120.0
DOCUMENTATION_ADDRESS = "192.0.2.25"


@dataclass
class LocalRun:
    process: subprocess.Popen[str]
    api: str
    smtp_port: int
    output: list[str]
    exports: dict[str, str] = field(default_factory=dict)  # the banner's `export NAME=value` lines

    @property
    def text(self) -> str:
        return "".join(self.output)


@contextmanager
def local_server(
    extra_env: Mapping[str, str] | None = None,
    *,
    documentation_resolver: bool = False,
    process_group: bool = False,
    measured: bool = True,
) -> Iterator[LocalRun]:
    """`make run` in a subprocess; `process_group`: in a process group of its own, as on a terminal, so a
    test can send the whole group Ctrl-C (it then outlives a test run that is killed: off by default);
    `measured=False`: not under coverage (`make test` measures subprocesses), for a test of speed."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SMTP_PREFLIGHT_", "POWERTOOLS_"))
        and key
        not in {
            "TABLE_NAME",
            "PORT",
            "ALLOWED_ORIGINS",
            "TENANT_CLAIM",
            "EVENT_BUS_NAME",
            "SECRETS_PREFIX",
            "LOG_FORMAT",
            "MOTO_PORT",
            "CHECK_QUEUE_URL",
            "CHECK_KEY_ID",
            "DEMO_SMTP_DELAY_MS",
            "LOCAL_CONCURRENCY",
            "HMAC_KEY_SECRET_ARN",
        }
    }
    env.update({"PORT": "0", "DEMO_SMTP_PORT": "0", "PYTHONUNBUFFERED": "1", **(extra_env or {})})
    if not measured:
        env.pop("COVERAGE_PROCESS_CONFIG", None)  # what coverage's `patch = subprocess` passes on
    module = (
        ["tests.support.local_server", "--documentation-resolver"] if documentation_resolver else ["local"]
    )
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=process_group,
    )
    output: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("Ready: "):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT):
            pytest.fail("local server did not start:\n" + "".join(output))
        text = "".join(output)
        api = re.search(r"^Ready: (http://127\.0\.0\.1:\d+)", text, re.MULTILINE)
        smtp = re.search(r"Demo SMTP  host localhost port (\d+)", text)
        assert api, text
        assert smtp, text
        exports = dict(re.findall(r"^ +export ([A-Z_]+)=(\S+)$", text, re.MULTILINE))
        yield LocalRun(process, api.group(1), int(smtp.group(1)), output, exports)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _use_documentation_resolver() -> None:
    from smtp_preflight.guard import IPAddress, addresses

    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(DOCUMENTATION_ADDRESS)]

    addresses.system_resolver = resolve  # resolve_public looks it up at each call


if __name__ == "__main__":
    if "--documentation-resolver" in sys.argv[1:]:
        _use_documentation_resolver()
    from local.server import main

    sys.exit(main())
