from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from portico.guards.vault import PseudonymVault


def _vault() -> PseudonymVault:
    vault = PseudonymVault()
    assert vault.placeholder("PERSON", "Ada Lovelace") == "<PERSON_1>"
    assert vault.placeholder("EMAIL_ADDRESS", "ada@example.org") == "<EMAIL_ADDRESS_1>"
    assert vault.placeholder("PERSON", "Alan Turing") == "<PERSON_2>"
    return vault


def test_placeholders_are_stable_per_value() -> None:
    vault = _vault()
    assert vault.placeholder("PERSON", "Ada Lovelace") == "<PERSON_1>"
    assert len(vault) == 3


def test_restore_leaves_unknown_placeholders() -> None:
    vault = _vault()
    text = "<PERSON_1> wrote to <EMAIL_ADDRESS_1>; <PERSON_9> and <b> stay."
    assert vault.restore(text) == "Ada Lovelace wrote to ada@example.org; <PERSON_9> and <b> stay."


ANSWER = "Dear <PERSON_1>, I forwarded <PERSON_2>'s note to <EMAIL_ADDRESS_1>. a<b and x < y>z <PERSON_"
EXPECTED = "Dear Ada Lovelace, I forwarded Alan Turing's note to ada@example.org. a<b and x < y>z <PERSON_"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(ANSWER)), max_size=30))
def test_stream_restore_across_any_chunk_boundaries(cuts: list[int]) -> None:
    vault = _vault()
    points = sorted({0, len(ANSWER), *cuts})
    restorer = vault.streamer()
    out = [restorer.feed(ANSWER[a:b]) for a, b in pairwise(points)]
    out.append(restorer.flush())
    assert "".join(out) == EXPECTED


def test_stream_holds_back_only_a_possible_placeholder() -> None:
    restorer = _vault().streamer()
    assert restorer.feed("Hello <PER") == "Hello "
    assert restorer.feed("SON_1> and 3 < 4 ") == "Ada Lovelace and 3 < 4 "
