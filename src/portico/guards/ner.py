"""Names, places and street addresses: a small CRF tagger over word shapes, context and
public word lists (first and last names, cities and countries, common English words).

It replaces spaCy's small NER for PERSON / LOCATION / STREET_ADDRESS: it catches lower-case
and foreign names, multi-line postal addresses and towns of a few thousand people, and it
runs in well under a millisecond per sentence. The model and the word lists ship with the
package (``data/pii_ner_v1.crfsuite``, ``data/pii_gazetteer_v1.json.gz``); they are rebuilt
by ``scripts/build_pii_gazetteer.py`` and ``scripts/train_pii_ner.py``."""

from __future__ import annotations

import gzip
import json
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
GAZETTEER_PATH = DATA_DIR / "pii_gazetteer_v1.json.gz"
MODEL_PATH = DATA_DIR / "pii_ner_v1.crfsuite"

# Tagger labels -> entity types. ORG is learnt so that company names stop looking like people;
# it is not reported.
ENTITY_OF = {"PER": "PERSON", "LOC": "LOCATION", "ADDR": "STREET_ADDRESS"}

_TOKEN = re.compile(r"\w+|\n|[^\w\s]")
_WORD = re.compile(r"\w+")
_MAX_PHRASE = 4


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Generic vocabulary, not learnt from data: words that name a street, that title a person,
# that end a company name, and that introduce an address unit.
STREET_WORDS = _words(
    """street st avenue ave av avda avenida road rd lane ln drive dr boulevard blvd way court ct place pl square sq
    terrace crescent close parkway pkwy highway hwy route trail row alley circle cir plaza park hill hills
    rue chemin allee impasse quai calle carrer camino paseo plaza via viale piazza corso largo vicolo rua travessa
    praca estrada ul ulica aleja al os plac strasse str gasse weg platz allee ring damm ufer vej gade alle straede
    gata gatan vagen vag gatvej tie katu kuja polku tanav utca ut korut ter laan straat plein gracht steeg kade
    odos leoforos sokak cadde caddesi bulvar"""
)
UNIT_WORDS = _words("apt apartment suite ste unit flat floor fl box po bus psc cmr dpo fpo apo")
PERSON_TITLES = _words("mr mrs ms miss mx dr prof sir madam dame lady lord rev fr sr jr")
ORG_WORDS = _words("inc ltd llc plc gmbh ag sa srl bv nv oy ab as co corp corporation company group holdings partners")


def fold(text: str) -> str:
    """Lower-case and strip accents: ``Stanković`` -> ``stankovic``."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


def split_words(text: str) -> list[str]:
    return _WORD.findall(text)


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str


def tokenize(text: str) -> list[Token]:
    return [Token(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


@dataclass(frozen=True, slots=True)
class TaggedSpan:
    type: str
    start: int
    end: int
    score: float


class Gazetteer:
    """The word lists, keyed by folded word or phrase: first/last names (rank bucket 1-3:
    top 300/1,000/3,000 of some country), English words (Zipf frequency), cities, regions."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version = str(data.get("version", ""))
        self.first: dict[str, int] = data["first"]
        self.last: dict[str, int] = data["last"]
        self.english: dict[str, int] = data["english"]
        self.cities = frozenset(data["cities"])
        self.regions = frozenset(data["regions"])
        self._starts = frozenset(p.split(" ", 1)[0] for p in self.cities | self.regions)
        # Token text -> its features (they depend on nothing else); bounded, per instance.
        self._tokens: dict[str, _TokenFeatures] = {}

    @classmethod
    def load(cls, path: Path = GAZETTEER_PATH) -> Gazetteer:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return cls(json.load(f))

    def word_features(self, folded: str) -> list[str]:
        out = []
        if (b := self.first.get(folded)) is not None:
            out.append(f"fn{b}")
        if (b := self.last.get(folded)) is not None:
            out.append(f"ln{b}")
        out.append(f"en{self.english.get(folded, 0)}")
        return out

    def phrase_marks(self, folded: Sequence[str]) -> list[str]:
        """Per token: ``B-city``/``I-city``/``B-region``/... for the longest list match."""
        marks = [""] * len(folded)
        i = 0
        while i < len(folded):
            if folded[i] not in self._starts:
                i += 1
                continue
            for n in range(min(_MAX_PHRASE, len(folded) - i), 0, -1):
                phrase = " ".join(folded[i : i + n])
                kind = "region" if phrase in self.regions else "city" if phrase in self.cities else ""
                if kind and (n > 1 or folded[i].isalpha()):
                    marks[i] = f"B-{kind}"
                    for j in range(i + 1, i + n):
                        marks[j] = f"I-{kind}"
                    i += n
                    break
            else:
                i += 1
        return marks

    def token_features(self, text: str) -> _TokenFeatures:
        cached = self._tokens.get(text)
        if cached is None:
            if len(self._tokens) >= _TOKEN_CACHE:
                self._tokens.clear()
            folded = fold(text)
            own = _base(text, folded, self)
            near = [f for f in own if f.startswith(_NEIGHBOUR_KEYS)]
            word = next((f for f in own if f.startswith("w=")), "nl")
            near_by_offset = tuple([f"{off}:{f}" for f in near] for off in _OFFSETS)
            cached = _TokenFeatures(folded, own, near_by_offset, word, own[0])
            self._tokens[text] = cached
        return cached


