"""An HTTPS server on loopback serving Mozilla autoconfig documents (trustme certificate for the test
host names), so autodiscovery fetches real documents over real TLS through the public-address guard.

Routes are (host, path) -> `Page`; the Host header picks the virtual host. Names resolve through a stub
resolver to 127.0.0.1 (or to whatever a test maps them to), and loopback is an allowed network only in
the policy the tests build, so the guard still judges every address.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from smtp_preflight.config.policy import Policy
from smtp_preflight.discovery.autoconfig import Fetcher
from smtp_preflight.guard import IPAddress

SITES = ("acme", "beta", "private", "big", "moved", "slow")
# the autoconfig hosts, and the SMTP hosts their documents suggest (the guard judges suggestions too)
NAMES = (
    *(f"{service}.{site}.example.net" for site in SITES for service in ("autoconfig", "smtp", "mail")),
    "ispdb.example.net",
)
LOOPBACK_POLICY_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"),)


@dataclass
class Page:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class AutoconfigServer:
    port: int
    ca_file: str
    pages: dict[tuple[str, str], Page]
    requests: list[tuple[str, str]]
    addresses: dict[str, list[IPAddress]]

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Stub resolver: test names -> loopback unless a test maps them elsewhere; others unknown."""
        if host in self.addresses:
            return self.addresses[host]
        if host in NAMES:
            return [ipaddress.ip_address("127.0.0.1")]
        raise OSError(f"{host} does not resolve here")

    def fetcher(self) -> Fetcher:
        policy = Policy(allowed_networks=LOOPBACK_POLICY_NETWORKS, ca_files=(self.ca_file,))
        return Fetcher(policy, resolver=self.resolve, https_port=self.port)


def autoconfig_xml(hostname: str, port: int, socket_type: str, auth: str = "password-cleartext") -> bytes:
    return f"""<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="acme.example.net">
    <domain>%EMAILDOMAIN%</domain>
    <incomingServer type="imap"><hostname>imap.acme.example.net</hostname><port>993</port>
      <socketType>SSL</socketType><authentication>password-cleartext</authentication></incomingServer>
    <outgoingServer type="smtp">
      <hostname>{hostname}</hostname>
      <port>{port}</port>
      <socketType>{socket_type}</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>{auth}</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
""".encode()


@pytest.fixture(scope="session")
def autoconfig_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AutoconfigServer]:
    ca = trustme.CA()
    ca_file = Path(tmp_path_factory.mktemp("autoconfig-pki")) / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*NAMES).configure_cert(context)
    pages: dict[tuple[str, str], Page] = {}
    requests: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").split(":")[0]
            path = self.path.split("?")[0]
            requests.append((host, self.path))
            page = pages.get((host, path), Page(404, b"not here"))
            if page.delay:
                threading.Event().wait(page.delay)
            self.send_response(page.status)
            for name, value in page.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/xml")
            self.end_headers()
            self.wfile.write(page.body)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield AutoconfigServer(server.server_address[1], str(ca_file), pages, requests, {})
    finally:
        server.shutdown()
        server.server_close()
