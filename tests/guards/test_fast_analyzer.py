"""FastAnalyzer answers exactly as Presidio's AnalyzerEngine.analyze does, and the CRF
tagger's pruned features tag exactly as the full feature set does. The texts mix PII of
every type the prefilters cover into ordinary sentences, next to every kind of neighbour
(space, tab, newline, punctuation, letters, non-ASCII digits and case variants)."""

from __future__ import annotations

import random
import string
from typing import Any

import pytest

from portico.guards import GuardRuntime
from portico.guards.fast_analyzer import (
    PATTERN_PREFILTERS,
    RECOGNIZER_PREFILTERS,
    FastAnalyzer,
    _one_try_per_run,
    chunks_around,
    fold_case,
)
from portico.guards.ner import NameTagger, sentence_features, tokenize
from portico.guards.pii import DEFAULT_ENTITIES, PiiDetector

# One or more values each prefiltered pattern matches (some also match others).
SEEDS = [
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_" + "a1B2c3D4e5" * 4,
    "xoxb-1234567890-abcdefghij",
    "AIza" + "Sy" + "x" * 33,
    "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "sk-proj-abcdEFGH1234567890abcdXYZ",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    "-----BEGIN RSA PRIVATE KEY-----",
    "api_key = 'abcd1234efgh5678'",
    "password: hunter2hunter2",
    "PA\u017f\u017fWORD = longsecret99",  # long s: IGNORECASE and casefold both read it as s
    "api_\u212aEY=abcdefgh1234",  # Kelvin sign: k
    "TELEPHONE: 020 7946 0958",
    "MOB\u0130LE: 020 7946 0958",  # dotted capital I: IGNORECASE reads i, casefold gives i + U+0307
    "::ffff:192.168.10.1",
    "64:ff9b::192.0.2.33",
    "fe80::1ff:fe23:4567:890a%eth0",
    "2001:db8::8a2e:370:7334",
    " :: ",
    "10.0.0.254",
    "123456789",
    "A12345678",
    "12345-6789",
    "123-456789",
    "536-90-4399",
    "536 90 4399",
    "D1234567",
    "12345678901234",
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "123456789012",
    "GB82 WEST 1234 5698 7654 32",
    "DE89370400440532013000",
    "+44 20 7946 0958",
    "(415) 555-0134",
    "phone: 212.555.0199",
    "grace.hopper@navy.example.com",
    "https://example.com/path?q=1",
    "www.example.co.uk/index.html",
    "docs.python.org",
    "'https://example.org/x'",
    '"example.net"',
    "xwww\u0663.example.com",
    "WWW\u0663\u0663.foo.net/a",
    "a.b.c.community/x@y",
]
SENTENCES = [
    "Please summarise the quarterly report and list the three main risks for the board.",
    "My colleague Maria Gonzalez will join the call on Tuesday.",
    "Ship the replacement part to 742 Evergreen Terrace, Springfield, and call me.",
    "Dear Mr. Fitzgerald, my card was declined twice.",
    "Our IBAN and my social security number are below; the license is attached.",
    "We moved to Tromsø last winter.",
]
NEIGHBOURS = [
    " ",
    "  ",
    "\t",
    "\n",
    ", ",
    ". ",
    "(",
    ")",
    ":",
    "=",
    "'",
    '"',
    "/",
    "-",
    "x",
    "\u0663",
    "\u212a",
    "\u017f",
]


