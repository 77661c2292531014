"""Names, places and street addresses: a small CRF tagger over word shapes, context and
public word lists (first and last names, cities and countries, common English words).

It replaces spaCy's small NER for PERSON / LOCATION / STREET_ADDRESS: it catches lower-case
and foreign names, multi-line postal addresses and towns of a few thousand people, and it
runs in well under a millisecond per sentence. The model and the word lists ship with the
package (``data/pii_ner_v1.crfsuite``, ``data/pii_gazetteer_v1.npz``); they are rebuilt
by ``scripts/build_pii_gazetteer.py`` and ``scripts/train_pii_ner.py``."""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

DATA_DIR = Path(__file__).parent / "data"
GAZETTEER_PATH = DATA_DIR / "pii_gazetteer_v1.npz"
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


class Token(NamedTuple):
    """A word, a line break or one punctuation character (a tuple: cheap to build)."""

    start: int
    end: int
    text: str


def tokenize(text: str) -> list[Token]:
    # findall + find is about twice as fast as a match object per token; only spaces and
    # tabs are skipped between tokens, so the next occurrence from ``pos`` is the token.
    out: list[Token] = []
    pos = 0
    find = text.find
    new = tuple.__new__  # Token(...) goes through a Python-level __new__
    for word in _TOKEN.findall(text):
        start = find(word, pos)
        pos = start + len(word)
        out.append(new(Token, (start, pos, word)))
    return out


@dataclass(frozen=True, slots=True)
class TaggedSpan:
    type: str
    start: int
    end: int
    score: float


