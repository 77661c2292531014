from __future__ import annotations

import pytest

from portico.cache.signals import Signals
from portico.cache.vetoes import first_veto

ALL = ["number", "negation", "entity", "direction", "qualifier", "polarity", "reference"]


@pytest.mark.parametrize(
    ("a", "b", "veto"),
    [
        ("How do I convert feet to metres?", "How do I convert metres to feet?", "direction"),
        ("How can I move from Java to Python?", "How can I move from Python to Java?", "direction"),
        ("Is a cat smarter than a dog?", "Is a dog smarter than a cat?", "direction"),
        ("How can I learn French?", "How can I learn French without a tutor?", "qualifier"),
        ("How can I learn guitar?", "How can I learn guitar in one week?", "qualifier"),
        ("How do I get a visa?", "How do I get a visa for free?", "qualifier"),
        ("Is smoking allowed in hotels?", "Is smoking banned in hotels?", "polarity"),
        ("Is it possible to stop time?", "Is it impossible to stop time?", "polarity"),
    ],
)
def test_vetoes_catch_the_wrong_hits(a: str, b: str, veto: str) -> None:
    assert first_veto(Signals(a), Signals(b), [veto]) == veto
    assert first_veto(Signals(b), Signals(a), [veto]) == veto
    assert first_veto(Signals(a), Signals(b), ALL) is not None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I convert feet to metres?", "What is the way to convert feet into metres?"),
        ("How can I lose weight fast?", "How can I lose weight quickly?"),
        ("How can I learn French without a tutor?", "How do I learn French without tutor?"),
        ("What is the breed of my cat?", "What breed is my cat?"),
        ("Is Java better than Python?", "Is Java better than Python for web apps?"),
    ],
)
def test_duplicates_pass(a: str, b: str) -> None:
    assert first_veto(Signals(a), Signals(b), ["direction", "qualifier", "polarity"]) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What is the name of this plant?", "What is the name of this plant?!"),
        ("How do I do this maths problem?", "How do you do this math problem?"),
        ("What is the answer to the riddle given below?", "What's the answer for this riddle?"),
        ("Which breed is this dog?", "What breed is my dog?"),
        ("Can you solve the following physics question?", "How do I solve this physics question?"),
    ],
)
def test_reference_vetoes_questions_about_something_not_in_the_text(a: str, b: str) -> None:
    assert first_veto(Signals(a), Signals(b), ["reference"]) == "reference"
    assert first_veto(Signals(b), Signals(a), ["reference"]) == "reference"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The thing is given inline (after a colon or in quotes), or "this"/"below" mean something else.
        ("How would you answer this interview question: why should we hire you?", "Why should we hire you?"),
        ('What does this symbol "J-)" mean?', 'What does "J-)" symbolize?'),
        ("How do I get below 10% body fat?", "How can I get under 10% body fat?"),
        ("Is this year a good time to buy a house?", "Is now a good time to buy a house?"),
        ("Why is this payment still pending?", "Why is my payment pending?"),
        ("My card didn't work at the store. What's the solution for this problem?", "My card does not work."),
    ],
)
def test_reference_leaves_inline_or_unrelated_uses_alone(a: str, b: str) -> None:
    assert first_veto(Signals(a), Signals(b), ["reference"]) is None
