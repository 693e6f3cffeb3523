"""A hostile SMTP server in a thread, for the canary tests: it learns the secret from our AUTH command and
echoes it back in every way the issue lists, and fills its greeting, extensions and replies with escape
sequences and invisible characters.

STARTTLS with a trustme certificate for 127.0.0.1; AUTH PLAIN and XOAUTH2. The mode is the local part of
the username (`split-two@example.com`); `accept` logs in and then echoes the secret in the replies to
MAIL, RCPT and DATA. It counts AUTH commands per username.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trustme

HOSTILE = "\x1b[2J\x1b[31mPWNED\x1b]0;title\x07\u202e\u200b"

Echo = Callable[[str, bytes], list[str]]


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


ECHOES: dict[str, Echo] = {
    "split-two": lambda s, blob: [
        f"5.7.8 Authentication failed for password {s[:5]}",
        f"5.7.8 {s[5:]}",
    ],
    "split-three": lambda s, blob: [f"5.7.8 bad {s[:4]}", f"5.7.8 {s[4:9]}", f"5.7.8 {s[9:]} end"],
    "blob-split": lambda s, blob: [
        "5.7.8 you sent",
        *(f"5.7.8 {part}" for part in _chunks(blob.decode(), 9)),
    ],
    "blob-raw": lambda s, blob: [f"5.7.8 you sent {blob.decode()}"],
    "half": lambda s, blob: [f"4.7.0 temporary failure for {s[: len(s) // 2]}"],
    "first-40": lambda s, blob: [f"5.7.8 invalid token {s[:40]}"],
    "hostile": lambda s, blob: [f"5.7.8 {HOSTILE} denied {HOSTILE}"],
    "raw": lambda s, blob: [f"5.7.8 password {s} is wrong"],
}
CODES = {"half": 421}
QUIET = frozenset({"accept", "hostile"})  # modes that echo nothing of the credentials


class EchoSmtpServer:
    def __init__(self, directory: Path) -> None:
        ca = trustme.CA()
        self.ca_file = directory / "echo-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self._tls)
        self.auth_commands: Counter[str] = Counter()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._session, "127.0.0.1", 0), self._loop
        )
        self._server = future.result(5)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._dialogue(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.transport.abort()

    async def _dialogue(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def send(*lines: str, code: int = 250) -> None:
            text = "".join(
                f"{code}{'-' if index < len(lines) - 1 else ' '}{line}\r\n"
                for index, line in enumerate(lines)
            )
            writer.write(text.encode("utf-8", "surrogatepass"))
            await writer.drain()

        await send(f"127.0.0.1 ESMTP {HOSTILE}", code=220)
        await reader.readline()  # EHLO
        await send("127.0.0.1", f"X-{HOSTILE}", "STARTTLS")
        await reader.readline()  # STARTTLS
        await send("2.0.0 go ahead", code=220)
        await writer.start_tls(self._tls)
        await reader.readline()  # EHLO again
        await send("127.0.0.1", f"AUTH PLAIN XOAUTH2 {HOSTILE}", f"SIZE {HOSTILE}")
        secret, mode = "", "raw"
        while line := await reader.readline():
            words = line.decode("utf-8", "replace").strip().split(" ")
            verb = words[0].upper()
            if verb == "QUIT":
                await send("2.0.0 bye", code=221)
                return
            if verb == "AUTH":
                blob = words[2].encode() if len(words) > 2 else b""
                user, secret = _credentials(words[1].upper(), blob)
                mode = user.partition("@")[0]
                self.auth_commands[user] += 1
                if mode == "accept":
                    await send("2.7.0 Accepted", code=235)
                else:
                    await send(*ECHOES.get(mode, ECHOES["raw"])(secret, blob), code=CODES.get(mode, 535))
                continue
            if verb == "DATA":
                await send("go ahead", code=354)
                while (await reader.readline()) not in (b".\r\n", b""):
                    pass
                await send(f"2.0.0 queued as {secret[:7]}", f"2.0.0 {secret[7:]} {HOSTILE}")
                continue
            await send(f"2.1.0 OK {secret} {base64.b64encode(secret.encode()).decode()}")


def _credentials(mechanism: str, blob: bytes) -> tuple[str, str]:
    decoded = base64.b64decode(blob).decode("utf-8", "surrogatepass")
    if mechanism == "PLAIN":
        _, user, secret = decoded.split("\0", 2)
        return user, secret
    fields = dict(part.split("=", 1) for part in decoded.split("\x01") if "=" in part)
    return fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
