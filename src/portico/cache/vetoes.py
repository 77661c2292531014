"""Hard vetoes: a semantic candidate is never served when these surface facts differ."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from portico.cache.intent_vetoes import direction_swapped, polarity_differs, qualifier_added, refers_elsewhere
from portico.cache.signals import OPPOSITES, Signals

VetoCheck = Callable[[Signals, Signals], bool]


def numbers_differ(a: Signals, b: Signals) -> bool:
    """Different numbers or arithmetic operators ("1+1" vs "21+1", "2+2" vs "2*2")."""
    return a.numbers != b.numbers or a.operators != b.operators


def negation_differs(a: Signals, b: Signals) -> bool:
    """One side negated and the other not, or one says a word and the other its opposite."""
    if a.negated != b.negated:
        return True
    ta, tb = a.token_set, b.token_set
    # x on one side only, y on the other side only: "turn on" vs "turn off".
    return any((x in ta) != (x in tb) and (y in ta) != (y in tb) and (x in ta) != (y in ta) for x, y in OPPOSITES)


def entities_differ(a: Signals, b: Signals) -> bool:
    """A name was swapped: each side has a name the other never mentions."""
    only_a = {e for e in a.entities if not b.mentions(e)}
    only_b = {e for e in b.entities if not a.mentions(e)}
    return bool(only_a and only_b)


VETOES: dict[str, VetoCheck] = {
    "number": numbers_differ,
    "negation": negation_differs,
    "entity": entities_differ,
    "direction": direction_swapped,
    "qualifier": qualifier_added,
    "polarity": polarity_differs,
    "reference": refers_elsewhere,
}


def first_veto(a: Signals, b: Signals, enabled: Iterable[str]) -> str | None:
    """The name of the first enabled veto that fires, or None."""
    for name in enabled:
        if VETOES[name](a, b):
            return name
    return None
