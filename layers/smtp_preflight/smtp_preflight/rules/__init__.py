"""Provider knowledge and the rules that judge settings before anything is dialled.

Public face: `evaluate_rules` (settings → findings, no network), `identify_provider`, `lookup_host`.
- `evaluate.py`: one function per rule (host, port and TLS mode, credentials, sender), in order.
- `providers.py`: the catalogue of provider hosts and what kind of endpoint each is.
- `typos.py`: near-miss and look-alike provider host names; recognising a host as typed.
- `distance.py`: how many typing slips apart two host names are.
- `mailbox_providers.py`: which address domains and MX hosts are whose, and their published settings.
- `mismatch.py`: PROVIDER_MISMATCH (the sender's domain is hosted elsewhere than the host entered).
- `retirement.py`: Microsoft's basic-auth retirement, by date (before it, and after a login).
"""

from .evaluate import evaluate_rules, mode_mismatch_params
from .providers import HostKind, lookup_host
from .typos import identify_provider

__all__ = ["HostKind", "evaluate_rules", "identify_provider", "lookup_host", "mode_mismatch_params"]
