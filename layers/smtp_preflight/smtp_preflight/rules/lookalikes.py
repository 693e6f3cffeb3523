"""Host names that imitate a provider's server: they get the suspicion (HOST_TYPO_SUSPECTED) and, at the
release gate, no credentials (HOST_LOOKALIKE_LOGIN_WITHHELD).

Why this exists: a typosquatter who registers `gmial.com` or `office365.co.uk` can get a valid
certificate for it, so verified TLS proves nothing about *whose* server it is; the name alone gives it
away. Whoever controls a host's registered domain controls the host, so the judgement is about domains:

1. A host under a domain where known providers really run mail servers (`GENUINE_DOMAINS`: gmail.com,
   gmx.net, zoho.*, mail.com, ...) is never a look-alike, however close its name is to another
   provider's (smtp.gmx.com, smtp.zoho.eu, smtp.mail.com). Slips inside a provider's own domain
   (`smpt.gmail.com`) are only typing mistakes (`typos.py`): nobody else can run them.
2. Otherwise the host is folded (punycode decoded, accents dropped, Cyrillic and Greek look-alike
   letters, `0`→o, `1`/`i`→l, `rn`→m, `vv`→w) and cut into tokens at dots and hyphens, and each
   provider name in `BRANDS` is looked for, in the forms that make the classes of imitation:
   - `OTHER_DOMAIN`: the provider's name under another top-level domain (smtp.gmail.net, gmail.co,
     office365.co.uk);
   - `EMBEDDED`: the provider's domain followed by more (smtp.office365.com.attacker.net,
     smtp.gmail.com-mail.net);
   - `COMBINED`: the name joined to mail words, with or without a hyphen or dot (smtp-gmail.com,
     smtpgmail.com, g-mail.com, office.365.com);
   - `LOOKALIKE_CHARACTERS`: any of these written with look-alike characters (smtp.gm\u0430il.com with
     a Cyrillic a, 0ffice365, grnail);
   - `SLIP`: one typing slip, or two in a long name, incl. swapped neighbours (gmial, office356).
3. Customers' own domains stay clear: a brand that is an ordinary word or name (`word=True`: outlook,
   google, libero) counts only when everything else in the host is mail noise (smtp, mail, secure,
   top-level domains, digits) or when its domain is embedded; a slip counts only then too. So
   `mail.outlook-travel.de` and `mail.mymail.com` are nobody's imitation, `smtp.outlook.net` is.

Data, not branches: adding a provider is adding a row to `BRANDS` and its domains to `GENUINE_DOMAINS`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from smtp_preflight.guard import parse_ip_literal
from smtp_preflight.model.findings import Finding, make_finding
from smtp_preflight.release import ReleaseFacts
from smtp_preflight.rules.distance import within_edits
from smtp_preflight.rules.typos import CONFUSABLES, display_host, suggest_host


class Resemblance(StrEnum):
    """How a look-alike host imitates a provider's server."""

    OTHER_DOMAIN = "otherDomain"
    EMBEDDED = "embedded"
    COMBINED = "combined"
    LOOKALIKE_CHARACTERS = "lookalikeCharacters"
    SLIP = "slip"


@dataclass(frozen=True, slots=True)
class Brand:
    """A provider's name as its domains spell it, the server a look-alike most likely meant, the
    top-level domains of its own domains (for `EMBEDDED`), how many slips still count, and whether the
    name is also an ordinary word (then it needs mail noise around it to count)."""

    name: str
    server: str
    tlds: tuple[str, ...] = ("com",)
    slips: int = 1
    word: bool = False


BRANDS: tuple[Brand, ...] = (
    Brand("gmail", "smtp.gmail.com"),
    Brand("googlemail", "smtp.gmail.com", slips=2),
    Brand("google", "smtp.gmail.com", word=True),
    Brand("office365", "smtp.office365.com", tlds=("com", "us"), slips=2),
    Brand("microsoft", "smtp.office365.com", slips=2),
    Brand("office", "smtp.office365.com", slips=0, word=True),
    Brand("outlook", "smtp-mail.outlook.com", tlds=("com", "cn"), word=True),
    Brand("hotmail", "smtp-mail.outlook.com"),
    Brand("live", "smtp-mail.outlook.com", slips=0, word=True),
    Brand("yahoo", "smtp.mail.yahoo.com"),
    Brand("icloud", "smtp.mail.me.com", slips=0),
    Brand("gmx", "mail.gmx.net", tlds=("net", "com", "de"), slips=0),
    Brand("t-online", "securesmtp.t-online.de", tlds=("de",)),
    Brand("ionos", "smtp.ionos.de", tlds=("de", "com"), slips=0),
    Brand("libero", "smtp.libero.it", tlds=("it",), slips=0, word=True),
    Brand("virgilio", "out.virgilio.it", tlds=("it",), word=True),
    Brand("aruba", "smtps.aruba.it", tlds=("it",), slips=0, word=True),
    Brand("ovh", "ssl0.ovh.net", tlds=("net", "com"), slips=0),
    Brand("zoho", "smtp.zoho.com", tlds=("com", "eu"), slips=0),
    Brand("fastmail", "smtp.fastmail.com", tlds=("com", "fm")),
)

