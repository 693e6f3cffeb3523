"""A hostile loopback SMTP server (raw asyncio, STARTTLS with a trustme certificate) that echoes the
secret under every transform of `tests/support/echo_transforms.py`, for the end-to-end canary suites.

It knows the secret before anyone connects (`arm`): the worst case, a server that saw it on an earlier
connection. One listener per play, a play being a transform and a place:

- `each`: the echo whole in the banner, in an EHLO line before and after STARTTLS, in the certificate's
  subject (CN, O, OU; 64 bytes each at most) and in the reply to AUTH (refused with 535);
- `spread`: the echo cut in three, one piece in the banner, one in an EHLO line, one in the certificate's
  CN, and the reply to AUTH cut over two lines, so that only the pieces together make the echo.

Each listener has its own certificate (issued by one CA, for 127.0.0.1), reissued when it is armed.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import os
import ssl
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import trustme

from smtp_preflight.config.policy import Policy
from tests.support.dial_policy import LOOPBACK_V4
from tests.support.echo_transforms import TRANSFORMS

PLACES = ("each", "spread")
PIECE_CHARS = 24  # characters of the secret a play echoes (a longer secret is echoed in part)
NAME_BYTES = 64  # the X.509 upper bound of a CN, O or OU


@dataclass(frozen=True)
class Play:
    transform: str
    place: str

    @property
    def name(self) -> str:
        return f"{self.transform} / {self.place}"


PLAYS = tuple(Play(transform, place) for transform in sorted(TRANSFORMS) for place in PLACES)
BOUNDED_PLAYS = tuple(play for index, play in enumerate(PLAYS) if index % 4 in {1, 2})
"""Each transform once, whole and spread in turn: what `make test` plays; `make fuzz` (FUZZ_EXAMPLES
set) plays them all."""


def plays_for_this_run() -> tuple[Play, ...]:
    return PLAYS if os.environ.get("FUZZ_EXAMPLES") else BOUNDED_PLAYS


def echo_of(secret: str, play: Play) -> str:
    """The transform of a piece of `secret` this play echoes (where the piece starts varies by play)."""
    start = (PLAYS.index(play) * 7) % max(1, len(secret) - PIECE_CHARS + 1)
    return TRANSFORMS[play.transform](secret[start : start + PIECE_CHARS])


def thirds(text: str) -> tuple[str, str, str]:
    third = max(1, len(text) // 3)
    return text[:third], text[third : 2 * third], text[2 * third :]


def _name(text: str) -> str:
    """`text` as a certificate name: no control characters (UTF-16 as text has NULs), at most 64 bytes of
    UTF-8 (the X.509 bound of a CN, O or OU), never empty."""
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    while len(text.encode()) > NAME_BYTES:
        text = text[:-1]
    return text or "x"


class TransformSmtpServer:
    def __init__(self, directory: Path, plays: tuple[Play, ...] | None = None) -> None:
        self._ca = trustme.CA()
        self.ca_file = directory / "transform-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        self.plays = plays_for_this_run() if plays is None else plays
        self.ports: dict[Play, int] = {}
        self.secret = ""
        self.auth_commands: Counter[Play] = Counter()
        self._contexts: dict[Play, ssl.SSLContext] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[asyncio.Server] = []

    def start(self) -> None:
        self._thread.start()
        for play in self.plays:
            future = asyncio.run_coroutine_threadsafe(
                asyncio.start_server(functools.partial(self._session, play), "127.0.0.1", 0), self._loop
            )
            server = future.result(5)
            self._servers.append(server)
            self.ports[play] = server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        for server in self._servers:
            server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def arm(self, secret: str) -> None:
        """Echo `secret` from now on; each listener's certificate names carry its echo."""
        self.secret = secret
        self.auth_commands.clear()
        for play in self.plays:
            echo = echo_of(secret, play)
            if play.place == "each":
                cn, o, ou = _name(echo), _name(echo[::-1])[::-1], _name(echo[len(echo) // 2 :])
            else:
                cn, o, ou = _name(thirds(echo)[2]), "Example Mail", "Mail"
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            leaf = self._ca.issue_cert(
                "127.0.0.1", common_name=cn, organization_name=o, organization_unit_name=ou
            )
            leaf.configure_cert(context)
            self._contexts[play] = context

    def port_of(self, play: Play) -> int:
        return self.ports[play]

    def dial_policy(self) -> Policy:
        """The policy that lets a check dial every listener (loopback, their ports, their CA)."""
        return Policy.from_env(
            {
                "SMTP_PREFLIGHT_ALLOWED_NETWORKS": LOOPBACK_V4,
                "SMTP_PREFLIGHT_ALLOWED_PORTS": ",".join(str(port) for port in self.ports.values()),
                "SMTP_PREFLIGHT_CA_FILE": str(self.ca_file),
            }
        )

    async def _session(self, play: Play, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._dialogue(play, reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.transport.abort()

    async def _dialogue(self, play: Play, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def send(code: int, *lines: str) -> None:
            text = "".join(
                f"{code}{'-' if index < len(lines) - 1 else ' '}{line}\r\n"
                for index, line in enumerate(lines)
            )
            writer.write(text.encode("utf-8", "surrogatepass"))
            await writer.drain()

        echo = echo_of(self.secret, play)
        banner, ehlo, _ = thirds(echo) if play.place == "spread" else (echo, echo, echo)
        await send(220, f"127.0.0.1 ESMTP {banner}")
        await reader.readline()  # EHLO
        await send(250, "127.0.0.1", f"X-ECHO {ehlo}", "STARTTLS")
        await reader.readline()  # STARTTLS
        await send(220, "2.0.0 go ahead")
        await writer.start_tls(self._contexts[play])
        await reader.readline()  # EHLO again
        await send(250, "127.0.0.1", f"X-ECHO {ehlo}", "AUTH PLAIN LOGIN XOAUTH2")
        while line := await reader.readline():
            verb = line.decode("utf-8", "replace").strip().split(" ")[0].upper()
            if verb == "QUIT":
                await send(221, "2.0.0 bye")
                return
            if verb == "AUTH":
                self.auth_commands[play] += 1
                if play.place == "spread":
                    half = len(echo) // 2
                    await send(535, f"5.7.8 you sent {echo[:half]}", f"5.7.8 {echo[half:]} retry")
                else:
                    await send(535, f"5.7.8 you sent {echo} retry")
                continue
            await send(250, f"2.1.0 OK {base64.b64encode(b'nothing').decode()}")
