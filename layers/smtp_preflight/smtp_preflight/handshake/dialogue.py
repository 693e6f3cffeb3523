"""The real SMTP handshake, from the cloud, bounded by one deadline and careful with credentials.

resolve (guard) → connect (each approved address in turn) → [TLS for `tls`] → banner → EHLO →
[STARTTLS → TLS] → EHLO → release gate → AUTH (one attempt, one mechanism) → [MAIL, RCPT, DATA] → QUIT.

Round trips are what a person waits for: AUTH PLAIN and XOAUTH2 carry their initial response, MAIL,
RCPT and DATA go in one flight where the server offers PIPELINING, and QUIT is sent but not waited
for. STARTTLS + AUTH thus costs 5.5 round trips (banner ½, EHLO, STARTTLS, TLS 1.3, EHLO, AUTH).

Guarantees kept here:
- one overall deadline (`asyncio.timeout_at`) around the whole dialogue; replies are size-bounded by
  the wire (`connection.py`), so a trickling or endless server ends the check in time;
- credentials are sent only over TLS whose chain and host name were verified (`tls.py`), only when
  the release gate has no objection (`smtp_preflight.release`: look-alike hosts, limits, ...), and
  at most one AUTH command is ever sent, with exactly one mechanism: never a fallback to another;
- every stage is recorded; a failing stage ends the dialogue with findings from `diagnosis.py`,
  matched on that stage's reply only; the transcript is redacted (`transcript.py`).
- a refused OAuth token is explained by what it looked like (`smtp_preflight.oauth.refusals`); the
  XOAUTH2 error challenge (`334` + base64 JSON) is decoded before the empty line that fetches the final
  reply.

A successful check says only what was proven: the TLS connection verified, the login accepted, or a
message accepted for delivery (never "delivered").
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from typing import NoReturn

from aiosmtplib import SMTPDataError, SMTPException, SMTPResponse, SMTPResponseException
from aiosmtplib.auth import auth_login_encode, auth_plain_encode, auth_xoauth2_encode
from aiosmtplib.esmtp import parse_esmtp_extensions

from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import (
    DnsTemporaryFailure,
    HostNotFound,
    HostNotPublic,
    IPAddress,
    PortNotAllowed,
    Resolver,
    addresses_to_try,
    resolve_public,
)
from smtp_preflight.limits import LoginAttempt
from smtp_preflight.model.findings import Finding, ParamValue, make_finding
from smtp_preflight.model.progress import NoProgress, SafeObserver, StageObserver
from smtp_preflight.model.report import (
    AddressAttempt,
    Handshake,
    Reply,
    Stage,
    StageName,
    TlsInfo,
    TranscriptLine,
)
from smtp_preflight.model.settings import AuthMethod, Security, SmtpSettings
from smtp_preflight.oauth import Challenge, read_challenge, read_token, refusal_findings
from smtp_preflight.release import ReleaseFacts, ReleaseGate
from smtp_preflight.rules import RELEASE_CHECKS, RESOLVER_CHECK_NAMES, is_published_host, lookup_host
from smtp_preflight.safe_text import protocol_token

from .connection import CLOSE_GRACE_SECONDS, MalformedReply, SmtpConnection, connect_socket
from .diagnosis import (
    NOT_TLS_REASONS,
    Context,
    best_connect_error,
    build_reply,
    describe_exception,
    diagnose_error,
    diagnose_reply,
    missing_starttls,
    mode_mismatch,
    stage_finding,
)
from .probe_message import build_test_message
from .tls import EXPIRY_WARNING_DAYS, client_context, tls_info
from .transcript import WITHHELD, Redactor, Transcript, clean

__all__ = ["HandshakeOutcome", "choose_mechanism", "perform_handshake"]

logger = logging.getLogger(__name__)

S = StageName
CONNECT_WAIT_SECONDS = 10.0  # per address, shared fairly when several addresses remain
BANNER_WAIT_SECONDS = 10.0  # before suspecting a TLS-from-the-start port (STARTTLS chosen)
MIN_QUIT_SECONDS = 0.05

PASSWORD_MECHANISMS = ("PLAIN", "LOGIN")  # in order of preference; PLAIN is one round trip
TOKEN_MECHANISMS = ("XOAUTH2",)

_HANDLED = (
    OSError,
    ssl.SSLError,
    SMTPException,
    MalformedReply,
    HostNotFound,
    DnsTemporaryFailure,
    HostNotPublic,
    PortNotAllowed,
)


@dataclass(frozen=True, slots=True)
class HandshakeOutcome:
    handshake: Handshake
    findings: list[Finding]


async def perform_handshake(
    settings: SmtpSettings,
    *,
    policy: Policy,
    deadline: float,
    resolver: Resolver | None = None,
    observer: StageObserver | None = None,
    login: LoginAttempt | None = None,
    gate: ReleaseGate | None = None,
) -> HandshakeOutcome:
    """Run the dialogue against `settings.host` until it fails or proves what it can, by `deadline`
    (an absolute `time.monotonic()` value). Never raises for anything the server or network does.
    `observer` hears each stage start and finish (see `smtp_preflight.model.progress`); `login` learns whether
    AUTH was sent and accepted (the abuse limits count failed logins); `gate` decides right before AUTH
    whether the secret may leave (default: the standard checks, `rules.RELEASE_CHECKS`)."""
    dialogue = _Dialogue(
        settings,
        policy,
        deadline,
        resolver,
        observer or NoProgress(),
        login=login or LoginAttempt(),
        gate=gate or ReleaseGate(RELEASE_CHECKS),
    )
    return await dialogue.run()


def choose_mechanism(auth_method: AuthMethod, offered: list[str]) -> str | None:
    """The ONE mechanism we will use, or None: PLAIN, else LOGIN for passwords; XOAUTH2 for tokens."""
    return next((mechanism for mechanism in _wanted(auth_method) if mechanism in offered), None)


def _wanted(auth_method: AuthMethod) -> tuple[str, ...]:
    return TOKEN_MECHANISMS if auth_method is AuthMethod.XOAUTH2 else PASSWORD_MECHANISMS


class _Stop(Exception):
    """The dialogue ends here; the stage and its finding are already recorded."""


class _Dialogue:
    def __init__(
        self,
        settings: SmtpSettings,
        policy: Policy,
        deadline: float,
        resolver: Resolver | None,
        observer: StageObserver,
        *,
        login: LoginAttempt,
        gate: ReleaseGate,
    ):
        self.settings = settings
        self.gate = gate
        self.observer = SafeObserver(observer)
        self.login = login
        self.policy = policy
        self.deadline = deadline
        self.resolver = resolver
        secret = settings.secret.get_secret_value() if settings.secret else None
        self.redact = Redactor(secret, settings.username)
        self.transcript = Transcript(self.redact)
        self.context = Context(settings.host, settings.port, settings.security, self.redact)
        self.findings: list[Finding] = []
        self.stages: list[Stage] = []
        self.attempts: list[AddressAttempt] = []
        self.address: str | None = None
        self.tls: TlsInfo | None = None
        self.auth_mechanisms: list[str] = []
        self.connection: SmtpConnection | None = None
        self.may_quit = False
        self.pipelining = False  # the server offered PIPELINING after TLS
        self.auth_commands_sent = 0
        self.challenge: Challenge | None = None  # the server's XOAUTH2 error challenge, decoded
        self._stage: StageName = S.RESOLVE
        self._stage_started: float | None = None

    @property
    def tls_context(self) -> ssl.SSLContext:
        """Asked for only when TLS starts: a context still being made (`prepare_client_context`) has had
        the connection's first round trips to finish."""
        return client_context(self.policy)

    # --- running ---------------------------------------------------------------------------------------
    async def run(self) -> HandshakeOutcome:
        loop = asyncio.get_running_loop()
        try:
            try:
                async with asyncio.timeout_at(loop.time() + self._remaining()):
                    await self._dialogue()
            except _Stop:
                pass
            except _HANDLED as error:  # includes TimeoutError: the overall deadline
                self._fail(error)
            await self._quit()
        finally:
            if self.connection is not None:  # never past the deadline: a half-done TLS probe never closes
                await self.connection.close(grace=min(CLOSE_GRACE_SECONDS, self._remaining()))
        transcript, tls = self._withhold_spread_echoes()
        return HandshakeOutcome(
            handshake=Handshake(
                attempted=True,
                address=self.address,
                addresses=self.attempts,
                stages=self.stages,
                tls=tls,
                auth_mechanisms=self.auth_mechanisms,
                transcript=transcript,
                withheld_echoes=self.redact.echoes,
            ),
            findings=self.findings,
        )

    def _withhold_spread_echoes(self) -> tuple[list[TranscriptLine], TlsInfo | None]:
        """The transcript and TLS facts, with every text withheld that holds a piece of the secret only
        together with others (banner, EHLO reply, replies, the certificate's names)."""
        certificate = self.tls.certificate if self.tls is not None else None
        names = [certificate.subject, certificate.issuer, *certificate.sans] if certificate else []
        transcript = self.transcript.lines(*names)
        if certificate is None or not self.transcript.spread_others:
            return transcript, self.tls
        shown = [WITHHELD if i in self.transcript.spread_others else name for i, name in enumerate(names)]
        withheld = certificate.model_copy(update={"subject": shown[0], "issuer": shown[1], "sans": shown[2:]})
        return transcript, self.tls.model_copy(update={"certificate": withheld}) if self.tls else None

    async def _dialogue(self) -> None:
        addresses = await self._resolve()
        sock = await self._connect(addresses)
        secure_from_start = self.settings.security is Security.TLS
        if secure_from_start:
            self._begin(S.TLS)
        self.connection = connection = await SmtpConnection.attach(
            sock,
            self.transcript,
            tls_context=self.tls_context if secure_from_start else None,
            server_hostname=self.settings.host,
        )
        if secure_from_start:
            self._tls_established(connection)
        await self._banner(connection)
        extensions = await self._ehlo(connection)
        if not secure_from_start:
            await self._starttls(connection, extensions)
            extensions = await self._ehlo(connection)
        self.auth_mechanisms = _auth_mechanisms(extensions)
        self.pipelining = "pipelining" in extensions
        if self.settings.connection_only or self.settings.secret is None:  # nothing to log in with
            self.findings.append(self._success("CONNECTION_VERIFIED"))
            self.may_quit = True
            return
        mechanism = await self._authenticate(connection, extensions)
        self.findings.append(self._success("LOGIN_ACCEPTED", mechanism=mechanism))
        recipient = self.settings.test_recipient
        # the sender is worked out only for a message: validating it loads email-validator
        sender = self.settings.sender if recipient is not None else None
        if recipient is not None and sender is not None:
            await self._send_test_message(connection, sender, recipient)
            accepted = self._success("MESSAGE_ACCEPTED", sender=sender, recipient=recipient)
            self.findings.append(accepted)
        self.may_quit = True

    # --- stages ----------------------------------------------------------------------------------------
    async def _resolve(self) -> list[IPAddress]:
        self._begin(S.RESOLVE)
        host = self.settings.host
        # a published name's NXDOMAIN is the resolver's fault already; any other is checked against them
        known = () if is_published_host(host) else RESOLVER_CHECK_NAMES
        addresses = await resolve_public(
            host, self.settings.port, self.policy, resolver=self.resolver, known_names=known
        )
        self._end(True, detail=", ".join(str(address) for address in addresses))
        return addresses

    async def _connect(self, approved: list[IPAddress]) -> socket.socket:
        """Try the first few approved addresses in order (`addresses_to_try`), each with a fair share of
        the remaining time; the others are listed as not tried."""
        self._begin(S.CONNECT)
        addresses, skipped = addresses_to_try(approved, self.policy)
        limit = f"not tried: one check tries at most {self.policy.max_addresses} addresses"
        not_tried = [AddressAttempt(address=str(address), ok=False, error=limit) for address in skipped]
        errors: list[OSError] = []
        for index, address in enumerate(addresses):
            budget = min(CONNECT_WAIT_SECONDS, self._remaining() / (len(addresses) - index))
            try:
                async with asyncio.timeout(budget):
                    sock = await connect_socket(address, self.settings.port)
            except OSError as error:  # includes TimeoutError
                self.attempts.append(
                    AddressAttempt(
                        address=str(address), ok=False, error=describe_exception(error, self.redact)
                    )
                )
                errors.append(error)
                continue
            self.attempts.append(AddressAttempt(address=str(address), ok=True))
            self.attempts.extend(not_tried)
            self.address = str(address)
            self._end(True, detail=f"connected to {address}")
            return sock
        self.attempts.extend(not_tried)
        raise best_connect_error(list(errors), self.context)

    async def _banner(self, connection: SmtpConnection) -> None:
        """The greeting. Silence on a STARTTLS connection may mean the port wants TLS from the start:
        after half the remaining time, try a TLS handshake to find out (no credentials involved)."""
        self._begin(S.BANNER)
        starttls = self.settings.security is Security.STARTTLS
        wait = min(BANNER_WAIT_SECONDS, self._remaining() / 2) if starttls else self._remaining()
        try:
            async with asyncio.timeout(wait):
                response = await connection.read_reply()
        except TimeoutError:
            if starttls and await self._speaks_tls(connection):
                self._end(False, detail="no greeting, but the port answered a TLS handshake")
                self.findings.append(mode_mismatch(S.BANNER, self.context, expected=Security.TLS))
                raise _Stop from None
            raise
        self._expect(response, 220)

    async def _speaks_tls(self, connection: SmtpConnection) -> bool:
        try:
            await connection.probe_tls(self.tls_context, self.settings.host)
        except ssl.SSLCertVerificationError:
            return True
        except ssl.SSLError as error:
            return (error.reason or "") not in NOT_TLS_REASONS
        except (OSError, SMTPException):
            return False
        return True

    async def _ehlo(self, connection: SmtpConnection) -> dict[str, str]:
        self._begin(S.EHLO)
        response = await connection.command(b"EHLO", _ehlo_name(connection.local_address).encode("ascii"))
        self._expect(response, 250)
        extensions, _ = parse_esmtp_extensions(response.message)
        return extensions

    async def _starttls(self, connection: SmtpConnection, extensions: dict[str, str]) -> None:
        self._begin(S.STARTTLS)
        if "starttls" not in extensions:
            self._end(False, detail="the server did not advertise STARTTLS")
            code, masked = missing_starttls(self.context, extensions)
            params: dict[str, ParamValue] = {
                **self.context.params(S.STARTTLS),
                "detail": _advertised(extensions),
            }
            if masked is not None:
                params["masked"] = masked
            self.findings.append(make_finding(code, params))
            self.may_quit = True
            raise _Stop

        def ready(response: SMTPResponse) -> None:  # 220: the TLS handshake starts now
            if response.code == 220:
                self._end(True, reply=build_reply(response.code, response.message, self.redact))
                self._begin(S.TLS)

        connection.protocol.on_reply = ready
        try:
            await connection.starttls(self.tls_context, self.settings.host)
        except SMTPResponseException as error:
            if not 200 <= error.code <= 599:
                raise
            self._refuse(error.code, error.message)
        finally:
            connection.protocol.on_reply = None
        self._tls_established(connection)

    async def _authenticate(self, connection: SmtpConnection, extensions: dict[str, str]) -> str:
        self._begin(S.AUTH)
        mechanism = choose_mechanism(self.settings.auth_method, self.auth_mechanisms)
        if "auth" not in extensions or not self.auth_mechanisms:
            self._end(False, detail="the server did not advertise AUTH after TLS")
            self.findings.append(
                stage_finding("AUTH_NOT_OFFERED", S.AUTH, self.context, detail=_advertised(extensions))
            )
            self.may_quit = True
            raise _Stop
        if mechanism is None:
            offered, needed = " ".join(self.auth_mechanisms), " or ".join(_wanted(self.settings.auth_method))
            self._end(False, detail="no mechanism in common")
            self.findings.append(
                stage_finding(
                    "AUTH_MECHANISM_UNSUPPORTED",
                    S.AUTH,
                    self.context,
                    detail=f"the server offers {offered}; these credentials need {needed}",
                    offered=offered,
                    needed=needed,
                )
            )
            self.may_quit = True
            raise _Stop
        self._ask_gate(mechanism)
        self.transcript.auth_in_progress = True
        try:
            response = await self._send_credentials(connection, mechanism)
        finally:
            self.transcript.auth_in_progress = False
        self.login.accepted = response.code == 235
        self._expect(response, 235)
        return mechanism

    def _ask_gate(self, mechanism: str) -> None:
        """The release gate, right before the one AUTH: any objection ends the dialogue here, the AUTH
        stage not passed, nothing sent (QUIT follows), the objections in the report."""
        if self.tls is None:  # pragma: no cover - STARTTLS or implicit TLS always ran before this stage
            raise RuntimeError("the release gate needs a verified TLS session")
        facts = ReleaseFacts(
            settings=self.settings,
            tls=self.tls,
            offered_mechanisms=tuple(self.auth_mechanisms),
            mechanism=mechanism,
            address=self.address,
        )
        objections = self.gate.objections(facts)
        if not objections:
            return
        codes = ", ".join(finding.code for finding in objections)
        self._end(False, detail=f"withheld: no credentials were sent ({codes})")
        self.findings.extend(objections)
        self.may_quit = True
        raise _Stop

    async def _send_credentials(self, connection: SmtpConnection, mechanism: str) -> SMTPResponse:
        """Exactly one AUTH command, only over verified TLS. Continuations answer that one command."""
        if connection.ssl_object is None or self.tls is None:
            raise RuntimeError("refusing to send credentials without verified TLS")
        if self.auth_commands_sent:
            raise RuntimeError("refusing a second AUTH attempt")
        self.auth_commands_sent += 1
        self.login.sent = True  # from here on the attempt counts, whatever the server answers
        secret = self.settings.secret
        assert secret is not None  # noqa: S101 - checked by the caller
        username = self.settings.username or ""
        if mechanism == "PLAIN":
            return await connection.command(
                b"AUTH", b"PLAIN", auth_plain_encode(username, secret.get_secret_value())
            )
        if mechanism == "LOGIN":
            encoded_user, encoded_password = auth_login_encode(username, secret.get_secret_value())
            response = await connection.command(b"AUTH", b"LOGIN")
            if response.code == 334:
                response = await connection.command(encoded_user)
            if response.code == 334:
                response = await connection.command(encoded_password)
            return response
        token = auth_xoauth2_encode(username, secret.get_secret_value())
        response = await connection.command(b"AUTH", b"XOAUTH2", token)
        if response.code == 334:  # an error challenge (base64 JSON): an empty line fetches the final reply
            self.challenge = read_challenge(response.message)
            response = await connection.command(b"")
        return response

    async def _send_test_message(self, connection: SmtpConnection, sender: str, recipient: str) -> None:
        utf8 = not (sender.isascii() and recipient.isascii())
        mail_from = [b"MAIL", f"FROM:<{sender}>".encode()] + ([b"SMTPUTF8"] if utf8 else [])
        rcpt_to = [b"RCPT", f"TO:<{recipient}>".encode()]
        message = build_test_message(sender, recipient)
        if self.pipelining:
            await self._send_pipelined(connection, mail_from, rcpt_to, message)
            return
        self._begin(S.MAIL)
        self._expect(await connection.command(*mail_from), 250)
        self._begin(S.RCPT)
        self._expect(await connection.command(*rcpt_to), 250, 251)
        self._begin(S.DATA)
        try:
            response = await connection.data(message)
        except SMTPDataError as error:
            self._refuse(error.code, error.message)
        self._expect(response, 250)

    async def _send_pipelined(
        self, connection: SmtpConnection, mail_from: list[bytes], rcpt_to: list[bytes], message: bytes
    ) -> None:
        """MAIL, RCPT and DATA in one flight (RFC 2920), replies read in order: one round trip instead of
        three. Each stage lasts until its own reply arrives after the one before (so the stages still
        add up to the time spent); RCPT and DATA, sent with MAIL, say so. The first refusal ends the
        dialogue, diagnosed on its own reply; a DATA the server accepted anyway then never gets its
        final dot, so no message can be sent."""
        together = "pipelined: sent together with MAIL FROM"
        self._begin(S.MAIL)
        connection.send(*mail_from)
        connection.send(*rcpt_to)
        connection.send(b"DATA")
        self._expect(await connection.read_pipelined_reply(), 250)
        self._begin(S.RCPT)
        self._expect(await connection.read_pipelined_reply(), 250, 251, detail=together)
        self._begin(S.DATA)
        self._expect(await connection.read_pipelined_reply(), 354, end=False)
        connection.send_message(message)
        self._expect(await connection.read_pipelined_reply(), 250, detail=together)

    async def _quit(self) -> None:
        """A polite QUIT when the server is still talking to us, sent but not waited for: everything
        the check proves was proven before it, so its reply would only cost a round trip."""
        if self.connection is None or not self.may_quit or self._remaining() < MIN_QUIT_SECONDS:
            return
        self._begin(S.QUIT)
        try:
            self.connection.send(b"QUIT", reply_expected=False)
        except _HANDLED as error:
            self._end(False, detail=describe_exception(error, self.redact))
            return
        self._end(True, detail="sent; the reply is not waited for")

    # --- bookkeeping -----------------------------------------------------------------------------------
    def _remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def _begin(self, name: StageName) -> None:
        self._stage = name
        self._stage_started = time.monotonic()
        self.observer.on_stage_started(name)

    def _end(self, ok: bool, *, reply: Reply | None = None, detail: str | None = None) -> None:
        if self._stage_started is None:
            return
        duration_ms = round((time.monotonic() - self._stage_started) * 1000)
        stage = Stage(name=self._stage, ok=ok, duration_ms=duration_ms, reply=reply, detail=detail)
        self.stages.append(stage)
        self._stage_started = None
        self.observer.on_stage_finished(stage)
        logger.debug("handshake stage %s ok=%s in %d ms", self._stage.value, ok, duration_ms)

    def _expect(
        self, response: SMTPResponse, *codes: int, detail: str | None = None, end: bool = True
    ) -> None:
        """Refuse (end the dialogue) unless the reply has one of `codes`; else end the stage with it
        (unless `end` is False: the stage goes on, e.g. DATA after its 354)."""
        if response.code not in codes:
            self._refuse(response.code, response.message)
        if end:
            self._end(True, reply=build_reply(response.code, response.message, self.redact), detail=detail)

    def _refuse(self, code: int, message: str) -> NoReturn:
        reply = build_reply(code, message, self.redact)
        self._end(False, reply=reply)
        self.findings.extend(self._explained(diagnose_reply(self._stage, reply, self.context)))
        self.may_quit = True
        raise _Stop

    def _explained(self, finding: Finding) -> list[Finding]:
        """A refused OAuth token is explained by what it looked like and what remains (`oauth.refusals`)."""
        token = self.settings.oauth_token
        if self._stage is not S.AUTH or self.settings.auth_method is not AuthMethod.XOAUTH2 or token is None:
            return [finding]
        entry = lookup_host(self.settings.host)
        view = read_token(token.get_secret_value())
        return refusal_findings(finding, view, self.challenge, entry.provider if entry else None)

    def _fail(self, error: BaseException) -> None:
        self._end(False, detail=describe_exception(error, self.redact))
        self.findings.append(diagnose_error(self._stage, error, self.context))

    def _tls_established(self, connection: SmtpConnection) -> None:
        ssl_object = connection.ssl_object
        if ssl_object is None:  # pragma: no cover - asyncio always exposes it after a handshake
            raise RuntimeError("TLS handshake finished without an SSL object")
        self.tls = tls_info(ssl_object, clean_text=lambda text: clean(text, self.redact))
        self._end(True, detail=f"{self.tls.version}, {self.tls.cipher}")
        certificate = self.tls.certificate
        if certificate is not None and certificate.days_left <= EXPIRY_WARNING_DAYS:
            self.findings.append(
                stage_finding(
                    "CERT_EXPIRING_SOON",
                    S.TLS,
                    self.context,
                    days_left=certificate.days_left,
                    not_after=certificate.not_after.date().isoformat(),
                )
            )

    def _success(self, code: str, **params: str) -> Finding:
        """What was proven, with the TLS version it was proven over."""
        tls_version = self.tls.version if self.tls else "unknown"
        base: dict[str, ParamValue] = {
            "host": self.settings.host,
            "port": self.settings.port,
            "tls_version": tls_version,
        }
        return make_finding(code, {**base, **params})


def _auth_mechanisms(extensions: dict[str, str]) -> list[str]:
    """AUTH mechanisms as advertised (after TLS), upper-case, in the server's order, without repeats.
    Only SASL mechanism names (letters, digits, `-`, `_`) are kept: anything else a server sends there
    (escape sequences, invisible characters) is not a mechanism we could use, and is never shown."""
    words = (protocol_token(word) for word in extensions.get("auth", "").split())
    return list(dict.fromkeys(word for word in words if word is not None))


def _advertised(extensions: dict[str, str]) -> str:
    """The extension names (keywords only, see `protocol_token`), for findings' details."""
    names = " ".join(dict.fromkeys(name for name in map(protocol_token, extensions) if name)) or "nothing"
    return f"the server advertises: {names}"


def _ehlo_name(local_address: str | None) -> str:
    """Our EHLO name: the address literal of our end of the connection (RFC 5321 4.1.3), no DNS."""
    if local_address is None:
        return "[127.0.0.1]"
    return f"[IPv6:{local_address}]" if ":" in local_address else f"[{local_address}]"
