"""How we verify a server's TLS, and what we report about the session and its certificate.

One verifying client context per policy (so per process): the system's trust roots plus the operator's
extra CA files (`Policy.ca_files`, for test CAs and the local demo), TLS 1.2 or newer, chain and host
name checked.
The host name the customer typed is the SNI name and the name checked against the certificate, while
the socket is connected to the address the guard approved.
"""

from __future__ import annotations

import logging
import math
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from smtp_preflight.config.policy import Policy
from smtp_preflight.model.report import CertificateInfo, TlsInfo
from smtp_preflight.safe_text import strip_controls, truncate

MAX_FIELD_CHARS = 300
MAX_SANS = 50  # a certificate may name thousands of hosts; a report shows the first ones

TextCleaner = Callable[[str], str]


def _plain_text(text: str) -> str:
    return truncate(strip_controls(text), MAX_FIELD_CHARS)


logger = logging.getLogger(__name__)

MINIMUM_TLS_VERSION = ssl.TLSVersion.TLSv1_2
EXPIRY_WARNING_DAYS = 14

_NAME_KEYS = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
}


MAX_CONTEXTS = 8  # one per policy; a process has one, tests a few at a time


def client_context(policy: Policy) -> ssl.SSLContext:
    """A context that verifies chain and host name, trusts `policy.ca_files` too, and refuses < TLS 1.2.

    Made once per policy and reused for every connection (warm Lambda invocations, batch checks): loading
    the system's trust roots costs ~20 ms. If `prepare_client_context` started it already, this waits
    for that one instead of making a second.
    """
    return _made(policy, in_background=False).result()


def prepare_client_context(policy: Policy) -> None:
    """Start making `policy`'s context in a thread, so that its ~20 ms pass while the caller does other
    work: the rest of a function's init, or a check's first network waits (the abuse limits, DNS,
    connect, banner, EHLO). OpenSSL loads the trust roots without holding the GIL. A no-op once it is
    made or being made."""
    _made(policy, in_background=True)


_contexts: dict[Policy, Future[ssl.SSLContext]] = {}
_contexts_lock = threading.Lock()


def _made(policy: Policy, *, in_background: bool) -> Future[ssl.SSLContext]:
    """The context's future; the first caller makes it (here or in a thread), later ones share it."""
    with _contexts_lock:
        made = _contexts.get(policy)
        if made is not None:
            return made
        made = _contexts[policy] = Future()
        while len(_contexts) > MAX_CONTEXTS:
            del _contexts[next(iter(_contexts))]
    if in_background:
        # not a daemon: the interpreter waits for it at exit rather than freeing OpenSSL under it
        threading.Thread(target=_make_into, args=(made, policy), name="tls-context").start()
    else:
        _make_into(made, policy)
    return made


def _make_into(made: Future[ssl.SSLContext], policy: Policy) -> None:
    try:
        made.set_result(_new_context(policy))
    except BaseException as exc:  # the waiting check raises it (and the next one tries again)
        with _contexts_lock:
            if _contexts.get(policy) is made:
                del _contexts[policy]
        made.set_exception(exc)


def _new_context(policy: Policy) -> ssl.SSLContext:
    """`policy`'s verifying context.

    `Policy.from_env` refused CA files that do not load; one that went away since is logged and skipped
    rather than failing the check.

    Python 3.13 turns on OpenSSL's strict RFC 5280 profile checks by default; mail clients do not use
    them, so we clear the flag: the verdict then matches what senders experience and does not depend
    on the Lambda runtime's Python version. Chain, expiry and host name are still verified.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    context.minimum_version = MINIMUM_TLS_VERSION
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    for path in policy.ca_files:
        try:
            context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            logger.warning("cannot load CA file %s: %s", path, type(exc).__name__)
    return context


def tls_info(
    ssl_object: ssl.SSLObject | ssl.SSLSocket,
    now: datetime | None = None,
    *,
    clean_text: TextCleaner = _plain_text,
) -> TlsInfo:
    """Protocol version, cipher and (verified) certificate of an established TLS session. Every string
    passes through `clean_text`: a certificate's names are whatever its owner wrote into it."""
    cipher = ssl_object.cipher()
    peer = ssl_object.getpeercert()
    return TlsInfo(
        version=clean_text(ssl_object.version() or "unknown"),
        cipher=clean_text(cipher[0] if cipher else "unknown"),
        certificate=certificate_info(peer, now, clean_text=clean_text) if peer else None,
    )


def certificate_info(
    peer: dict[str, Any], now: datetime | None = None, *, clean_text: TextCleaner = _plain_text
) -> CertificateInfo:
    """The parts of `getpeercert()` people need: who it names, who signed it, and when it expires."""
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(peer["notAfter"]), tz=UTC)
    current = now or datetime.now(UTC)
    return CertificateInfo(
        subject=clean_text(_distinguished_name(peer.get("subject", ()))),
        issuer=clean_text(_distinguished_name(peer.get("issuer", ()))),
        sans=[clean_text(str(value)) for _kind, value in peer.get("subjectAltName", ())][:MAX_SANS],
        not_after=not_after,
        days_left=math.floor((not_after - current).total_seconds() / 86400),
    )


def _distinguished_name(rdns: Any) -> str:
    parts = [f"{_NAME_KEYS.get(key, key)}={value}" for rdn in rdns for key, value in rdn]
    return ", ".join(parts)
