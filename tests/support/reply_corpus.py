"""The corpus of real SMTP replies (tests/data/replies/*.yaml): each reply as a public source quotes it,
the stage it answered, the finding it must give, and the source's address.

One loader for the rule-table unit test and the loopback-server integration test. `wire` is the reply
as a server sends it: each line ends in CRLF, multi-line replies keep their `NNN-` continuation lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml  # type: ignore[import-untyped]

from smtp_preflight.model.report import StageName

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "replies"
_LINE = re.compile(r"^(?P<code>[2-5]\d\d)(?P<sep>[ -]|$)")


@dataclass(frozen=True)
class CorpusReply:
    reply: str
    stage: StageName
    code: str
    source: str
    retryable: bool | None = None
    actor: str | None = None
    encoding: str = "utf-8"

    @property
    def lines(self) -> list[str]:
        return self.reply.split("\n")

    @property
    def wire(self) -> bytes:
        return "".join(f"{line}\r\n" for line in self.lines).encode(self.encoding)

    @property
    def reply_code(self) -> int:
        return int(self.lines[0][:3])

    @property
    def message(self) -> str:
        """The text as aiosmtplib hands it over: each line without its `NNN-`/`NNN ` prefix."""
        text = "\n".join(line[4:] for line in self.lines)
        return text.encode(self.encoding).decode("utf-8", "surrogateescape")

    @property
    def name(self) -> str:
        return f"{self.stage.value}: {self.reply[:70]} ({self.source.rsplit('/', 3)[-3]})"


@cache
def load_corpus() -> tuple[CorpusReply, ...]:
    entries: list[CorpusReply] = []
    for path in sorted(CORPUS_DIR.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            entries.append(CorpusReply(**{**item, "stage": StageName(item["stage"])}))
    return tuple(entries)


def well_formed(entry: CorpusReply) -> bool:
    """Every line starts with the same reply code; all but the last continue with `-`."""
    matches = [_LINE.match(line) for line in entry.lines]
    if not all(matches):
        return False
    codes = {match["code"] for match in matches if match}
    separators = [match["sep"] for match in matches if match]
    return len(codes) == 1 and all(sep == "-" for sep in separators[:-1]) and separators[-1] != "-"
