"""Name resolution as deployed (libc's getaddrinfo, /etc/hosts, /etc/resolv.conf) against a DNS server we
control: run as `unshare -n -m python -m tests.support.dns_namespace`, in a private network and mount
namespace, so the machine's own resolver settings and network stay untouched.

Inside, it brings up `lo`, bind-mounts its own resolv.conf (nameserver 127.0.0.1, a one-second timeout,
one attempt) and hosts file over the real ones, answers from `Zone` on 127.0.0.1:53, runs the real
handshake (resolve stage) and the real MX lookup for each name, and prints what they reported as JSON.
"""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import ipaddress
import json
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dnslib.server import DNSLogger, DNSServer

from smtp_preflight.config.policy import Policy
from smtp_preflight.discovery.mx import DnsMxLookup
from smtp_preflight.guard import IPAddress
from smtp_preflight.guard.addresses import system_resolver
from smtp_preflight.handshake import perform_handshake
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.rules import RESOLVER_CHECK_NAMES
from tests.support.dns_servers import Zone

DOMAIN = "dns.example.test"
HOSTS_FILE_NAME = f"pinned.{DOMAIN}"  # only in the hosts file; the DNS server would say NXDOMAIN
RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP, MS_BIND = 0x8913, 0x8914, 0x1, 4096


PUBLISHED = {  # providers' published server names, as a wrong or filtering resolver answers them
    "nxdomain": "smtp.googlemail.com",  # not in the zone: NXDOMAIN
    "nodata": "smtp.mail.yahoo.com",  # in the zone without an address: NODATA
    "asTyped": "SMTP.Live.COM.",  # as a user may type it: the check normalises it first
    "private": "smtp.zoho.com",  # rewritten to a private address (never dialled)
}


def zone() -> Zone:
    """One name per outcome: an address, NODATA, SERVFAIL, REFUSED, silence; anything else NXDOMAIN."""
    return Zone(
        mx={  # names with MX records but no address
            f"nodata.{DOMAIN}": [(10, f"mx.{DOMAIN}")],
            PUBLISHED["nodata"]: [(10, f"mx.{DOMAIN}")],
        },
        a={
            f"smtp.{DOMAIN}": ["192.0.2.25"],  # and one with an address but no MX records
            # the names the handshake asks after an NXDOMAIN, to judge the resolver: it finds them
            **{name: ["192.0.2.80"] for name in RESOLVER_CHECK_NAMES},
            PUBLISHED["private"]: ["10.0.0.5"],
        },
        failing={f"servfail.{DOMAIN}": "SERVFAIL", f"refused.{DOMAIN}": "REFUSED"},
        silent={f"silent.{DOMAIN}"},
    )


NAMES = ("nxdomain", "nodata", "servfail", "refused", "silent")


def bring_up_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def bind_mount(source: Path, target: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(str(source).encode(), target.encode(), None, MS_BIND, None) != 0:
        raise OSError(ctypes.get_errno(), f"bind-mounting {source} over {target}")


async def resolve_stage(host: str) -> dict[str, Any]:
    """The real handshake's verdict on `host` (it ends at the resolve stage for every name we ask)."""
    settings = SmtpSettings.model_validate(
        {
            "host": host,
            "port": 587,
            "security": "starttls",
            "username": "ada@example.com",
            "password": "Corr3ct-Horse",
        }
    )
    outcome = await perform_handshake(settings, policy=Policy(), deadline=time.monotonic() + 8)
    finding = outcome.findings[0]
    dumped = finding.model_dump(mode="json", by_alias=True)
    return {key: dumped[key] for key in ("code", "actor", "retryable", "field", "params")}


async def connect_stage(host: str, address: str = "127.0.0.1") -> dict[str, Any]:
    """The handshake's verdict for `host`:587 at `address` (nothing listens at 127.0.0.1 in this namespace:
    the connection is refused)."""
    settings = SmtpSettings.model_validate(
        {"host": host, "port": 587, "security": "starttls", "username": "ada@example.com", "password": "x"}
    )

    async def loopback(name: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(address)]

    policy = Policy(allowed_ports=frozenset({587}), allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    outcome = await perform_handshake(
        settings, policy=policy, deadline=time.monotonic() + 8, resolver=loopback
    )
    dumped = outcome.findings[0].model_dump(mode="json", by_alias=True)
    return {key: dumped[key] for key in ("code", "actor", "retryable", "field", "params")}


async def stripped_starttls() -> dict[str, Any]:
    """smtp.gmail.com:587 behind a middlebox that drops STARTTLS from the EHLO reply (a server on
    127.0.0.2:587 here: only root in this namespace may listen on 587)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 smtp.gmail.com ESMTP\r\n")
        while line := await reader.readline():
            if line.upper().startswith(b"EHLO"):
                writer.write(b"250-smtp.gmail.com at your service\r\n250-SIZE 35882577\r\n250 8BITMIME\r\n")
            else:
                writer.write(b"221 2.0.0 closing connection\r\n")
                break
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.2", 587)
    async with server:
        return await connect_stage("smtp.gmail.com", address="127.0.0.2")


async def scenarios() -> dict[str, Any]:
    hosts = [f"{name}.{DOMAIN}" for name in NAMES]
    mx_lookup = DnsMxLookup()  # the system's resolver: our resolv.conf
    handshakes = await asyncio.gather(*(resolve_stage(host) for host in hosts))
    published = await asyncio.gather(*(resolve_stage(host) for host in PUBLISHED.values()))
    mx_hosts = [
        f"smtp.{DOMAIN}" if name == "nodata" else host for name, host in zip(NAMES, hosts, strict=True)
    ]
    mx = await asyncio.gather(*(mx_lookup(host, 1.5) for host in mx_hosts))
    refused = {host: await connect_stage(host) for host in ("smtp.gmail.com", f"smtp.{DOMAIN}")}
    stripped = await stripped_starttls()
    pinned = await system_resolver(HOSTS_FILE_NAME, 587)
    in_dns = await system_resolver(f"smtp.{DOMAIN}", 587)
    return {
        "handshake": dict(zip(NAMES, handshakes, strict=True)),
        "published": dict(zip(PUBLISHED, published, strict=True)),
        "mx": {name: answer.failure for name, answer in zip(NAMES, mx, strict=True)},
        "refused": refused,
        "stripped": stripped,
        "hostsFile": [str(address) for address in pinned],
        "dns": [str(address) for address in in_dns],
    }


def main() -> None:
    bring_up_loopback()
    files = Path(tempfile.mkdtemp(prefix="dns-namespace-"))
    (files / "resolv.conf").write_text(RESOLV_CONF)
    (files / "hosts").write_text(f"127.0.0.1 localhost\n192.0.2.7 {HOSTS_FILE_NAME}\n")
    bind_mount(files / "resolv.conf", "/etc/resolv.conf")
    bind_mount(files / "hosts", "/etc/hosts")
    quiet = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data")
    server = DNSServer(zone(), address="127.0.0.1", port=53, logger=quiet)
    server.start_thread()
    try:
        json.dump(asyncio.run(scenarios()), sys.stdout)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
