"""OAuth tokens against loopback servers that behave like Microsoft 365 (`AUTH LOGIN XOAUTH2`, then
`535 5.7.3 Authentication unsuccessful`) and like Google (the 334 JSON challenge, then 535 after the
client's empty line), with real TLS (a trustme CA for smtp.office365.com and smtp.gmail.com):

- a token the server must refuse is reported with no AUTH sent (the release gate), the connection still
  verified and closed with QUIT;
- a usable-looking token is tried exactly once, and its refusal explained;
- the challenge is decoded;
- the token (minted here: claims chosen by the test, random signature) appears nowhere in the report, the
  printed text or the logs.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
import trustme

from local.oauth_token import APP_ID, microsoft_claims, mint_jwt, opaque
from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import IPAddress
from smtp_preflight.handshake import HandshakeOutcome, perform_handshake
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.release import ReleaseGate
from smtp_preflight.rules.tokens import token_release_checks
from tests.support.canary import as_text, assert_no_canary
from tests.support.smtp_servers import Wire, captured_logs, printed, raw_server, submission_script
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(20)

MICROSOFT = "smtp.office365.com"
GOOGLE = "smtp.gmail.com"
MAILBOX = "alice@contoso.com"
MICROSOFT_EHLO = (
    b"250-AM0PR02CA0001.outlook.office365.com Hello [203.0.113.9]\r\n250-SIZE 157286400\r\n"
    b"250-AUTH LOGIN XOAUTH2\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
)
GOOGLE_EHLO = (
    b"250-smtp.gmail.com at your service, [203.0.113.9]\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n"
    b"250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n250-ENHANCEDSTATUSCODES\r\n"
    b"250 SMTPUTF8\r\n"
)
MICROSOFT_REFUSAL = b"535 5.7.3 Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com]\r\n"
GOOGLE_CHALLENGE = (
    b"334 "
    + base64.b64encode(
        json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}).encode()
    )
    + b"\r\n"
)
GOOGLE_FINAL = (
    b"535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
    b"535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1-v6sm1.11 - gsmtp\r\n"
)


@dataclass(frozen=True)
class Providers:
    ca_file: str
    contexts: dict[str, ssl.SSLContext]


@pytest.fixture(scope="module")
def providers(tmp_path_factory: pytest.TempPathFactory) -> Providers:
    ca = trustme.CA()
    ca_file = Path(tmp_path_factory.mktemp("oauth-ca")) / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    contexts = {}
    for host in (MICROSOFT, GOOGLE):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(host).configure_cert(context)
        contexts[host] = context
    return Providers(str(ca_file), contexts)


async def _loopback(host: str, port: int) -> list[IPAddress]:
    assert host in (MICROSOFT, GOOGLE), f"unexpected lookup of {host}"
    return [ipaddress.ip_address("127.0.0.1")]


@dataclass
class Run:
    outcome: HandshakeOutcome
    wire: Wire
    logs: str

    @property
    def codes(self) -> list[str]:
        return [finding.code for finding in self.outcome.findings]

    def finding(self, code: str) -> dict[str, object]:
        return next(f for f in self.outcome.findings if f.code == code).model_dump(mode="json")

    def auth_stage(self) -> dict[str, object]:
        return next(s for s in self.outcome.handshake.stages if s.name == "auth").model_dump(mode="json")


def check(
    providers: Providers,
    guard: SocketGuard,
    host: str,
    token: str,
    replies: tuple[bytes, ...],
    *,
    username: str = MAILBOX,
    gate: ReleaseGate | None = None,
) -> Run:
    ehlo = MICROSOFT_EHLO if host == MICROSOFT else GOOGLE_EHLO
    script = submission_script(providers.contexts[host], ehlo_after_tls=ehlo, replies=replies)

    async def scenario() -> tuple[HandshakeOutcome, Wire]:
        async with raw_server(script) as server:
            settings = SmtpSettings.model_validate(
                {
                    "host": host,
                    "port": server.port,
                    "security": "starttls",
                    "username": username,
                    "authMethod": "xoauth2",
                    "oauthToken": token,
                }
            )
            policy = Policy(
                allowed_ports=frozenset({server.port}),
                allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
                ca_files=(providers.ca_file,),
            )
            outcome = await perform_handshake(
                settings, policy=policy, deadline=time.monotonic() + 8, resolver=_loopback, gate=gate
            )
            return outcome, server.wire

    with guard.armed(), captured_logs() as logs:
        outcome, wire = asyncio.run(scenario())
    run = Run(outcome, wire, logs.getvalue())
    _assert_no_trace_of(token.removeprefix("Bearer "), run)  # the word our wording quotes is no secret
    return run


def _assert_no_trace_of(token: str, run: Run) -> None:
    """The token, any run of it and its base64 forms: in the report, the printed text, the logs, nowhere;
    and never before TLS on the wire."""
    report = {
        "handshake": run.outcome.handshake.model_dump(mode="json", by_alias=True),
        "findings": [finding.model_dump(mode="json", by_alias=True) for finding in run.outcome.findings],
    }
    assert_no_canary([as_text(report), printed(run.outcome), run.logs], token, where="report, text, logs")
    assert_no_canary(bytes(run.wire.clear).decode("latin-1"), token, where="the wire before TLS")


def delegated(**claims: object) -> str:
    return mint_jwt(microsoft_claims(**{"user": MAILBOX, **claims}))  # type: ignore[arg-type]


def app_only(*roles: str, **claims: object) -> str:
    return mint_jwt(microsoft_claims(scp=None, roles=list(roles), **claims))  # type: ignore[arg-type]


WITHHELD_BY_MICROSOFT: dict[str, tuple[Callable[[], str], str]] = {
    "Graph token": (
        lambda: delegated(audience="https://graph.microsoft.com", scp="Mail.Send"),
        "OAUTH_TOKEN_WRONG_AUDIENCE",
    ),
    "no SMTP.Send": (lambda: delegated(scp="IMAP.AccessAsUser.All"), "OAUTH_TOKEN_MISSING_SCOPE"),
    "app without SMTP.SendAsApp": (lambda: app_only("full_access_as_app"), "OAUTH_TOKEN_MISSING_SCOPE"),
    "expired": (lambda: delegated(expires_in=-3600), "OAUTH_TOKEN_EXPIRED"),
    "not valid yet": (lambda: delegated(now=time.time() + 3600), "OAUTH_TOKEN_EXPIRED"),
    "another mailbox": (lambda: delegated(user="bob@contoso.com"), "OAUTH_TOKEN_WRONG_USER"),
    "refresh token": (lambda: opaque("0.AXEAv"), "OAUTH_NOT_AN_ACCESS_TOKEN"),
    "ID token": (lambda: mint_jwt(microsoft_claims(audience=APP_ID, scp=None)), "OAUTH_NOT_AN_ACCESS_TOKEN"),
    "Google's token": (lambda: opaque("ya29.a0AfB_"), "OAUTH_TOKEN_WRONG_PROVIDER"),
    "Bearer prefix": (lambda: "Bearer " + delegated(), "OAUTH_TOKEN_MALFORMED"),
}  # fmt: skip

WITHHELD_BY_GOOGLE: dict[str, tuple[Callable[[], str], str]] = {
    "refresh token": (lambda: opaque("1//0gLxW"), "OAUTH_NOT_AN_ACCESS_TOKEN"),
    "authorization code": (lambda: opaque("4/0AX4XfW"), "OAUTH_NOT_AN_ACCESS_TOKEN"),
    "ID token": (
        lambda: mint_jwt({"iss": "https://accounts.google.com", "aud": "1.apps.googleusercontent.com",
                          "email": "alice@contoso.com", "exp": int(time.time()) + 3600}),
        "OAUTH_NOT_AN_ACCESS_TOKEN",
    ),
    "Microsoft's token": (delegated, "OAUTH_TOKEN_WRONG_PROVIDER"),
}  # fmt: skip


def _withheld(run: Run, expected: str) -> None:
    assert run.codes == [expected]
    assert run.wire.auth_commands() == 0  # the secret never left
    assert not any(line.upper().startswith(b"AUTH") for line in run.wire.lines)
    assert run.wire.lines[-1].upper() == b"QUIT"  # a clean goodbye after a verified connection
    stage = run.auth_stage()
    assert stage["ok"] is False
    assert "no credentials were sent" in str(stage["detail"])
    assert [s.name.value for s in run.outcome.handshake.stages if s.ok] == [
        "resolve", "connect", "banner", "ehlo", "starttls", "tls", "ehlo", "quit",
    ]  # fmt: skip


@pytest.mark.parametrize("case", WITHHELD_BY_MICROSOFT)
def test_tokens_microsoft_would_refuse_never_leave(
    providers: Providers, socket_guard: SocketGuard, case: str
) -> None:
    make, expected = WITHHELD_BY_MICROSOFT[case]

    run = check(providers, socket_guard, MICROSOFT, make(), (MICROSOFT_REFUSAL,))

    _withheld(run, expected)


@pytest.mark.parametrize("case", WITHHELD_BY_GOOGLE)
def test_tokens_google_would_refuse_never_leave(
    providers: Providers, socket_guard: SocketGuard, case: str
) -> None:
    make, expected = WITHHELD_BY_GOOGLE[case]

    run = check(providers, socket_guard, GOOGLE, make(), (GOOGLE_CHALLENGE, GOOGLE_FINAL))

    _withheld(run, expected)


def test_several_problems_are_reported_together(providers: Providers, socket_guard: SocketGuard) -> None:
    token = delegated(
        audience="https://graph.microsoft.com", user="bob@contoso.com", expires_in=-60 * 60 * 24
    )

    run = check(providers, socket_guard, MICROSOFT, token, (MICROSOFT_REFUSAL,))

    assert run.codes == ["OAUTH_TOKEN_EXPIRED", "OAUTH_TOKEN_WRONG_AUDIENCE", "OAUTH_TOKEN_WRONG_USER"]
    assert run.wire.auth_commands() == 0


@pytest.mark.parametrize(
    ("token", "remedy", "named"),
    [
        (delegated, "m365Delegated", "Set-CASMailbox"),
        (partial(app_only, "SMTP.SendAsApp"), "m365Application", "Add-MailboxPermission"),
    ],
)
def test_a_usable_looking_microsoft_token_is_tried_once_and_its_refusal_explained(
    providers: Providers, socket_guard: SocketGuard, token: Callable[[], str], remedy: str, named: str
) -> None:
    run = check(providers, socket_guard, MICROSOFT, token(), (MICROSOFT_REFUSAL,))

    assert run.codes == ["OAUTH_TOKEN_REFUSED", "OAUTH_TOKEN_CLAIMS"]
    assert run.wire.auth_commands() == 1
    assert next(line for line in run.wire.lines if line.startswith(b"AUTH")).startswith(b"AUTH XOAUTH2 ")
    refused, claims = run.finding("OAUTH_TOKEN_REFUSED"), run.finding("OAUTH_TOKEN_CLAIMS")
    assert refused["params"]["remedy"] == remedy  # type: ignore[index]
    assert "5.7.3" in str(refused["params"]["reply"])  # type: ignore[index]
    assert named in str(refused["advice"])
    assert refused["actor"] == "admin"
    assert claims["params"]["audience"] == "https://outlook.office.com"  # type: ignore[index]
    assert claims["params"]["tenant_id"] == microsoft_claims()["tid"]  # type: ignore[index]


def test_microsofts_invalid_xoauth2_data_reply_points_at_the_username(
    providers: Providers, socket_guard: SocketGuard
) -> None:
    reply = b"501 5.5.124 Invalid XOAUTH2 auth data - User address provided is not valid.\r\n"

    run = check(providers, socket_guard, MICROSOFT, delegated(), (reply,))

    assert run.codes == ["OAUTH_TOKEN_REFUSED", "OAUTH_TOKEN_CLAIMS"]
    assert run.finding("OAUTH_TOKEN_REFUSED")["params"]["remedy"] == "userAddress"  # type: ignore[index]
    assert run.wire.auth_commands() == 1


def test_a_usable_looking_token_that_logs_in_is_accepted(
    providers: Providers, socket_guard: SocketGuard
) -> None:
    run = check(
        providers, socket_guard, MICROSOFT, delegated(), (b"235 2.7.0 Authentication successful\r\n",)
    )

    assert run.codes == ["LOGIN_ACCEPTED"]
    assert run.wire.auth_commands() == 1


def test_googles_challenge_is_decoded_after_one_auth_and_an_empty_line(
    providers: Providers, socket_guard: SocketGuard
) -> None:
    run = check(providers, socket_guard, GOOGLE, opaque("ya29.a0AfB_"), (GOOGLE_CHALLENGE, GOOGLE_FINAL))

    assert run.codes == ["OAUTH_TOKEN_REJECTED"]
    assert run.wire.auth_commands() == 1
    auth = next(index for index, line in enumerate(run.wire.lines) if line.startswith(b"AUTH"))
    after_auth = run.wire.lines[auth + 1]
    assert after_auth == b""  # the client's empty line fetches the final reply
    rejected = run.finding("OAUTH_TOKEN_REJECTED")
    assert rejected["params"]["status"] == "401"  # type: ignore[index]
    assert rejected["params"]["expected_scope"] == "https://mail.google.com/"  # type: ignore[index]
    assert "https://mail.google.com/" in str(rejected["message"])
    assert str(rejected["params"]["reply"]).startswith("535 5.7.8")  # type: ignore[index]
    shown = [(line.dir, line.line) for line in run.outcome.handshake.transcript]
    assert ("C", "AUTH XOAUTH2 [redacted]") in shown
    assert ("C", "") in shown  # the empty line is shown as what it is: nothing


def test_the_gate_reads_the_time_from_the_injected_clock(
    providers: Providers, socket_guard: SocketGuard
) -> None:
    moment = datetime(2031, 3, 14, 9, 26, 53, tzinfo=UTC)
    token = delegated(now=moment.timestamp())  # valid for an hour from that moment only
    gate = ReleaseGate(token_release_checks(clock=lambda: moment))

    run = check(providers, socket_guard, MICROSOFT, token, (MICROSOFT_REFUSAL,), gate=gate)

    assert run.codes == ["OAUTH_TOKEN_REFUSED", "OAUTH_TOKEN_CLAIMS"]  # tried: valid at that moment
    assert run.wire.auth_commands() == 1
