"""The operator policy that lets a test's checks dial one loopback server: loopback exempted from the
guard, the server's port allowed (after any other ports the test names) and its CA trusted. As the
`SMTP_PREFLIGHT_*` variables the CLI and `make run` read, or as the `Policy` they make."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from smtp_preflight.config.policy import Policy

LOOPBACK_V4 = "127.0.0.0/8"
LOOPBACK = "127.0.0.0/8,::1/128"


class Dialled(Protocol):
    """A test server listening on loopback with a certificate from its own CA."""

    @property
    def port(self) -> int: ...

    @property
    def ca_file(self) -> str | Path | None: ...


def dial_env(server: Dialled, *other_ports: int, networks: str = LOOPBACK_V4) -> dict[str, str]:
    return {
        "SMTP_PREFLIGHT_ALLOWED_NETWORKS": networks,
        "SMTP_PREFLIGHT_ALLOWED_PORTS": ",".join(str(port) for port in (*other_ports, server.port)),
        "SMTP_PREFLIGHT_CA_FILE": str(server.ca_file),
    }


def dial_policy(server: Dialled, *other_ports: int, networks: str = LOOPBACK_V4) -> Policy:
    return Policy.from_env(dial_env(server, *other_ports, networks=networks))