def _shape(text: str) -> str:
    out: list[str] = []
    for c in text:
        k = "X" if c.isupper() else "x" if c.isalpha() else "d" if c.isdigit() else c
        if not out or out[-1] != k:
            out.append(k)
    return "".join(out)[:6]


_COMMON = 3  # Zipf frequency: about once per million words
_OFFSETS = (-2, -1, 1, 2)
_TOKEN_CACHE = 200_000
_LIST_SCORE = 0.7


@dataclass(frozen=True, slots=True)
class _TokenFeatures:
    folded: str
    own: list[str]
    near: tuple[list[str], ...]  # the features a neighbour at each of _OFFSETS sees
    word: str  # its ``w=`` feature ("nl" for a line break)
    shape: str


def _base(t: str, folded: str, gaz: Gazetteer) -> list[str]:
    if t == "\n":
        return ["nl"]
    feats = [f"sh={_shape(t)}", f"s3={folded[-3:]}", f"s2={folded[-2:]}"]
    if t[0].isdigit():
        feats.append(f"nd={min(sum(c.isdigit() for c in t), 6)}")
    if not t.isascii():
        feats.append("nonascii")
    if t.isalpha():
        words = gaz.word_features(folded)
        feats.extend(words)
        # The word itself only for common words: rare ones (most names) must be judged by
        # shape, lists and context, or the tagger learns the training set's names by heart.
        feats.append(f"w={folded}" if gaz.english.get(folded, 0) >= _COMMON else "w=rare")
    else:
        feats.append(f"w={folded}")
    for name, vocabulary in (
        ("street", STREET_WORDS),
        ("unit", UNIT_WORDS),
        ("title", PERSON_TITLES),
        ("org", ORG_WORDS),
    ):
        if folded in vocabulary:
            feats.append(name)
    return feats


# Which of a neighbour's features are copied into a token's own, with the offset as prefix.
_NEIGHBOUR_KEYS = ("w=", "sh=", "fn", "ln", "en", "B-", "I-", "street", "unit", "title", "org", "nl", "nd=", "ner=")


def sentence_features(
    tokens: Sequence[Token], gaz: Gazetteer, hints: Sequence[tuple[int, int, str]] = ()
) -> list[list[str]]:
    """CRF features per token. ``hints`` are another tagger's spans (start, end, label),
    e.g. spaCy's entities, added as ``ner=LABEL`` features."""
    cached = [gaz.token_features(t.text) for t in tokens]
    marks = gaz.phrase_marks([c.folded for c in cached])
    extra: list[list[str]] = [[m] if m else [] for m in marks]
    for start, end, label in hints:
        for i, t in enumerate(tokens):
            if t.start < end and start < t.end:
                extra[i].append(f"ner={label}")
    out: list[list[str]] = []
    n = len(tokens)
    for i in range(n):
        feats = ["bias", *cached[i].own, *extra[i]]
        if i == 0 or tokens[i - 1].text == "\n":
            feats.append("line_start")
        shape = cached[i].shape
        if i > 0:
            feats.append(f"pw|{cached[i - 1].word}|{shape}")
        if i + 1 < n:
            feats.append(f"nw|{cached[i + 1].word}|{shape}")
        for k, off in enumerate(_OFFSETS):
            j = i + off
            if 0 <= j < n:
                feats.extend(cached[j].near[k])
                feats.extend(f"{off}:{f}" for f in extra[j])
            else:
                feats.append(f"{off}:edge")
        out.append(feats)
    return out


