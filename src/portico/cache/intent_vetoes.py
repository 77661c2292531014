"""Vetoes for the three kinds of wrong semantic hits that survive the embedding and the
verifier on Quora pairs (read by hand in issue 19): a *direction swap* ("convert feet to
metres" / "convert metres to feet"), an *added qualifier* (the same question plus "without
a tutor", "in one week", "for free") and *polarity* ("is X allowed" / "is X banned"), plus
a *reference* to something outside the text ("what is this plant?", "solve the problem
below"): two such questions point at different pictures or problems, and one answer cannot
serve both. Each reads the surface text only; they are cheap regular expressions, run after
the number, negation and entity vetoes."""

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


# Things a question shows rather than says; "this"/"these" before one of them (not followed by
# a colon or a quote, which would give the thing inline), or "... below" / "the following ...".
_SHOWN = (
    r"question|problem|picture|pic|image|photo|video|plant|song|link|circuit|code|sentence|riddle|logo|room|"
    r"hairstyle|spider|dream|compound|diagram|symbol|equation|paragraph|passage|screenshot|painting|graph|"
    r"chart|demonstration|dog|cat|bird|insect|bug|flower|font|text|arabic|map|tattoo|quote|poem"
)
_EXTERNAL = re.compile(
    rf"\b(?:this|these)\s+(?:[\w'-]+\s+){{0,2}}?(?:{_SHOWN})s?\b(?!\s*[:\"'“‘])"
    rf"|\b(?:{_SHOWN})s?\s+(?:given\s+|mentioned\s+|shown\s+)?below\b"
    rf"|\b(?:given|mentioned|shown|listed)\s+below\b"
    rf"|\bthe following\s+(?:[\w'-]+\s+)?(?:{_SHOWN})s?\b(?!\s*[:\"'“‘])"
)


def _points_elsewhere(text: str) -> bool:
    # Only in the opening sentence: after an earlier sentence "this problem" is the one it described.
    match = _EXTERNAL.search(text.lower())
    return match is not None and re.search(r"[.?!]\s", text[: match.start()]) is None


def refers_elsewhere(a: Signals, b: Signals) -> bool:
    """Either side points at a picture, problem or text it does not contain ("this plant")."""
    return _points_elsewhere(a.text) or _points_elsewhere(b.text)
