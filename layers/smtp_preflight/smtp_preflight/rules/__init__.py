"""Provider knowledge and the rules that judge settings before anything is dialled.

Public face: `evaluate_rules` (settings → findings, no network), `RELEASE_CHECKS` (asked right before
AUTH, see `smtp_preflight.release`), `identify_provider`, `lookup_host`, and for judging a resolver's
answers, certificates and connections `is_published_host`, `is_submission_host`, `documented_ports`
and `RESOLVER_CHECK_NAMES`.
- `evaluate.py`: one function per rule (host, port and TLS mode, credentials, sender), in order.
- `providers.py`: the catalogue of provider hosts and what kind of endpoint each is; the names providers
  publish.
- `typos.py`: near-miss provider host names (slips inside a provider's own domain); recognising a host as
  typed.
- `distance.py`: how many typing slips apart two host names are.
- `lookalikes.py`: hosts that imitate a provider's server; the release check that withholds the secret.
- `tokens.py`: an OAuth token the server must refuse (`smtp_preflight.oauth`): the release checks that
  withhold it, and the same verdicts for a check that does not connect.
- `mailbox_providers.py`: which address domains and MX hosts are whose, and their published settings.
- `mismatch.py`: PROVIDER_MISMATCH (the sender's domain is hosted elsewhere than the host entered).
- `retirement.py`: Microsoft's basic-auth retirement, by date (before it, and after a login).
"""

from .evaluate import RELEASE_CHECKS, evaluate_rules, mode_mismatch_params
from .providers import (
    RESOLVER_CHECK_NAMES,
    HostKind,
    documented_ports,
    is_published_host,
    is_submission_host,
    lookup_host,
)
from .typos import identify_provider

__all__ = [
    "RELEASE_CHECKS",
    "RESOLVER_CHECK_NAMES",
    "HostKind",
    "documented_ports",
    "evaluate_rules",
    "identify_provider",
    "is_published_host",
    "is_submission_host",
    "lookup_host",
    "mode_mismatch_params",
]
