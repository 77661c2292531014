"""PII detection (Presidio, offline, with our recognizers) and the PII guard: block, flag,
redact to ``<TYPE>`` or pseudonymize to reversible ``<TYPE_n>`` placeholders."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from portico.guards.base import Action, Finding, Verdict
from portico.guards.vault import PseudonymVault
from portico.pipeline import RequestContext

DEFAULT_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "STREET_ADDRESS",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "URL",
    "US_DRIVER_LICENSE",
    "US_PASSPORT",
    "API_KEY",
)

# Minimum scores per entity type (tuned on the dev half of presidio_synth_v2, see
# bench/guards_quality.py); the NER types come in at 0.85, pattern types vary.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "PERSON": 0.5,
    "LOCATION": 0.5,
    "STREET_ADDRESS": 0.5,
    "EMAIL_ADDRESS": 0.5,
    "PHONE_NUMBER": 0.45,
    "CREDIT_CARD": 0.5,
    "IBAN_CODE": 0.5,
    "US_SSN": 0.5,
    "IP_ADDRESS": 0.5,
    "URL": 0.5,
    "US_DRIVER_LICENSE": 0.6,
    "US_PASSPORT": 0.6,
    "API_KEY": 0.5,
}
# When spans overlap, the more specific (checksummed / structured) type wins over NER.
_PRIORITY: dict[str, int] = {
    "API_KEY": 9,
    "EMAIL_ADDRESS": 8,
    "IBAN_CODE": 8,
    "CREDIT_CARD": 7,
    "US_SSN": 7,
    "IP_ADDRESS": 7,
    "US_DRIVER_LICENSE": 6,
    "STREET_ADDRESS": 5,
    "PHONE_NUMBER": 5,
    "URL": 4,
    "PERSON": 1,
    "LOCATION": 1,
    "US_PASSPORT": 3,
}


@dataclass(frozen=True, slots=True)
class Entity:
    type: str
    start: int
    end: int
    score: float


class PiiDetector:
    """Finds PII spans with a Presidio analyzer; resolves overlaps to one type per span."""

    def __init__(
        self,
        analyzer: Any,
        entities: Sequence[str] = DEFAULT_ENTITIES,
        thresholds: dict[str, float] | None = None,
    ) -> None:
        self._analyzer = analyzer
        self.entities = list(entities)
        self.thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}

    def detect(self, text: str) -> list[Entity]:
        if not text.strip():
            return []
        results = self._analyzer.analyze(text, language="en", entities=self.entities)
        found = [
            Entity(r.entity_type, r.start, r.end, float(r.score))
            for r in results
            if r.score >= self.thresholds.get(r.entity_type, 0.5)
        ]
        found = [e for e in found if not (e.type == "PERSON" and _not_a_name(text[e.start : e.end]))]
        return resolve_overlaps(_propagate_names(text, found), text)


# Words that end spaCy-small "PERSON" spans which are titles of works, groups or jobs.
_NON_NAME_TAILS = frozenset(
    {
        *("tales", "pleasures", "orchestra", "club", "band", "inc", "ltd", "llc", "corporation", "company"),
        *("group", "street", "avenue", "road", "cinematographer", "director", "producer", "manager"),
        *("engineer", "officer"),
    }
)
_TITLES = frozenset(["mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam"])
_ADDRESS_WORDS = frozenset(["apt", "box", "suite", "unit", "flat", "po", "psc"])
_PRONOUNS = frozenset(["i", "you", "he", "she", "we", "they", "it", "this", "that", "there", "his", "her", "their"])


def _not_a_name(span: str) -> bool:
    words = span.removesuffix("'s").rstrip(".").split()
    if not words:
        return True
    last = words[-1].lower().strip(".,")
    single = len(words) == 1 and (last in _TITLES or last in _ADDRESS_WORDS or last in _PRONOUNS)
    return last in _NON_NAME_TAILS or single or "\n" in span or any(c.isdigit() for c in span)


def _propagate_names(text: str, found: list[Entity]) -> list[Entity]:
    """A name found once marks its other mentions too (the small NER model often tags a
    name the first time and misses the repeats, or tags the full name but not the surname)."""
    names = {text[e.start : e.end] for e in found if e.type == "PERSON"}
    parts = {w for n in names for w in n.split() if len(w) > 2 and w[0].isupper() and w.lower() not in _TITLES}
    if not parts:
        return found
    extra = list(found)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True)) + r")\b")
    people = [e for e in found if e.type == "PERSON"]
    for m in pattern.finditer(text):
        if any(e.start < m.end() and m.start() < e.end for e in people):
            continue  # already inside a name found here
        # Just above spaCy-small's flat 0.85: the same string was a name elsewhere in this text.
        extra.append(Entity("PERSON", m.start(), m.end(), 0.86))
    return extra


def resolve_overlaps(entities: list[Entity], text: str | None = None) -> list[Entity]:
    """Keep a non-overlapping subset: higher priority, then higher score, then longer wins.
    With ``text``, a loser that only partly overlaps keeps its longest free part (an address
    block whose last line is a phone number stays an address up to that line)."""
    ranked = sorted(entities, key=lambda e: (-_PRIORITY.get(e.type, 0), -e.score, e.start - e.end))
    kept: list[Entity] = []
    for e in ranked:
        clashes = [k for k in kept if k.start < e.end and e.start < k.end]
        if not clashes:
            kept.append(e)
        elif text is not None and (rest := _free_part(e, clashes, text)) is not None:
            kept.append(rest)
    return sorted(kept, key=lambda e: e.start)


def _free_part(e: Entity, clashes: list[Entity], text: str) -> Entity | None:
    cuts = sorted((max(k.start, e.start), min(k.end, e.end)) for k in clashes)
    pieces, pos = [], e.start
    for start, end in cuts:
        pieces.append((pos, start))
        pos = max(pos, end)
    pieces.append((pos, e.end))
    best: tuple[int, int] | None = None
    for start, end in pieces:
        chunk = text[start:end]
        stripped = chunk.strip(" \t\n,;:-")
        if sum(c.isalnum() for c in stripped) < 3:
            continue
        start += chunk.index(stripped)
        end = start + len(stripped)
        if best is None or end - start > best[1] - best[0]:
            best = (start, end)
    return Entity(e.type, best[0], best[1], e.score) if best else None


def rewrite(text: str, entities: Sequence[Entity], replace: Callable[[Entity, str], str]) -> str:
    out: list[str] = []
    pos = 0
    for e in entities:
        out.append(text[pos : e.start])
        out.append(replace(e, text[e.start : e.end]))
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


class PiiGuard:
    """The PII guard. ``pseudonymize`` needs a vault per request (``vault_for(ctx)``)."""

    def __init__(
        self,
        detector: PiiDetector,
        action: Action,
        vault_for: Callable[[RequestContext], PseudonymVault],
        name: str = "pii",
    ) -> None:
        self.name = name
        self.action = action
        self._detector = detector
        self._vault_for = vault_for

    async def check(self, text: str, ctx: RequestContext) -> Verdict:
        # spaCy holds the GIL for most of its run; a thread would only add hand-off cost.
        entities = self._detector.detect(text)
        await asyncio.sleep(0)
        return self.verdict(text, entities, ctx)

    def verdict(self, text: str, entities: Sequence[Entity], ctx: RequestContext) -> Verdict:
        findings = [Finding(e.type, e.start, e.end, e.score) for e in entities]
        verdict = Verdict(self.name, findings=findings, score=max((e.score for e in entities), default=0.0))
        if not entities:
            return verdict
        verdict.action = self.action
        verdict.policy = "pii:" + ",".join(sorted({e.type for e in entities}))
        if self.action is Action.REDACT:
            verdict.text = rewrite(text, entities, lambda e, _v: f"<{e.type}>")
        elif self.action is Action.PSEUDONYMIZE:
            vault = self._vault_for(ctx)
            verdict.text = rewrite(text, entities, lambda e, v: vault.placeholder(e.type, v))
        return verdict