def key_of(text: str) -> int:
    """A stable 64-bit key for a folded word or phrase (the compiled lists store only keys)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little", signed=True)


def compile_word_lists(data: dict[str, Any]) -> dict[str, npt.NDArray[Any]]:
    """Word lists -> arrays: sorted word keys with one packed byte each (first-name bucket,
    last-name bucket << 2, Zipf frequency << 4), and sorted keys of cities, regions and of
    the first words of both."""
    first: dict[str, int] = data["first"]
    last: dict[str, int] = data["last"]
    english: dict[str, int] = data["english"]
    words = {key_of(w): first.get(w, 0) | last.get(w, 0) << 2 | min(english.get(w, 0), 7) << 4
             for w in {*first, *last, *english}}  # fmt: skip
    keys = np.array(sorted(words), dtype=np.int64)
    phrases = [*data["cities"], *data["regions"]]
    return {
        "word_keys": keys,
        "word_values": np.array([words[int(k)] for k in keys], dtype=np.uint8),
        "cities": np.array(sorted({key_of(p) for p in data["cities"]}), dtype=np.int64),
        "regions": np.array(sorted({key_of(p) for p in data["regions"]}), dtype=np.int64),
        "starts": np.array(sorted({key_of(p.split(" ", 1)[0]) for p in phrases}), dtype=np.int64),
        "version": np.array(str(data.get("version", ""))),
    }


class Gazetteer:
    """The word lists, looked up by folded word or phrase: first/last names (rank bucket 1-3:
    top 300/1,000/3,000 of some country; 9 = not a name), English words (Zipf frequency),
    cities, regions. Held as 64-bit keys (:func:`compile_word_lists`): about 15 MB, where
    Python dicts of the strings took about 90 MB."""

    def __init__(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.version = str(arrays["version"])
        self._keys = np.asarray(arrays["word_keys"], dtype=np.int64)
        self._values = np.asarray(arrays["word_values"], dtype=np.uint8)
        # Sets, not arrays: phrase look-ups happen per request, not once per distinct token.
        self._cities = set(arrays["cities"].tolist())
        self._regions = set(arrays["regions"].tolist())
        self._starts = set(arrays["starts"].tolist())
        # Token text -> its features (they depend on nothing else); bounded, per instance.
        self._tokens: dict[str, _TokenFeatures] = {}
        self._phrases: dict[str, str] = {}  # candidate phrase -> "city" / "region" / ""

    @classmethod
    def load(cls, path: Path = GAZETTEER_PATH) -> Gazetteer:
        with np.load(path, allow_pickle=False) as data:
            return cls({name: data[name] for name in data.files})

    @classmethod
    def from_word_lists(cls, data: dict[str, Any]) -> Gazetteer:
        return cls(compile_word_lists(data))

    def _packed(self, folded: str) -> int:
        key = key_of(folded)
        i = int(np.searchsorted(self._keys, key))
        return int(self._values[i]) if i < len(self._keys) and self._keys[i] == key else 0

    def word_features(self, folded: str) -> list[str]:
        return _word_features(self._packed(folded))

    def phrase_marks(self, folded: Sequence[str], starts: Sequence[bool] | None = None) -> list[str]:
        """Per token: ``B-city``/``I-city``/``B-region``/... for the longest list match.
        ``starts`` (whether each word begins a listed phrase) may come from the token cache."""
        if starts is None:
            starts = [self.starts_phrase(w) for w in folded]
        count = len(folded)
        marks = [""] * count
        free = 0  # the first token not inside a phrase found already
        seen = self._phrases
        for i in compress(range(count), starts):
            if i < free:
                continue
            for n in range(min(_MAX_PHRASE, count - i), 0, -1):
                phrase = " ".join(folded[i : i + n])
                kind = seen.get(phrase)
                if kind is None:
                    kind = self._phrase_kind(phrase)
                if kind and (n > 1 or folded[i].isalpha()):
                    marks[i] = f"B-{kind}"
                    for j in range(i + 1, i + n):
                        marks[j] = f"I-{kind}"
                    free = i + n
                    break
        return marks

    def _phrase_kind(self, phrase: str) -> str:
        kind = self._phrases.get(phrase)
        if kind is None:
            if len(self._phrases) >= _TOKEN_CACHE:
                self._phrases.clear()
            key = key_of(phrase)
            kind = "region" if key in self._regions else "city" if key in self._cities else ""
            self._phrases[phrase] = kind
        return kind

    def starts_phrase(self, folded: str) -> bool:
        return key_of(folded) in self._starts

    def token_features(self, text: str) -> _TokenFeatures:
        cached = self._tokens.get(text)
        if cached is None:
            if len(self._tokens) >= _TOKEN_CACHE:
                self._tokens.clear()
            folded = fold(text)
            packed = self._packed(folded)  # first-name bucket | last-name bucket << 2 | Zipf << 4
            own = _base(text, folded, packed)
            near = [f for f in own if f.startswith(_NEIGHBOUR_KEYS)]
            word = next((f for f in own if f.startswith("w=")), "nl")
            near_by_offset = tuple([f"{off}:{f}" for f in near] for off in _OFFSETS)
            cached = _TokenFeatures(
                folded,
                own,
                near_by_offset,
                word,
                own[0],
                (packed & 3) or _NOT_LISTED,
                (packed >> 2 & 3) or _NOT_LISTED,
                packed >> 4,
                self.starts_phrase(folded),
            )
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
_NOT_LISTED = 9


@dataclass(frozen=True, slots=True)
class _TokenFeatures:
    folded: str
    own: list[str]
    near: tuple[list[str], ...]  # the features a neighbour at each of _OFFSETS sees
    word: str  # its ``w=`` feature ("nl" for a line break)
    shape: str
    first: int  # first-name rank bucket (_NOT_LISTED if none)
    last: int
    zipf: int
    starts_phrase: bool  # begins some listed city or region name


def _word_features(packed: int) -> list[str]:
    out = []
    if packed & 3:
        out.append(f"fn{packed & 3}")
    if packed >> 2 & 3:
        out.append(f"ln{packed >> 2 & 3}")
    out.append(f"en{packed >> 4}")
    return out


def _base(t: str, folded: str, packed: int) -> list[str]:
    """A token's own features; ``packed`` is its word-list entry (see compile_word_lists)."""
    if t == "\n":
        return ["nl"]
    feats = [f"sh={_shape(t)}", f"s3={folded[-3:]}", f"s2={folded[-2:]}"]
    if t[0].isdigit():
        feats.append(f"nd={min(sum(c.isdigit() for c in t), 6)}")
    if not t.isascii():
        feats.append("nonascii")
    if t.isalpha():
        feats.extend(_word_features(packed))
        # The word itself only for common words: rare ones (most names) must be judged by
        # shape, lists and context, or the tagger learns the training set's names by heart.
        feats.append(f"w={folded}" if packed >> 4 >= _COMMON else "w=rare")
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
    marks = gaz.phrase_marks([c.folded for c in cached], [c.starts_phrase for c in cached])
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
        if lab == "O":  # most tokens: only closes an open span
            if kind:
                spans.append(TaggedSpan(kind, start, end, sum(scores) / len(scores)))
                kind = ""
            continue
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
        self._known: frozenset[str] | None = None
        # Token text -> ["bias", its own features] and what each neighbour sees of it, only
        # the features the model knows.
        self._pruned: dict[str, tuple[list[str], tuple[list[str], ...]]] = {}

    def _tagger(self) -> Any:
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            import pycrfsuite

            tagger = pycrfsuite.Tagger()
            tagger.open(self._model_path)
            self._local.tagger = tagger
        return tagger

    @property
    def known_features(self) -> frozenset[str]:
        """The attributes the model has a state feature for. Any other feature adds nothing
        to any label's score, so leaving it out changes no label and no marginal; it saves
        the string conversion and the dictionary look-up crfsuite does for each feature,
        most of the cost of tagging. (Every dumped attribute counts, zero-looking weights
        too: the dump rounds, and a weight printed as 0.000000 can still break a tie.)"""
        if self._known is None:
            info = self._tagger().info()
            self._known = frozenset(attr for attr, _label in info.state_features)
        return self._known

    def tag(self, text: str, hints: Sequence[tuple[int, int, str]] = ()) -> list[TaggedSpan]:
        tokens = tokenize(text)
        if not tokens:
            return []
        tagger = self._tagger()
        gaz = self.gazetteer
        cached = [gaz.token_features(t.text) for t in tokens]
        marks = gaz.phrase_marks([c.folded for c in cached], [c.starts_phrase for c in cached])
        labels = tagger.tag(self.model_features(tokens, cached, marks, hints))
        # Marginals cost a forward-backward pass per call: only the tokens in a span need one.
        probs = [tagger.marginal(lab, i) if lab != "O" else 1.0 for i, lab in enumerate(labels)]
        spans = spans_from_labels(tokens, labels, probs)
        return spans + self._fallbacks(tokens, spans, cached, marks)

    def model_features(
        self,
        tokens: Sequence[Token],
        cached: Sequence[_TokenFeatures],
        marks: Sequence[str],
        hints: Sequence[tuple[int, int, str]] = (),
    ) -> list[list[str]]:
        """:func:`sentence_features` without the features the model has no weight for, in
        the same order (so crfsuite adds the same numbers in the same order)."""
        known = self.known_features
        pruned = [self._pruned_token(t.text, c, known) for t, c in zip(tokens, cached, strict=True)]
        own = [p[0] for p in pruned]
        near = [p[1] for p in pruned]
        n = len(tokens)
        # Phrase marks and hints (few tokens have any), by token index.
        extra: dict[int, list[str]] = {i: [m] for i, m in enumerate(marks) if m}
        for start, end, label in hints:
            for i, t in enumerate(tokens):
                if t.start < end and start < t.end:
                    extra.setdefault(i, []).append(f"ner={label}")
        edge = [f"{off}:edge" if f"{off}:edge" in known else "" for off in _OFFSETS]
        line_start = "line_start" in known
        words = [c.word for c in cached]
        shapes = [c.shape for c in cached]
        # What each token shows a neighbour two before, one before, one after, two after it.
        seen_2after, seen_1after, seen_1before, seen_2before = ([x[k] for x in near] for k in range(4))
        marked_near = {j - off for j in extra for off in _OFFSETS}
        out: list[list[str]] = []
        for i in range(n):
            feats = own[i].copy()  # "bias" and the token's own features
            if i in extra:
                feats += [f for f in extra[i] if f in known]
            if line_start and (i == 0 or tokens[i - 1].text == "\n"):
                feats.append("line_start")
            shape = shapes[i]
            if i > 0 and (f := f"pw|{words[i - 1]}|{shape}") in known:
                feats.append(f)
            if i + 1 < n and (f := f"nw|{words[i + 1]}|{shape}") in known:
                feats.append(f)
            if 2 <= i < n - 2 and i not in marked_near:  # most tokens: four neighbours, no marks
                feats += seen_2after[i - 2]
                feats += seen_1after[i - 1]
                feats += seen_1before[i + 1]
                feats += seen_2before[i + 2]
            else:
                for k, off in enumerate(_OFFSETS):
                    j = i + off
                    if 0 <= j < n:
                        feats += near[j][k]
                        if j in extra:
                            feats += [g for f in extra[j] if (g := f"{off}:{f}") in known]
                    elif edge[k]:
                        feats.append(edge[k])
            out.append(feats)
        return out

    def _pruned_token(
        self, text: str, c: _TokenFeatures, known: frozenset[str]
    ) -> tuple[list[str], tuple[list[str], ...]]:
        found = self._pruned.get(text)
        if found is None:
            if len(self._pruned) >= _TOKEN_CACHE:
                self._pruned.clear()
            own = [f for f in ("bias", *c.own) if f in known]
            found = (own, tuple([f for f in fs if f in known] for fs in c.near))
            self._pruned[text] = found
        return found

    def _fallbacks(
        self,
        tokens: Sequence[Token],
        taken: Sequence[TaggedSpan],
        info: Sequence[_TokenFeatures] | None = None,
        marks: Sequence[str] | None = None,
    ) -> list[TaggedSpan]:
        """Word-list matches the tagger left alone: country and state names and city names
        are places unless a word is also a name or a common English word (Jordan, Chad, Bath);
        a top-300 first name that is rare as an English word is a person. ``info`` and
        ``marks`` (the tokens' cached features and phrase marks) may come from the caller."""
        gaz = self.gazetteer
        if info is None:
            info = [gaz.token_features(t.text) for t in tokens]
        if marks is None:
            marks = gaz.phrase_marks([t.folded for t in info], [t.starts_phrase for t in info])
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
            mark = marks[i]
            if not mark:
                i += 1
                continue
            text = tokens[i].text
            j = i + 1
            while j < len(marks) and marks[j].startswith("I-"):
                j += 1
            region = mark == "B-region" and info[i].first > 2
            city = mark == "B-city" and not any(_namey_or_common(t) for t in info[i:j])
            if (region or city) and text[0].isupper():
                add("LOCATION", i, j, _LIST_SCORE)
            i = j if mark.startswith("B-") else i + 1
        for i, tok in enumerate(tokens):
            t = info[i]
            if t.first <= 1 and t.zipf <= _COMMON:
                w = tok.text
                if len(w) > 2 and w[0].isupper() and w[1:].islower():
                    add("PERSON", i, i + 1, _LIST_SCORE - 0.1)
        return out


def _namey_or_common(t: _TokenFeatures) -> bool:
    return t.first <= 3 or t.last <= 3 or t.zipf >= _COMMON