def corpus(n: int = 300, seed: int = 19) -> list[str]:
    rng = random.Random(seed)
    soup = list(string.ascii_letters + string.digits + ".@:-_/'\"()+#%=") + [" "] * 8 + ["\t", "\n", "\u0663"]
    texts = list(SEEDS)
    for _ in range(n):
        parts: list[str] = []
        for _ in range(rng.randint(1, 5)):
            parts.append(rng.choice(SENTENCES))
            parts.append(rng.choice(NEIGHBOURS) + rng.choice(SEEDS) + rng.choice(NEIGHBOURS))
        texts.append("".join(parts))
    texts += ["".join(rng.choice(soup) for _ in range(rng.randint(5, 120))) for _ in range(n // 2)]
    return texts


def answers(results: list[Any]) -> list[tuple[str, int, int, float]]:
    return sorted((r.entity_type, r.start, r.end, round(r.score, 9)) for r in results)


@pytest.fixture(scope="module")
def fast(runtime: GuardRuntime) -> FastAnalyzer:
    analyzer = runtime.analyzer
    assert isinstance(analyzer, FastAnalyzer)
    return analyzer


def test_fast_path_answers_as_presidio_does(fast: FastAnalyzer) -> None:
    entities = list(DEFAULT_ENTITIES)
    differ = [
        t
        for t in corpus()
        if answers(fast.analyze(t, "en", entities)) != answers(fast.engine.analyze(t, language="en", entities=entities))
    ]
    assert differ == []


def test_detector_finds_the_same_entities_on_either_path(fast: FastAnalyzer) -> None:
    quick, stock = PiiDetector(fast), PiiDetector(fast.engine)
    texts = corpus(120, seed=7)
    assert [quick.detect(t) for t in texts] == [stock.detect(t) for t in texts]


def test_every_prefilter_matches_its_pattern(fast: FastAnalyzer) -> None:
    """A pattern that changes (a Presidio upgrade, an edit in recognizers.py) loses its
    prefilter and runs unfiltered: this test says which trigger to re-check."""
    fast.analyze("warm up", "en", list(DEFAULT_ENTITIES))
    assert set(PATTERN_PREFILTERS) <= fast.filtered
    assert {(name, "*") for name in RECOGNIZER_PREFILTERS} <= fast.filtered
    plans, _ = fast._plan("en", tuple(DEFAULT_ENTITIES))
    unfiltered = [
        (plan.recognizer.name, p.name)
        for plan in plans
        for p in plan.patterns or []
        if p.trigger is None and not p.words
    ]
    assert unfiltered == []


def test_prefiltered_patterns_match_exactly_where_the_full_pass_does(fast: FastAnalyzer) -> None:
    plans, _ = fast._plan("en", tuple(DEFAULT_ENTITIES))
    texts = corpus()
    for plan in plans:
        for p in plan.patterns or []:
            hits = 0
            for t in texts:
                full = [m.span() for m in p.compiled.finditer(t)]
                hits += bool(full)
                if p.trigger is None and not p.words:
                    continue
                absent = p.trigger is not None and p.trigger.search(t) is None
                if absent or (p.words and not any(w in fold_case(t) for w in p.words)):
                    assert full == [], (plan.recognizer.name, p.name, t)
                elif p.chunked:
                    windows = chunks_around(p.trigger, t)
                    if p.runs is None:
                        got = [(a + m.start(), a + m.end()) for a, b in windows for m in p.compiled.finditer(t[a:b])]
                    else:
                        got = [(a + x, a + y) for a, b in windows for x, y in _one_try_per_run(p, t[a:b])]
                    assert got == full, (plan.recognizer.name, p.name, t)
            # The corpus must exercise every pattern, or this test could not fail.
            assert hits > 0, (plan.recognizer.name, p.name)


def test_url_runs_keep_the_long_run_and_www_cases(fast: FastAnalyzer) -> None:
    plans, _ = fast._plan("en", tuple(DEFAULT_ENTITIES))
    url = next(p for plan in plans for p in plan.patterns or [] if p.runs is not None)
    for text in ["." * 300 + "a.com", "x" * 260 + ".com", "wwww\u0663.example.com", "www1\u0663.ab.co", "e.g. i.e."]:
        got = [(a + x, a + y) for a, b in chunks_around(url.trigger, text) for x, y in _one_try_per_run(url, text[a:b])]
        assert got == [m.span() for m in url.compiled.finditer(text)], text


def test_context_words_raise_scores_on_the_fast_path_too(fast: FastAnalyzer) -> None:
    entities = ["PHONE_NUMBER"]
    plain = fast.analyze("It is 415 555 0134 now", "en", entities)
    cued = fast.analyze("My phone is 415 555 0134 now", "en", entities)
    assert max(r.score for r in cued) > max(r.score for r in plain)
    assert answers(cued) == answers(
        fast.engine.analyze("My phone is 415 555 0134 now", language="en", entities=entities)
    )


def test_case_folding_reads_ascii_letters_as_ignorecase_does() -> None:
    import regex

    flags = regex.IGNORECASE | regex.DOTALL | regex.MULTILINE
    for ch in ["\u0130", "\u212a", "\u017f", "K", "s", "\u0131", "\u00df"]:
        letters = [c for c in string.ascii_lowercase if regex.fullmatch(c, ch, flags)]
        assert letters == [] or fold_case(ch) == letters[0], ch


def test_context_tokens_are_the_artifacts_tokens(fast: FastAnalyzer) -> None:
    nlp: Any = fast.engine.nlp_engine
    for text in corpus(60, seed=5):
        artifacts = nlp.process_text(text, "en")
        tokens, starts, lemmas = nlp.context_tokens(text, "en")
        assert (list(tokens), tokens.ends, starts, lemmas) == (
            list(artifacts.tokens),
            artifacts.tokens.ends,
            artifacts.tokens_indices,
            artifacts.lemmas,
        )


def test_presidio_path_is_still_available() -> None:
    runtime = GuardRuntime(fast_pii=False)
    assert not isinstance(runtime.analyzer, FastAnalyzer)


def test_pruned_features_tag_as_the_full_feature_set() -> None:
    tagger = NameTagger()
    crf = tagger._tagger()
    known = tagger.known_features
    gaz = tagger.gazetteer
    rng = random.Random(3)
    for text in corpus(80, seed=11):
        tokens = tokenize(text)
        if not tokens:
            continue
        hints = [(tokens[0].start, tokens[-1].end, "PERSON")] if rng.random() < 0.3 else []
        cached = [gaz.token_features(t.text) for t in tokens]
        marks = gaz.phrase_marks([c.folded for c in cached], [c.starts_phrase for c in cached])
        pruned = tagger.model_features(tokens, cached, marks, hints)
        full = sentence_features(tokens, gaz, hints)
        assert pruned == [[f for f in fs if f in known] for fs in full]
        labels = crf.tag(full)
        marginals = [crf.marginal(lab, i) for i, lab in enumerate(labels)]
        assert crf.tag(pruned) == labels
        assert [crf.marginal(lab, i) for i, lab in enumerate(labels)] == marginals
