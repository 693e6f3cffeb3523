"""What identifies a mailbox for the failed-login limits: the account, not the spelling typed."""

from __future__ import annotations

import pytest

from smtp_preflight.limits import Mailbox, canonical_host, mailbox_address, worker_share
from smtp_preflight.model.settings import SmtpSettings


def mailbox(host: str, username: str) -> Mailbox | None:
    settings = SmtpSettings.model_validate(
        {"host": host, "port": 587, "security": "starttls", "username": username, "password": "pw"}
    )
    return Mailbox.of(settings)


@pytest.mark.parametrize(
    "spelling",
    [
        "ab@gmail.com",
        "a.b@gmail.com",
        "A.B+newsletter@Gmail.com",
        " a.b.+x@googlemail.com ",
        "AB@GMAIL.COM.",
        "a..b+@gmail.com",
    ],
)
def test_spellings_of_one_gmail_account_are_one_mailbox(spelling: str) -> None:
    assert mailbox("smtp.gmail.com", spelling) == mailbox("smtp.gmail.com", "ab@gmail.com")
    # the host typed does not matter when the username is an address
    assert mailbox("smtp.googlemail.com", spelling) == mailbox("smtp.gmail.com", "ab@gmail.com")


@pytest.mark.parametrize(
    ("spelling", "account"),
    [
        ("Alice+tag@Outlook.com", "alice@outlook.com"),
        ("bob+x@hotmail.com", "bob@hotmail.com"),
        ("carol+list@fastmail.com", "carol@fastmail.com"),
        ("dave+shop@proton.me", "dave@proton.me"),
        ("Erin@Bücher.example", "erin@xn--bcher-kva.example"),
    ],
)
def test_addresses_fold_as_their_provider_documents(spelling: str, account: str) -> None:
    assert mailbox_address(spelling) == account


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("a.b@outlook.com", "ab@outlook.com"),  # dots matter outside Gmail
        ("a+b@example.com", "a@example.com"),  # +tags are only folded where the provider says so
        ("ab@gmail.com", "ab@gmail.co"),
    ],
)
def test_different_accounts_stay_apart(first: str, second: str) -> None:
    assert mailbox_address(first) != mailbox_address(second)


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST.", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1", "a.localhost"],
)
def test_every_loopback_spelling_is_one_host(host: str) -> None:
    assert canonical_host(host) == "localhost"
    assert mailbox(host, "alice") == mailbox("localhost", "alice")


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("SMTP.Example.COM.", "smtp.example.com"),
        ("smtp.bücher.example", "smtp.xn--bcher-kva.example"),
        ("[2001:DB8:0:0::1]", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
    ],
)
def test_hosts_are_canonical(host: str, canonical: str) -> None:
    assert canonical_host(host) == canonical


def test_a_plain_username_is_paired_with_the_host() -> None:
    assert mailbox("smtp.example.com", " Alice") == Mailbox(host="smtp.example.com", username="alice")
    assert mailbox("smtp.example.com", "alice") != mailbox("smtp.example.net", "alice")


@pytest.mark.parametrize(
    ("invocations", "share"), [(1, 1), (2, 1), (4, 2), (5, 2), (9, 4), (10, 5), (50, 25)]
)
def test_a_tenants_share_of_the_worker_is_half_its_invocations_and_at_least_one(
    invocations: int, share: int
) -> None:
    assert worker_share(invocations) == share
