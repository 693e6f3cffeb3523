"""CLI start: `smtp-preflight check` as a person runs it, in a fresh process each time, against the
same work done by plain `smtplib` (a small Python script) and by `swaks`, interleaved.

- `--no-connect` (rules only) against a Python process that only imports `smtplib` and `ssl`: the least
  any Python tool pays before it can do anything.
- a loopback STARTTLS + AUTH check (no delay) against the same dialogue in `smtplib` and in `swaks`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from functools import partial

from benchmarks.far_end import HOST, PASSWORD, USERNAME, far_end
from benchmarks.harness import PYTHON, Figure, interleave, median, timed_process

CLI = os.path.join(os.path.dirname(PYTHON), "smtp-preflight")
SMTPLIB_SCRIPT = """
import smtplib, ssl, sys
port, ca, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=ca)
with smtplib.SMTP("localhost", port, local_hostname="[127.0.0.1]", timeout=20) as client:
    client.ehlo(); client.starttls(context=context); client.ehlo(); client.login(user, password)
print("login accepted")
"""


def run(*, repeats: int = 9) -> tuple[list[Figure], list[str]]:
    figures: list[Figure] = []
    notes: list[str] = []
    swaks = shutil.which("swaks")
    with far_end() as far:
        env = {
            **os.environ,
            "SMTP_PREFLIGHT_CA_FILE": far.ca_file,
            "SMTP_PREFLIGHT_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
            "SMTP_PREFLIGHT_ALLOWED_PORTS": str(far.smtp_port),
            "BENCH_PASSWORD": PASSWORD,
        }
        check = [CLI, "check", "--host", HOST, "--port", str(far.smtp_port), "--security", "starttls",
                 "--username", USERNAME, "--password-env", "BENCH_PASSWORD"]  # fmt: skip
        rules_only = [CLI, "check", "--host", "smtp.gmail.com", "--port", "587", "--security", "starttls",
                      "--username", "ada@example.com", "--no-connect"]  # fmt: skip
        runs: dict[str, Callable[[], float]] = {
            "no-connect": partial(timed_process, rules_only, env=env),
            "python+smtplib import": partial(timed_process, [PYTHON, "-c", "import smtplib, ssl"], env=env),
            "check": partial(timed_process, check, env=env),
            "smtplib": partial(
                timed_process,
                [PYTHON, "-c", SMTPLIB_SCRIPT, str(far.smtp_port), far.ca_file, USERNAME, PASSWORD],
            ),
        }
        if swaks is not None:
            runs["swaks"] = partial(
                timed_process,
                [swaks, "--server", f"localhost:{far.smtp_port}", "--tls", "--tls-verify", "--tls-ca-path",
                 far.ca_file, "--ehlo", "[127.0.0.1]", "--auth", "PLAIN", "--auth-user", USERNAME,
                 "--auth-password", PASSWORD, "--quit-after", "AUTH", "--silent", "2"],
            )  # fmt: skip
        for warm_up in runs.values():  # the file cache, once; not counted
            warm_up()
        samples = interleave(runs, repeats)
    m = {name: median(values) for name, values in samples.items()}
    note = f"medians of {repeats}, fresh process each"
    figures.append(Figure("cli start", "check --no-connect", m["no-connect"], "s",
                          baseline=m["python+smtplib import"], baseline_name="python: import smtplib, ssl",
                          note=note))  # fmt: skip
    figures.append(Figure("cli start", "loopback STARTTLS+AUTH check", m["check"], "s", baseline=m["smtplib"],
                          baseline_name="smtplib script", note=note))  # fmt: skip
    if swaks is not None:
        figures.append(Figure("cli start", "loopback STARTTLS+AUTH check vs swaks", m["check"], "s",
                              baseline=m["swaks"], baseline_name="swaks", target=2.0, note=note))  # fmt: skip
    else:
        notes.append(
            "cli start: swaks is not installed (apt-get install swaks), its baseline and target skipped"
        )
    return figures, notes
