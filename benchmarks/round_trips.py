"""Round trips: what a check costs on a slow network, counted through a latency-injecting proxy.

Each client runs the same dialogue through a proxy adding one-way `delay` in each direction and through
one adding none; the difference of the medians over the round-trip time (2 x delay) is the number of
round trips the client waited for, whatever its CPU costs. Clients, interleaved:
- smtp-preflight's check (in this process, the same code every entry point runs);
- plain `smtplib` with a verified TLS context doing the same steps (its `quit()` waits for the reply);
- `swaks` (Debian package `swaks`) when installed, with `--pipeline` for the message.
Two dialogues: STARTTLS + AUTH, and STARTTLS + AUTH + a test message (where PIPELINING matters).
"""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import smtplib
import ssl
import subprocess
import time
from collections.abc import Callable
from functools import partial

from benchmarks.far_end import HOST, PASSWORD, USERNAME, FarEnd, far_end
from benchmarks.harness import Figure, interleave, median
from smtp_preflight.checking.check import check_settings
from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import IPAddress
from smtp_preflight.model.report import Report
from smtp_preflight.model.settings import SmtpSettings

SENDER, RECIPIENT = USERNAME, "someone@example.com"
MESSAGE = (
    f"From: {SENDER}\r\nTo: {RECIPIENT}\r\nSubject: smtp-preflight benchmark\r\n\r\nbenchmark\r\n"
).encode()


async def _loopback(host: str, port: int) -> list[IPAddress]:
    return [ipaddress.ip_address("127.0.0.1")]


def preflight_client(far: FarEnd, *, message: bool) -> Callable[[int], float]:
    policy = Policy(
        allowed_ports=frozenset(far.proxies.values()),
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        ca_files=(far.ca_file,),
    )
    loop = asyncio.new_event_loop()
    last: list[Report] = []

    def run(port: int) -> float:
        settings = SmtpSettings.model_validate(
            {
                "host": HOST,
                "port": port,
                "security": "starttls",
                "username": USERNAME,
                "password": PASSWORD,
                **({"fromAddress": SENDER, "testRecipient": RECIPIENT} if message else {}),
            }
        )
        started = time.perf_counter()
        report = loop.run_until_complete(check_settings(settings, policy=policy, resolver=_loopback))
        elapsed = time.perf_counter() - started
        expected = "MESSAGE_ACCEPTED" if message else "LOGIN_ACCEPTED"
        if expected not in [finding.code for finding in report.findings]:
            raise RuntimeError(f"smtp-preflight's check did not pass: {report.findings}")
        last[:] = [report]
        return elapsed

    run.last = last  # type: ignore[attr-defined]
    return run


def smtplib_client(far: FarEnd, *, message: bool) -> Callable[[int], float]:
    context = ssl.create_default_context(cafile=far.ca_file)

    def run(port: int) -> float:
        started = time.perf_counter()
        # local_hostname given: smtplib would otherwise look up this machine's FQDN (a DNS query)
        with smtplib.SMTP(timeout=10, local_hostname="[127.0.0.1]") as client:
            client._host = HOST  # type: ignore[attr-defined]  # the name verified in the certificate (connect() takes the address)
            client.connect("127.0.0.1", port)
            client.ehlo()
            client.starttls(context=context)
            client.ehlo()
            client.login(USERNAME, PASSWORD)
            if message:
                client.sendmail(SENDER, [RECIPIENT], MESSAGE)
        return time.perf_counter() - started

    return run


def swaks_client(far: FarEnd, *, message: bool) -> Callable[[int], float] | None:
    swaks = shutil.which("swaks")
    if swaks is None:
        return None

    def run(port: int) -> float:
        argv = [
            swaks, "--server", f"127.0.0.1:{port}", "--tls", "--tls-verify", "--tls-ca-path", far.ca_file,
            "--tls-sni", HOST, "--ehlo", "[127.0.0.1]", "--auth", "PLAIN", "--auth-user", USERNAME,
            "--auth-password", PASSWORD, "--from", SENDER, "--to", RECIPIENT, "--silent", "2",
            *(["--pipeline", "--body", "benchmark"] if message else ["--quit-after", "AUTH"]),
        ]  # fmt: skip
        started = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"swaks failed: {result.stdout.decode()[-1500:]}")
        return elapsed

    return run


def run(*, repeats: int = 7, delay: float = 0.025) -> tuple[list[Figure], list[str]]:
    figures: list[Figure] = []
    notes: list[str] = []
    rtt = 2 * delay
    with far_end(0.0, delay) as far:
        for message in (False, True):
            dialogue = "STARTTLS+AUTH+message" if message else "STARTTLS+AUTH"
            clients: dict[str, Callable[[int], float]] = {
                "smtp-preflight": preflight_client(far, message=message),
                "smtplib": smtplib_client(far, message=message),
            }
            swaks = swaks_client(far, message=message)
            if swaks is not None:
                clients["swaks"] = swaks
            runs = {
                f"{name}@{d}": partial(client, far.proxies[d])
                for name, client in clients.items()
                for d in (0.0, delay)
            }
            samples = interleave(runs, repeats)
            trips = {
                name: (median(samples[f"{name}@{delay}"]) - median(samples[f"{name}@0.0"])) / rtt
                for name in clients
            }
            ours = trips["smtp-preflight"]
            note = f"one-way delay {delay * 1000:.0f} ms; medians of {repeats}"
            # the protocol's minimum: banner 1/2, EHLO, STARTTLS, TLS 1.3, EHLO, AUTH PLAIN with its initial
            # response; with a message, MAIL + RCPT + DATA in one flight (PIPELINING) and the message after
            # the 354 (aiosmtpd offers no CHUNKING, whose BDAT could join that flight)
            minimum, target = (7.5, 7.6) if message else (5.5, 5.6)
            figures.append(
                Figure("round trips", f"{dialogue}, protocol minimum {minimum}", ours, "RT", target=target,
                       target_on="value", note=note, extra={"stages_ms": _stages(clients["smtp-preflight"])})
            )  # fmt: skip
            for baseline in ("smtplib", "swaks"):
                if baseline in trips:
                    figures.append(
                        Figure("round trips", f"{dialogue} vs {baseline}", ours, "RT",
                               baseline=trips[baseline], baseline_name=baseline, target=0.99, note=note)
                    )  # fmt: skip
            if "swaks" not in trips and not message:
                notes.append(
                    "round trips: swaks is not installed (apt-get install swaks): its baseline skipped"
                )
    return figures, notes


def _stages(client: Callable[[int], float]) -> dict[str, int]:
    """The last report's stage timings (taken through the delaying proxy or not, whichever ran last)."""
    reports: list[Report] = getattr(client, "last", [])
    if not reports or reports[0].handshake is None:
        return {}
    return {
        f"{i}:{stage.name.value}": stage.duration_ms for i, stage in enumerate(reports[0].handshake.stages)
    }
