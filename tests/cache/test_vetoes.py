"""Mismatch vetoes: numbers, negations / opposites and swapped names veto; paraphrases pass."""

from __future__ import annotations

import pytest

from portico.cache.signals import Signals
from portico.cache.vetoes import entities_differ, first_veto, negation_differs, numbers_differ

VETOED = [
    ("number", "What is 1+1?", "What is 21+1?"),
    ("number", "What is 2+2?", "What is 2*2?"),
    ("number", "How do I lose 10 pounds?", "How do I lose 20 pounds?"),
    ("number", "Who won in 2014?", "Who won in two thousand?"),
    ("number", "Is one egg a day healthy?", "Are two eggs a day healthy?"),
    ("number", "What happened on the first day?", "What happened on the second day?"),
    ("negation", "How do I turn on dark mode?", "How do I turn off dark mode?"),
    ("negation", "Is it safe to eat raw eggs?", "Is it not safe to eat raw eggs?"),
    ("negation", "Why does my phone charge?", "Why doesn't my phone charge?"),
    ("negation", "How do I enable 2FA?", "How do I disable 2FA?"),
    ("entity", "Who is the CEO of Apple?", "Who is the CEO of Google?"),
    ("entity", "What is the capital of France?", "What is the capital of Germany?"),
]

PASSED = [
    ("How do I learn Python quickly?", "What is the fastest way to learn Python?"),
    ("What is 2+2?", "what is 2 + 2"),
    ("How do I lose 10 pounds?", "How can I lose ten pounds?"),
    ("Why can't I sleep at night?", "Why am I not able to sleep at night?"),
    ("Is Barack Obama taller than average?", "Is Obama tall?"),
    ("How do I turn on dark mode?", "How to switch on dark mode?"),
    # "one" is a pronoun far more often than a count, and a plural is the same name.
    ("Which one is the best short story?", "What is the best short story?"),
    ("How has an MBA from the IIMs changed your life?", "How has an MBA from IIM changed your life?"),
]


@pytest.mark.parametrize(("veto", "cached", "query"), VETOED)
def test_mismatches_are_vetoed(veto: str, cached: str, query: str) -> None:
    assert first_veto(Signals(cached), Signals(query), ["number", "negation", "entity"]) == veto
    assert first_veto(Signals(query), Signals(cached), ["number", "negation", "entity"]) == veto


@pytest.mark.parametrize(("cached", "query"), PASSED)
def test_paraphrases_pass(cached: str, query: str) -> None:
    assert first_veto(Signals(cached), Signals(query), ["number", "negation", "entity"]) is None


def test_disabled_vetoes_do_not_fire() -> None:
    a, b = Signals("What is 1+1?"), Signals("What is 21+1?")
    assert numbers_differ(a, b)
    assert first_veto(a, b, ["negation", "entity"]) is None


def test_entity_added_on_one_side_only_is_not_a_swap() -> None:
    a, b = Signals("What are good books on anatomy?"), Signals("What are good books on anatomy for Gujarat students?")
    assert not entities_differ(a, b)
    assert not negation_differs(a, b)
