"""The CRF name/place tagger: tokenizing, decoding, word lists, and the shipped model."""

from __future__ import annotations

import pytest

from portico.guards.ner import Gazetteer, NameTagger, TaggedSpan, fold, spans_from_labels, tokenize
from portico.guards.pii import PiiDetector
from portico.guards.runtime import GuardRuntime


def tiny_gazetteer() -> Gazetteer:
    return Gazetteer.from_word_lists(
        {
            "first": {"maria": 1},
            "last": {"gonzalez": 1},
            "english": {"the": 7, "new": 6},
            "cities": ["new york", "york", "sao paulo"],
            "regions": ["new york"],
        }
    )


def test_fold_strips_case_and_accents() -> None:
    assert fold("Stanković") == "stankovic"
    assert fold("Straße") == "strasse"
    assert fold("São Paulo") == "sao paulo"


def test_tokens_keep_offsets_and_newlines() -> None:
    text = "Ms. O'Neil\n12 Main St."
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["Ms", ".", "O", "'", "Neil", "\n", "12", "Main", "St", "."]
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_phrase_marks_take_the_longest_match_and_regions_first() -> None:
    gaz = tiny_gazetteer()
    assert gaz.phrase_marks(["in", "new", "york", "today"]) == ["", "B-region", "I-region", ""]
    assert gaz.phrase_marks(["old", "york"]) == ["", "B-city"]
    assert gaz.word_features("maria") == ["fn1", "en0"]
    assert gaz.word_features("the") == ["en7"]


def test_decoding_joins_bio_runs_and_drops_unreported_labels() -> None:
    text = "Acme Inc hired Maria Gonzalez\nat 5 Main St\n"
    tokens = tokenize(text)
    labels = ["B-ORG", "I-ORG", "O", "B-PER", "I-PER", "O", "O", "B-ADDR", "I-ADDR", "I-ADDR", "I-ADDR"]
    spans = spans_from_labels(tokens, labels, [0.9] * len(tokens))
    assert [(s.type, text[s.start : s.end]) for s in spans] == [
        ("PERSON", "Maria Gonzalez"),
        ("STREET_ADDRESS", "5 Main St"),  # the trailing newline is not part of it
    ]
    assert spans[0].score == pytest.approx(0.9)


def test_an_i_label_without_a_b_starts_a_span() -> None:
    tokens = tokenize("see Paris now")
    assert spans_from_labels(tokens, ["O", "I-LOC", "O"]) == [TaggedSpan("LOCATION", 4, 9, 1.0)]


@pytest.fixture(scope="module")
def tagger() -> NameTagger:
    return NameTagger()


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("please forward the contract to joanna kowalczyk before friday", "PERSON", "joanna kowalczyk"),
        ("Yesterday Kwame Mensah signed the lease.", "PERSON", "Kwame Mensah"),
        ("We moved to Tromsø last winter.", "LOCATION", "Tromsø"),
    ],
)
def test_shipped_model_finds_names_and_places(tagger: NameTagger, text: str, entity: str, value: str) -> None:
    found = {(s.type, text[s.start : s.end]) for s in tagger.tag(text)}
    assert (entity, value) in found


def test_shipped_model_keeps_a_postal_address_in_one_span(tagger: NameTagger) -> None:
    text = "Return it to:\n4417 Lindenweg 12\nApt. 3\n3511 Utrecht\nNetherlands\nThanks!"
    spans = [s for s in tagger.tag(text) if s.type == "STREET_ADDRESS"]
    assert len(spans) == 1
    assert text[spans[0].start : spans[0].end].startswith("4417 Lindenweg 12")
    assert "Utrecht" in text[spans[0].start : spans[0].end]


def test_shipped_model_leaves_capitalised_words_alone(tagger: NameTagger) -> None:
    assert tagger.tag("The Marketing Budget and the Annual Review are Due on Monday.") == []


def test_spacy_mode_still_builds_and_finds_names() -> None:
    runtime = GuardRuntime(ner="spacy")
    text = "Please call John Smith tomorrow."
    found = {(e.type, text[e.start : e.end]) for e in PiiDetector(runtime.analyzer).detect(text)}
    assert ("PERSON", "John Smith") in found


def test_list_fallbacks_mark_countries_but_not_names_or_words() -> None:
    gaz = Gazetteer.from_word_lists(
        {
            "first": {"jordan": 1, "amelie": 1},
            "last": {},
            "english": {"bath": 4, "we": 7},
            "cities": ["bath", "lyon"],
            "regions": ["jordan", "new zealand"],
        }
    )
    tagger = NameTagger(gazetteer=gaz)
    text = "We met Amelie in New Zealand, Lyon and Bath; Jordan came too."
    found = {(s.type, text[s.start : s.end]) for s in tagger._fallbacks(tokenize(text), [])}
    # Jordan: a region but also a first name, so a person; Bath: a city but also a word.
    assert found == {("PERSON", "Amelie"), ("PERSON", "Jordan"), ("LOCATION", "New Zealand"), ("LOCATION", "Lyon")}
    taken = [TaggedSpan("PERSON", text.index("Lyon"), text.index("Lyon") + 4, 0.9)]
    assert ("LOCATION", "Lyon") not in {
        (s.type, text[s.start : s.end]) for s in tagger._fallbacks(tokenize(text), taken)
    }
