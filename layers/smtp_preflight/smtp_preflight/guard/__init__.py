"""Which hosts and addresses may be dialled: the service must never become an SSRF tool or a port scanner.

Public face: `normalise_host` (what a host field may contain), `resolve_public` (resolve once and approve
only public addresses on allowed ports), `address_verdict`, and the refusals `HostNotFound`,
`HostNotPublic`, `PortNotAllowed`; `DnsTemporaryFailure` when the resolver, not the name, failed.
- `hosts.py`: host syntax: punycode, case, refused notations.
- `addresses.py`: the IANA special-purpose tables and the resolver that applies them.
- `dns_answers.py`: what the resolver said when a name did not resolve, and who must act on it.
"""

from .addresses import (
    DnsTemporaryFailure,
    HostNotFound,
    HostNotPublic,
    PortNotAllowed,
    Resolver,
    address_verdict,
    addresses_to_try,
    approval_listener,
    resolve_public,
)
from .dns_answers import DnsAnswer, dnspython_answer
from .hosts import HostError, IPAddress, normalise_host, parse_ip_literal

__all__ = [
    "DnsAnswer",
    "DnsTemporaryFailure",
    "HostError",
    "HostNotFound",
    "HostNotPublic",
    "IPAddress",
    "PortNotAllowed",
    "Resolver",
    "address_verdict",
    "addresses_to_try",
    "approval_listener",
    "dnspython_answer",
    "normalise_host",
    "parse_ip_literal",
    "resolve_public",
]
