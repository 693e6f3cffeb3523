"""The release gate: the one place that decides whether the secret may leave, right before AUTH.

Why one place. A password or token leaves the process exactly once, in one AUTH command, and only
after TLS was verified (`handshake.dialogue`). Some reasons to hold it back are known only at that
moment, or are judged best then, with the verified connection in hand: the host looks like an imitation
of a provider's server (`rules.lookalikes`), the mailbox is locked by the fair-use limits, the OAuth
token cannot be right for this server. If each of them stopped the dialogue in its own way, the next one
would be forgotten somewhere (an entry point, a mechanism, a retry path). So each is a *release check*: a
pure function from `ReleaseFacts` to None (no objection) or a blocking finding (severity error, saying
what we did not do and why). The gate asks every check, in order, and the dialogue sends AUTH only
when none objects; otherwise it ends cleanly (QUIT) with no AUTH command sent, and the report carries
every objection. The caller never has to remember to ask: the dialogue always does, for every entry
point (API, worker, CLI) and every mechanism.

Checks must be fast and must not raise (they run inside the handshake's deadline, on its event loop):
whatever a check needs from outside (a limit's state, a clock) is looked up before the handshake and
captured in the check. A check may read the secret from `facts.settings` (to diagnose a token, say),
never copy it into its finding.

`rules.RELEASE_CHECKS` are the standard checks, always asked; a caller adds its own with
`ReleaseGate.with_checks` (for example the check service's mailbox limits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smtp_preflight.model.findings import Finding
from smtp_preflight.model.report import TlsInfo
from smtp_preflight.model.settings import SmtpSettings


@dataclass(frozen=True, slots=True)
class ReleaseFacts:
    """What is known when the secret is about to leave: the settings (with the secret), the verified TLS
    session, the AUTH mechanisms the server offered after TLS, and the one we would use."""

    settings: SmtpSettings
    tls: TlsInfo
    offered_mechanisms: tuple[str, ...]
    mechanism: str
    address: str | None = None


ReleaseCheck = Callable[[ReleaseFacts], Finding | None]
"""None: no objection. A finding: the secret stays here, for the reason the finding gives."""


@dataclass(frozen=True, slots=True)
class ReleaseGate:
    """The checks to ask before AUTH, in report order."""

    checks: tuple[ReleaseCheck, ...] = ()

    def with_checks(self, *checks: ReleaseCheck) -> ReleaseGate:
        """This gate with `checks` asked after its own."""
        return ReleaseGate(self.checks + checks)

    def objections(self, facts: ReleaseFacts) -> list[Finding]:
        """Every check's objection, in order; empty means the secret may leave now."""
        return [finding for check in self.checks if (finding := check(facts)) is not None]
