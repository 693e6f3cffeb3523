"""A real SMTP server for any host name: aiosmtpd in its own thread on loopback, STARTTLS with a valid
certificate for the names it is given (from its own trustme CA), AUTH PLAIN/LOGIN for one account, and
a record of every line it received (`Wire`: tests count AUTH commands and search for secrets).

For entry points that run their own event loop (the API handler, the worker, the CLI). The names reach
it through `loopback_names`, which stands in for the system resolver (`guard.addresses.system_resolver`,
looked up at each check), so the guard, the certificate check and SNI all see the real name.
"""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from smtp_preflight.guard import IPAddress, addresses
from tests.support.smtp_servers import RecordingSMTP, Wire

LOGIN = "ada@gmail.com"  # an address the catalogue knows: no MX lookup leaves loopback
SECRET = "Look-4like-Secret-93x"


class _Handler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 2.0.0 OK"


@dataclass
class NamedSmtpServer:
    names: tuple[str, ...]
    password: str = SECRET
    port: int = 0
    ca_file: Path | None = None
    wire: Wire = field(default_factory=Wire)
    _controller: Controller | None = None
    _tempdir: tempfile.TemporaryDirectory[str] | None = None

    def auth_commands(self) -> int:
        return self.wire.auth_commands()

    def received(self) -> str:
        return "\n".join(line.decode("utf-8", "replace") for line in self.wire.lines)

    def reset(self) -> None:
        self.wire.lines.clear()
        self.wire.clear.clear()

    def start(self) -> None:
        ca = trustme.CA(organization_name="smtp-preflight look-alike test CA")
        self._tempdir = tempfile.TemporaryDirectory(prefix="smtp-preflight-named-")
        self.ca_file = Path(self._tempdir.name) / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*self.names).configure_cert(context)
        wire, password = self.wire, self.password

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        class _Controller(Controller):
            def factory(self) -> SMTP:
                smtp = RecordingSMTP(self.handler, **self.SMTP_kwargs)
                smtp.wire = wire
                return smtp

        with socket_for_port() as port:
            self.port = port
        self._controller = _Controller(
            _Handler(),
            hostname="127.0.0.1",
            port=self.port,
            server_hostname=self.names[0],
            tls_context=context,
            require_starttls=True,
            authenticator=authenticate,
            auth_require_tls=True,
            ready_timeout=5.0,
        )
        self._controller.start()
        self.reset()  # the controller's readiness probe is not part of any test

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None


@contextmanager
def socket_for_port() -> Iterator[int]:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


def loopback_names(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Resolve `names` (normalised, punycode) to 127.0.0.1 for this test; any other name is not found."""
    known = set(names)

    async def resolve(host: str, port: int) -> list[IPAddress]:
        if host not in known:
            raise OSError(f"{host} is not a test name")
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(addresses, "system_resolver", resolve)