def spans_from_labels(
    tokens: Sequence[Token], labels: Sequence[str], probs: Sequence[float] | None = None
) -> list[TaggedSpan]:
    """BIO labels -> entity spans; a span's score is its tokens' mean label probability."""
    spans: list[TaggedSpan] = []
    kind, start, end, scores = "", 0, 0, [0.0]
    for i, (tok, lab) in enumerate(zip(tokens, labels, strict=True)):
        p = probs[i] if probs is not None else 1.0
        tag, _, typ = lab.partition("-")
        if kind and tag == "I" and typ == kind:
            if tok.text[0].isalnum() or tok.text in ".)":  # never end on a newline or a comma
                end = tok.end
            scores.append(p)
            continue
        if kind:
            spans.append(TaggedSpan(kind, start, end, sum(scores) / len(scores)))
            kind = ""
        if tag in ("B", "I") and typ:
            kind, start, end, scores = typ, tok.start, tok.end, [p]
    if kind:
        spans.append(TaggedSpan(kind, start, end, sum(scores) / len(scores)))
    return [TaggedSpan(ENTITY_OF[s.type], s.start, s.end, s.score) for s in _join_addresses(tokens, spans)]


def _join_addresses(tokens: Sequence[Token], spans: list[TaggedSpan]) -> list[TaggedSpan]:
    """Address lines tagged as separate spans (a new B- after a line break or a comma) are
    one address; other labels the tagger learnt but we do not report (ORG) are dropped."""
    out: list[TaggedSpan] = []
    for s in spans:
        if s.type not in ENTITY_OF:
            continue
        prev = out[-1] if out else None
        if prev is not None and prev.type == s.type == "ADDR":
            between = [t.text for t in tokens if prev.end <= t.start and t.end <= s.start]
            if all(t in ("\n", ",") for t in between):
                out[-1] = TaggedSpan("ADDR", prev.start, s.end, min(prev.score, s.score))
                continue
        out.append(s)
    return out


class NameTagger:
    """The CRF tagger. Thread-safe: one pycrfsuite tagger per thread."""

    def __init__(self, model_path: Path = MODEL_PATH, gazetteer: Gazetteer | None = None) -> None:
        self._model_path = str(model_path)
        self.gazetteer = gazetteer or Gazetteer.load()
        self._local = threading.local()

    def _tagger(self) -> Any:
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            import pycrfsuite

            tagger = pycrfsuite.Tagger()
            tagger.open(self._model_path)
            self._local.tagger = tagger
        return tagger

    def tag(self, text: str, hints: Sequence[tuple[int, int, str]] = ()) -> list[TaggedSpan]:
        tokens = tokenize(text)
        if not tokens:
            return []
        tagger = self._tagger()
        labels = tagger.tag(sentence_features(tokens, self.gazetteer, hints))
        # Marginals cost a forward-backward pass per call: only the tokens in a span need one.
        probs = [tagger.marginal(lab, i) if lab != "O" else 1.0 for i, lab in enumerate(labels)]
        spans = spans_from_labels(tokens, labels, probs)
        return spans + self._fallbacks(tokens, spans)

    def _fallbacks(self, tokens: Sequence[Token], taken: Sequence[TaggedSpan]) -> list[TaggedSpan]:
        """Word-list matches the tagger left alone: country and state names and city names
        are places unless a word is also a name or a common English word (Jordan, Chad, Bath);
        a top-300 first name that is rare as an English word is a person."""
        gaz = self.gazetteer
        folded = [gaz.token_features(t.text).folded for t in tokens]
        marks = gaz.phrase_marks(folded)
        found = list(taken)
        out: list[TaggedSpan] = []

        def add(kind: str, i: int, j: int, score: float) -> None:
            start, end = tokens[i].start, tokens[j - 1].end
            if not any(s.start < end and start < s.end for s in found):
                span = TaggedSpan(kind, start, end, score)
                found.append(span)
                out.append(span)

        i = 0
        while i < len(tokens):
            mark, text = marks[i], tokens[i].text
            j = i + 1
            while j < len(marks) and marks[j].startswith("I-"):
                j += 1
            words = folded[i:j]
            region = mark == "B-region" and gaz.first.get(words[0], 9) > 2
            city = mark == "B-city" and not any(self._namey_or_common(w) for w in words)
            if (region or city) and text[0].isupper():
                add("LOCATION", i, j, _LIST_SCORE)
            i = j if mark.startswith("B-") else i + 1
        for i, tok in enumerate(tokens):
            w, f = tok.text, folded[i]
            first_name = gaz.first.get(f, 9) <= 1 and gaz.english.get(f, 0) <= _COMMON
            if first_name and len(w) > 2 and w[0].isupper() and w[1:].islower():
                add("PERSON", i, i + 1, _LIST_SCORE - 0.1)
        return out

    def _namey_or_common(self, word: str) -> bool:
        gaz = self.gazetteer
        return gaz.first.get(word, 9) <= 3 or gaz.last.get(word, 9) <= 3 or gaz.english.get(word, 0) >= _COMMON