GENUINE_DOMAINS: tuple[str, ...] = (
    # Google and Microsoft: submission, relay and MX hosts (see providers.CATALOGUE)
    "gmail.com", "googlemail.com", "google.com",
    "office365.com", "office.com", "outlook.com", "hotmail.com", "live.com", "microsoft",
    "office365.us", "outlook.cn",
    # the other providers the rules know (mailbox_providers.py), with their country domains
    "gmx.*", "gmx.com", "gmx.net", "web.de", "t-online.de", "ionos.*", "ionos.com", "kundenserver.de",
    "1und1.de", "libero.it", "virgilio.it", "aruba.it", "ovh.*", "ovh.net", "ovh.com", "yahoo.*",
    "yahoo.com", "yahoodns.net", "me.com", "icloud.com", "mac.com", "zoho.*", "zoho.com", "zohomail.com",
    "zohomail.*", "zohocloud.ca", "fastmail.com", "fastmail.fm", "messagingengine.com",
    # mail services a letter away from a provider's name: never imitations
    "mail.com", "email.com", "email.it", "ymail.com", "aol.com",
)  # fmt: skip
"""Registered domains (`x.*`: with any country ending, x.de, x.co.uk, x.com.au) whose hosts are their
owners' own servers, never imitations."""

# What surrounds a provider's name in an imitation without saying whose host it is.
MAIL_WORDS = frozenset((
    "smtp", "smtps", "smtpout", "mail", "email", "e", "mx", "imap", "imaps", "pop", "pop3", "out",
    "outgoing", "outbound", "send", "sender", "submit", "submission", "relay", "secure", "ssl", "tls",
    "auth", "login", "signin", "sso", "account", "accounts", "server", "srv", "host", "gateway", "gw",
    "webmail", "web", "online", "service", "services", "support", "help", "verify", "verification",
    "update", "security", "safe", "official", "portal", "connect", "access", "client", "app", "apps",
    "api", "www",
))  # fmt: skip
TLD_WORDS = frozenset((
    "com", "net", "org", "info", "biz", "co", "io", "app", "xyz", "top", "site", "online", "cloud",
    "email", "mail", "tech", "store", "shop", "club", "pro", "live", "link", "click", "int", "name",
    "mobi", "asia",
))  # fmt: skip
GLUE = MAIL_WORDS | TLD_WORDS
"""Words a provider's name may be glued to (smtpgmail, gmailcom, gmailsecure)."""

# Look-alike spellings folded to the letters they imitate, after the Unicode fold (`typos.CONFUSABLES`):
# multi-letter first, then single characters. Applied to hosts and brands alike.
_MULTI_FOLDS = (("rn", "m"), ("vv", "w"))
_SINGLE_FOLDS = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "3": "e", "5": "s", "$": "s"})


@dataclass(frozen=True, slots=True)
class Lookalike:
    """`host` imitates the provider server `suggested_host`, the way `resemblance` says."""

    host: str
    suggested_host: str
    resemblance: Resemblance


@dataclass(frozen=True, slots=True)
class _Token:
    """A piece of a host between dots and hyphens: which label it is in, as typed, and folded."""

    label: int
    raw: str
    folded: str


def lookalike_of(host: str) -> Lookalike | None:
    """The provider server `host` (normalised, as `SmtpSettings.host`) imitates, or None."""
    if parse_ip_literal(host) is not None or is_genuine(host):
        return None
    tokens = _tokens(host)
    for brand in BRANDS:
        found = _find(brand, tokens)
        if found is not None:
            return Lookalike(host, brand.server, found)
    meant = suggest_host(host)  # whole-host slips the brand search cannot see (smtp.gmailcom)
    if meant is not None:
        return Lookalike(host, meant, Resemblance.SLIP)
    return None


def is_genuine(host: str) -> bool:
    """True if `host` is under a domain where known providers run their own servers."""
    return _GENUINE.search(host) is not None


