"""Mozilla autoconfig documents (`config-v1.1.xml`), fetched only through the public-address guard.

The domain comes from a caller, so fetching `https://autoconfig.<domain>/...` is the same SSRF risk as
dialling an SMTP host, and gets the same treatment: the name is resolved once by `guard.resolve_public`
(every address must be public; port 443 only), the socket connects to an approved address, TLS verifies
the certificate for the name (SNI), the body is capped, the whole fetch has one short deadline, and a
redirect is followed only to the same host over https (so never to another or a private address).
XML is parsed with defusedxml (no DTDs, no entities). Every failure is None: the caller says "unknown";
only a DNS outage (`DnsTemporaryFailure`) is raised, so that the caller can say "try again" instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import quote, urlsplit
from xml.etree.ElementTree import Element

from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import (
    DnsTemporaryFailure,
    HostError,
    HostNotFound,
    HostNotPublic,
    PortNotAllowed,
    Resolver,
    normalise_host,
    resolve_public,
)
from smtp_preflight.handshake.connection import connect_socket
from smtp_preflight.handshake.tls import client_context
from smtp_preflight.model.settings import Security
from smtp_preflight.rules.mailbox_providers import Login

logger = logging.getLogger(__name__)

AUTOCONFIG_URL = "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}"
ISPDB_URL = "https://autoconfig.thunderbird.net/v1.1/{domain}"
HTTPS_PORT = 443
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_RESPONSE_BYTES = MAX_DOCUMENT_BYTES + 8 * 1024  # the document plus its status line and headers
MAX_REDIRECTS = 2

_FAILURES = (TimeoutError, OSError, ssl.SSLError, HostNotFound, HostNotPublic, PortNotAllowed, ValueError)

SOCKET_TYPES: dict[str, Security] = {
    "SSL": Security.TLS,
    "STARTTLS": Security.STARTTLS,
    "plain": Security.NONE,
}
AUTHENTICATIONS: dict[str, Login] = {
    "password-cleartext": Login.PASSWORD,
    "password-encrypted": Login.PASSWORD,
    "OAuth2": Login.XOAUTH2,
}


@dataclass(frozen=True, slots=True)
class OutgoingServer:
    host: str
    port: int
    security: Security
    login: Login
    username: str | None


@dataclass(frozen=True, slots=True)
class Fetcher:
    """Where and how documents are fetched; tests point it at loopback (allowed network, own port)."""

    policy: Policy
    resolver: Resolver | None = None
    https_port: int = HTTPS_PORT

    async def get(self, url: str, timeout: float) -> bytes | None:
        """The body of a 200 answer to GET `url`, or None (refused, failed, too big, too slow).

        Raises DnsTemporaryFailure when the resolver failed for the host: not "unknown", "try again"."""
        if timeout <= 0:
            return None
        try:
            async with asyncio.timeout(timeout):
                return await self._get(url, MAX_REDIRECTS)
        except _FAILURES as exc:
            logger.info("autoconfig fetch failed: %s", type(exc).__name__)
            return None

    async def dialable(self, server: OutgoingServer, timeout: float) -> bool:
        """Whether a check could dial `server`: the guard's verdict on its resolved addresses and port.

        A document is its domain owner's word, or an attacker's (`<hostname>169.254.169.254</hostname>`):
        a host the guard would refuse is never suggested, since a suggestion is a host people then type in.
        """
        if timeout <= 0:
            return False
        try:
            async with asyncio.timeout(timeout):
                await resolve_public(server.host, server.port, self.policy, resolver=self.resolver)
        except (*_FAILURES, DnsTemporaryFailure) as exc:  # a host we cannot judge now is not suggested
            logger.info("autoconfig suggestion refused by the guard: %s", type(exc).__name__)
            return False
        return True

    async def _get(self, url: str, redirects: int) -> bytes | None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            return None
        host = normalise_host(parts.hostname)
        policy = dataclasses.replace(self.policy, allowed_ports=frozenset({self.https_port}))
        addresses = await resolve_public(host, self.https_port, policy, resolver=self.resolver)
        sock = await connect_socket(addresses[0], self.https_port)
        reader, writer = await asyncio.open_connection(
            sock=sock, ssl=client_context(self.policy), server_hostname=host
        )
        try:
            target = parts.path or "/"
            target += f"?{parts.query}" if parts.query else ""
            request = (
                f"GET {target} HTTP/1.0\r\nHost: {host}\r\nAccept: application/xml, text/xml\r\n"
                "User-Agent: smtp-preflight\r\nConnection: close\r\n\r\n"
            )
            writer.write(request.encode("ascii"))
            raw = b""
            while len(raw) <= MAX_RESPONSE_BYTES:  # one byte past the cap tells "too big"
                chunk = await reader.read(MAX_RESPONSE_BYTES + 1 - len(raw))
                if not chunk:
                    break
                raw += chunk
        finally:
            writer.transport.abort()
        status, headers, body = _parse_response(raw)
        if status in (301, 302, 303, 307, 308) and redirects > 0:
            location = urlsplit(headers.get("location", ""))
            if (
                location.scheme == "https"
                and location.hostname == host
                and location.port in (None, parts.port)
            ):
                return await self._get(location.geturl(), redirects - 1)
            return None
        if status != 200 or len(raw) > MAX_RESPONSE_BYTES or len(body) > MAX_DOCUMENT_BYTES:
            return None
        return body


def _parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        return 0, {}, b""
    lines = head.decode("iso-8859-1").split("\r\n")
    status_parts = lines[0].split(" ", 2)
    status = int(status_parts[1]) if len(status_parts) >= 2 and status_parts[1].isdigit() else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return 0, headers, b""  # we asked for HTTP/1.0: a chunked answer is not one we read
    return status, headers, body


def autoconfig_urls(domain: str, email: str, ispdb: str = ISPDB_URL) -> tuple[str, str]:
    """The domain's own autoconfig document, then Thunderbird's ISPDB entry for it."""
    return (
        AUTOCONFIG_URL.format(domain=domain, email=quote(email, safe="@")),
        ispdb.format(domain=domain),
    )


def parse_autoconfig(document: bytes, email: str) -> OutgoingServer | None:
    """The first usable `<outgoingServer type="smtp">` of a config-v1.1 document, placeholders filled."""
    from defusedxml import ElementTree  # ~10 ms: on first use, not on the API's cold start
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(document, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return None
    local, _, domain = email.partition("@")
    fill = {"%EMAILADDRESS%": email, "%EMAILLOCALPART%": local, "%EMAILDOMAIN%": domain}
    for server in root.iter("outgoingServer"):
        if server.get("type") != "smtp":
            continue
        found = _server(server, fill)
        if found is not None:
            return found
    return None


def _server(server: Element, fill: dict[str, str]) -> OutgoingServer | None:
    def field(name: str) -> str:
        value = (server.findtext(name) or "").strip()
        for placeholder, replacement in fill.items():
            value = value.replace(placeholder, replacement)
        return value

    security = SOCKET_TYPES.get(field("socketType"))
    logins = [AUTHENTICATIONS.get((a.text or "").strip()) for a in server.findall("authentication")]
    login = next((item for item in logins if item is not None), None)
    port = field("port")
    try:
        host = normalise_host(field("hostname"))
    except HostError:
        return None
    if security is None or login is None or not port.isdigit() or not 1 <= int(port) <= 65535:
        return None
    return OutgoingServer(host, int(port), security, login, field("username") or None)
