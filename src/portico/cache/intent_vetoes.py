"""Vetoes for the three kinds of wrong semantic hits that survive the embedding and the
verifier on Quora pairs (read by hand in issue 19): a *direction swap* ("convert feet to
metres" / "convert metres to feet"), an *added qualifier* (the same question plus "without
a tutor", "in one week", "for free") and *polarity* ("is X allowed" / "is X banned").
Each reads the surface text only; they are cheap regular expressions, run after the
number, negation and entity vetoes."""

from __future__ import annotations

import re

from portico.cache.signals import Signals, stem

_DIRECTED = (
    re.compile(r"\bfrom (?:an? |the )?([\w+#.]+)(?: \w+)? (?:to|into) (?:an? |the )?([\w+#.]+)"),
    re.compile(
        r"\b(?:convert|converting|change|changing|switch|switching|translate|translating|move|moving|"
        r"transfer|transferring|migrate|migrating|port|porting|export|exporting|import|importing|send|sending)\s+"
        r"(?:an? |the |my |a )?([\w+#.]+)(?: \w+)? (?:to|into) (?:an? |the )?([\w+#.]+)"
    ),
    re.compile(r"\b([\w+#.]+) (?:to|into|->) ([\w+#.]+) (?:conversion|converter|translation|translator)\b"),
    re.compile(
        r"\b(?:is|are|was|were) (?:an? |the )?([\w+#.]+) (?:better|worse|\w+er|more \w+|less \w+) than "
        r"(?:an? |the )?([\w+#.]+)"
    ),
)

_QUALIFIERS = re.compile(
    r"\bwithout (?:an? |the |any |my |your )?\w+"
    r"|\b(?:in|within|under) (?:a|an|one|two|three|four|five|six|ten|\d+) (?:day|week|month|year|hour|minute)s?\b"
    r"|\bfor free\b|\bfree of cost\b|\bat home\b|\bby (?:myself|yourself|himself|herself|ourselves)\b"
    r"|\bon (?:my|your|our|his|her) own\b|\bself[- ]stud\w*|\boffline\b|\bfrom scratch\b"
    r"|\bfor (?:a )?beginners?\b|\bas a (?:beginner|student|fresher|teenager|kid|child)\b"
    r"|\bwith(?:out)? (?:coaching|a tutor|experience|a degree|money|internet)\b"
    r"|\b(?:legally|illegally|naturally|permanently|temporarily|quickly|fast|overnight|secretly|anonymously)\b"
    r"|\bafter \d+(?:th|st|nd|rd)?\b|\bat (?:the )?age (?:of )?\d+\b"
)

# Polarity words on top of the negation veto's opposites: one side asks whether something
# is allowed, the other whether it is forbidden.
POLARITY: tuple[tuple[str, str], ...] = (
    ("allowed", "banned"),
    ("allowed", "forbidden"),
    ("allowed", "prohibited"),
    ("permitted", "banned"),
    ("legal", "banned"),
    ("possible", "impossible"),
    ("like", "dislike"),
    ("agree", "disagree"),
    ("accept", "reject"),
    ("include", "exclude"),
    ("pass", "fail"),
    ("safe", "dangerous"),
    ("safe", "harmful"),
    ("healthy", "unhealthy"),
    ("happy", "unhappy"),
    ("success", "failure"),
    ("rich", "poor"),
    ("strengths", "weaknesses"),
    ("advantage", "disadvantage"),
    ("love", "hatred"),
)


def _pairs(text: str) -> set[tuple[str, str]]:
    low = text.lower()
    found: set[tuple[str, str]] = set()
    for pattern in _DIRECTED:
        for a, b in pattern.findall(low):
            a, b = stem(a.strip(".")), stem(b.strip("."))
            if a and b and a != b:
                found.add((a, b))
    return found


def direction_swapped(a: Signals, b: Signals) -> bool:
    """One side goes from X to Y (converts, moves, compares X against Y), the other from Y to X."""
    pa, pb = _pairs(a.text), _pairs(b.text)
    return any((y, x) in pb for x, y in pa)


_FILLER = frozenset(["a", "an", "the", "any", "my", "your", "our", "his", "her", "of"])
_SAME = {"quickly": "fast", "overnight": "fast", "self-study": "self study", "beginners": "beginner"}


def _qualifiers(text: str) -> frozenset[str]:
    out = set()
    for match in _QUALIFIERS.findall(text.lower()):
        words = [_SAME.get(w, w) for w in match.replace("-", " ").split() if w not in _FILLER]
        out.add(_SAME.get(" ".join(words), " ".join(words)))
    return frozenset(out)


def qualifier_added(a: Signals, b: Signals) -> bool:
    """A constraint on one side only ("... without coaching", "... in one week")."""
    return _qualifiers(a.text) != _qualifiers(b.text)


def polarity_differs(a: Signals, b: Signals) -> bool:
    """One side says a word and the other its opposite ("allowed" / "banned")."""
    ta, tb = a.token_set, b.token_set
    return any((x in ta) != (x in tb) and (y in ta) != (y in tb) and (x in ta) != (y in ta) for x, y in POLARITY)
