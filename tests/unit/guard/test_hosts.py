"""Normalisation and rejection of what people type into the host field."""

from __future__ import annotations

import pytest

from smtp_preflight.guard.hosts import HostError, normalise_host


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("smtp.gmail.com", "smtp.gmail.com"),
        ("SMTP.Gmail.COM", "smtp.gmail.com"),
        ("smtp.gmail.com.", "smtp.gmail.com"),
        ("smtp.bücher.de", "smtp.xn--bcher-kva.de"),
        ("SMTP.BÜCHER.DE.", "smtp.xn--bcher-kva.de"),
        ("mail.xn--bcher-kva.de", "mail.xn--bcher-kva.de"),
        ("142.250.102.108", "142.250.102.108"),
        ("2A00:1450:400C:0C0A:0000:0000:0000:006C", "2a00:1450:400c:c0a::6c"),
        ("[2a00:1450:400c:c0a::6c]", "2a00:1450:400c:c0a::6c"),
        ("localhost", "localhost"),
        ("a-b.example.co.uk", "a-b.example.co.uk"),
    ],
)
def test_hosts_are_normalised(typed: str, normalised: str) -> None:
    assert normalise_host(typed) == normalised


@pytest.mark.parametrize(
    "typed",
    [
        "",
        ".",
        "smtp.gmail.com:587",
        "https://smtp.gmail.com",
        "smtp://smtp.gmail.com",
        "smtp.gmail.com/",
        "user@smtp.gmail.com",
        "smtp gmail.com",
        " smtp.gmail.com",
        "smtp.gmail.com\n",
        "smtp.gmail.com\r\nRCPT TO:<x@y>",
        "127.0.0.1\x00.example.com",
        "smtp.gmail.com\t",
        "smtp",
        "-smtp.example.com",
        "smtp-.example.com",
        "smtp..example.com",
        "smtp_relay.example.com",
        "a" * 64 + ".example.com",
        ("a" * 60 + ".") * 5 + "com",
        # notations getaddrinfo() would quietly turn into loopback or 0.0.0.0
        "127.1",
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "0177.0.0.1",
        "0",
        "127.0.0.1:25",
        "http://127.0.0.1/",
        "user@127.0.0.1",
        "1.2.3.4.5",
        "fe80::1%eth0",
        "[::1]:25",
        "smtp.exa mple.com",
        "smtp.example.com\u200b",
    ],
)
def test_invalid_hosts_are_rejected(typed: str) -> None:
    with pytest.raises(HostError):
        normalise_host(typed)


def test_rejection_message_names_the_problem_for_people() -> None:
    with pytest.raises(HostError, match="port field"):
        normalise_host("smtp.gmail.com:587")
    with pytest.raises(HostError, match="not a URL"):
        normalise_host("https://smtp.gmail.com")