def fold(text: str) -> str:
    """`text` with look-alike characters replaced by the Latin letters they imitate."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(CONFUSABLES)
    for spelling, letter in _MULTI_FOLDS:
        text = text.replace(spelling, letter)
    return text.translate(_SINGLE_FOLDS)


def _tokens(host: str) -> list[_Token]:
    shown = display_host(host).lower()
    return [
        _Token(index, raw, fold(raw))
        for index, label in enumerate(shown.split("."))
        for raw in label.split("-")
    ]


def _find(brand: Brand, tokens: list[_Token]) -> Resemblance | None:
    """How `tokens` imitate `brand`, if they do (the classes in the module's docstring)."""
    name = brand.name.replace("-", "")
    wanted = fold(name)
    for start, end in _windows(len(tokens)):
        window, after = tokens[start:end], tokens[end:]
        rest = [token.folded for token in tokens[:start] + after]
        glue = _glued("".join(token.folded for token in window), wanted)
        if glue is not None:
            if len(after) > 1 and after[0].raw in brand.tlds:
                return Resemblance.EMBEDDED
            if brand.word and not all(map(_noise, rest)):
                continue
            if name not in "".join(token.raw for token in window):
                return Resemblance.LOOKALIKE_CHARACTERS
            spelled = "-".join(token.folded for token in window) == fold(brand.name)  # not g-mail
            whole_label = not glue and spelled and _is_label(window, tokens)
            then_suffix = all(token.folded in _TLDS or len(token.folded) == 2 for token in after)
            return Resemblance.OTHER_DOMAIN if whole_label and then_suffix else Resemblance.COMBINED
        if len(window) == 1 and _slipped(window[0].folded, brand) and all(map(_noise, rest)):
            return Resemblance.SLIP
    return None


def _windows(count: int, widest: int = 3) -> Iterator[tuple[int, int]]:
    """(start, end) of every run of up to `widest` neighbouring tokens: single tokens first (the
    plainest reading wins), each width left to right."""
    for width in range(1, min(widest, count) + 1):
        for start in range(count - width + 1):
            yield start, start + width


def _is_label(window: list[_Token], tokens: list[_Token]) -> bool:
    """True if `window` is one whole label (`t-online` in smtp.t-online.com)."""
    label = window[0].label
    return all(token.label == label for token in window) and len(window) == sum(
        1 for token in tokens if token.label == label
    )


def _glued(text: str, brand: str) -> list[str] | None:
    """The mail words around `brand` in `text` (`[]` if `text` is the brand), or None if `text` is not
    the brand glued to mail words (`smtpgmailcom` → ["smtp", "com"])."""
    position = text.find(brand)
    while position >= 0:
        before, after = _segments(text[:position]), _segments(text[position + len(brand) :])
        if before is not None and after is not None:
            return before + after
        position = text.find(brand, position + 1)
    return None


def _segments(text: str) -> list[str] | None:
    """`text` cut into mail words, or None if it cannot be: a word break over `GLUE`, position by
    position (linear in the text's length, whatever a hostile host name repeats)."""
    cuts: list[list[str] | None] = [[]] + [None] * len(text)
    for start in range(len(text)):
        so_far = cuts[start]
        if so_far is None:
            continue
        for word in _GLUE_BY_INITIAL.get(text[start], ()):
            end = start + len(word)
            if end <= len(text) and cuts[end] is None and text.startswith(word, start):
                cuts[end] = [*so_far, word]
    return cuts[len(text)]


def _slipped(folded: str, brand: Brand) -> bool:
    """One slip (two for long names) away from the brand, and not itself a mail word (email, mail)."""
    if brand.slips == 0 or folded in _GLUE:
        return False
    name = brand.name.replace("-", "")
    allowed = brand.slips if len(name) >= 8 else min(brand.slips, 1)
    folded_name = fold(name)
    return folded != folded_name and within_edits(folded, folded_name, allowed)


def _noise(folded: str) -> bool:
    """A token that says nothing about whose host this is: mail words, top-level domains, digits,
    country codes, providers' names."""
    return folded in _GLUE or len(folded) <= 2 or folded.isdigit() or folded in _BRAND_NAMES


def _genuine_pattern() -> re.Pattern[str]:
    alternatives = [
        re.escape(domain[:-2]) + r"\.(?:co\.|com\.)?[a-z]{2}" if domain.endswith(".*") else re.escape(domain)
        for domain in GENUINE_DOMAINS
    ]
    return re.compile(rf"(?:^|\.)(?:{'|'.join(alternatives)})\Z")


_GENUINE = _genuine_pattern()
_GLUE = frozenset(fold(word) for word in GLUE)
_GLUE_BY_INITIAL: dict[str, tuple[str, ...]] = {
    initial: tuple(word for word in _GLUE if word[0] == initial) for initial in {word[0] for word in _GLUE}
}
_TLDS = frozenset(fold(word) for word in TLD_WORDS)
_BRAND_NAMES = frozenset(fold(brand.name.replace("-", "")) for brand in BRANDS)


def withhold_from_lookalikes(facts: ReleaseFacts) -> Finding | None:
    """The release check: no credentials for a look-alike host, unless the request overrides it."""
    settings = facts.settings
    if settings.allow_lookalike_host:
        return None
    lookalike = lookalike_of(settings.host)
    if lookalike is None:
        return None
    return make_finding(
        "HOST_LOOKALIKE_LOGIN_WITHHELD",
        host=display_host(settings.host),
        suggested_host=lookalike.suggested_host,
    )
