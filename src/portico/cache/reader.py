"""The pair reader: a second look, token by token, at candidates the verifier is unsure of.

The verifier sees two pooled vectors and word-level overlap. What it misses most is *scope*:
one question asks more, less or a different aspect of the same topic ("how do I learn
Python" / "how do I learn Python for data science in a month"). Pooled vectors hide that;
the words left over after aligning the two questions token by token show it. The reader
aligns MiniLM's contextual token vectors both ways (each token's best cosine on the other
side), weighs what stays unaligned by rarity (WordPiece IDF fitted on the training pairs)
and by kind (question words, numbers), and a small logistic model over those features, the
verifier score and the pooled cosine gives the chance that one stored answer serves both.

It runs only in the band ``[band_low, band_high)`` of verifier scores (the pairs that pass
the cheap test but are not certain), so its cost (one MiniLM pass per new text, about as
much as embedding the query) is paid on a minority of lookups. Trained by
``bench/train_cache_reader.py`` on the hand-labelled train pairs only; shipped as plain
arrays (``allow_pickle=False``).

Experimental and off by default (``semantic.reader``): measured on the hand-labelled test
pairs it is no better than the verifier alone (docs/cache.md, "A token-level reader"). It is
kept as the seam where a stronger pair model (a cross-encoder) would plug in.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from portico.cache.signals import split_words
from portico.embeddings.minilm import TokenVectors, vocabulary
from portico.errors import ConfigError

READER_FILE = Path(__file__).with_name("data") / "cache_reader_v1.npz"

WH_WORDS = frozenset(split_words("what how why when where who which whom whose"))
NUMBER_WORDS = frozenset(
    split_words("one two three four five six seven eight nine ten hundred thousand million first second")
)
TAUS = (0.5, 0.65, 0.8)  # alignment below these counts as unaligned (soft and hard views)

_SIDE = (
    "wmean_align",
    "min_align",
    "gap_mass",
    *(f"unaligned_mass_{t}" for t in TAUS),
    "unaligned_count_0.65",
    "worst_weighted_gap",
    "unaligned_wh",
    "unaligned_number",
    "tokens",
)
READER_FEATURES: tuple[str, ...] = (
    *(f"{agg}_{name}" for agg in ("min", "max") for name in _SIDE),
    *(f"query_minus_cached_{name}" for name in _SIDE[:4]),
    "verifier_logit",
    "cosine",
)


@dataclass(frozen=True, slots=True)
class TokenTable:
    """Per WordPiece id: IDF weight (0 for punctuation), and whether it is a question word or a number."""

    idf: npt.NDArray[np.float64]
    wh: npt.NDArray[np.bool_]
    number: npt.NDArray[np.bool_]
    content: npt.NDArray[np.bool_]

    @staticmethod
    def build(idf: npt.NDArray[np.float64]) -> TokenTable:
        words = vocabulary()
        if len(words) != len(idf):
            raise ConfigError(f"reader IDF table has {len(idf)} entries, the tokenizer {len(words)}")
        content = np.asarray([any(c.isalnum() for c in w) for w in words])
        wh = np.asarray([w in WH_WORDS for w in words])
        number = np.asarray([w.strip("#").isdigit() or w in NUMBER_WORDS for w in words])
        return TokenTable(np.where(content, idf, 0.0), wh, number, content)


def _side(align: npt.NDArray[np.float32], ids: npt.NDArray[np.int64], table: TokenTable) -> list[float]:
    """One side's alignment summary (order as ``_SIDE``); punctuation is left out."""
    keep = table.content[ids]
    if not keep.any():
        return [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    al, tok = align[keep].astype(np.float64), ids[keep]
    w = table.idf[tok]
    total = float(w.sum()) or 1.0
    gap = 1.0 - al
    loose = al < 0.65
    return [
        float((w * al).sum()) / total,
        float(al.min()),
        float((w * gap).sum()),
        *(float(w[al < t].sum()) for t in TAUS),
        float(loose.sum()),
        float((w * gap).max()),
        float((loose & table.wh[tok]).sum()),
        float((loose & table.number[tok]).sum()),
        float(len(tok)),
    ]


def reader_features(
    cached: TokenVectors, query: TokenVectors, table: TokenTable, verifier_score: float, cosine: float
) -> list[float]:
    """The feature row (order as ``READER_FEATURES``) for a cached question and a query."""
    if len(cached.ids) == 0 or len(query.ids) == 0:
        sim = np.zeros((max(len(cached.ids), 1), max(len(query.ids), 1)), dtype=np.float32)
    else:
        sim = cached.vectors @ query.vectors.T
    a = _side(sim.max(axis=1)[: len(cached.ids)], cached.ids, table)
    b = _side(sim.max(axis=0)[: len(query.ids)], query.ids, table)
    p = min(max(verifier_score, 1e-6), 1 - 1e-6)
    return [
        *(min(x, y) for x, y in zip(a, b, strict=True)),
        *(max(x, y) for x, y in zip(a, b, strict=True)),
        *(y - x for x, y in zip(a[:4], b[:4], strict=True)),
        math.log(p / (1 - p)),
        cosine,
    ]


@runtime_checkable
class TokenEncoder(Protocol):
    def token_vectors(self, texts: Sequence[str]) -> list[TokenVectors]: ...


class PairReader:
    """``score(cached, query, verifier_score, cosine)``: the chance one answer serves both."""

    def __init__(self, encoder: TokenEncoder, path: Path | None = None, *, memo: int = 2048) -> None:
        source = path or READER_FILE
        try:
            with np.load(source, allow_pickle=False) as z:
                self._mean = z["mean"].astype(np.float64)
                self._scale = z["scale"].astype(np.float64)
                self._coef = z["coef"].astype(np.float64)
                self._intercept = float(z["intercept"])
                self.band_low = float(z["band_low"])
                self.band_high = float(z["band_high"])
                idf = z["idf"].astype(np.float64)
                names = tuple(str(n) for n in z["feature_names"])
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"cannot load the cache reader from {source}: {exc}") from exc
        if names != READER_FEATURES:
            raise ConfigError(f"{source} was trained on other features; rebuild it with bench/train_cache_reader.py")
        self.table = TokenTable.build(idf)
        self.encoder = encoder
        self._memo: OrderedDict[str, TokenVectors] = OrderedDict()
        self._memo_size = memo
        self._lock = threading.Lock()

    def in_band(self, verifier_score: float) -> bool:
        return self.band_low <= verifier_score < self.band_high

    def tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Token vectors per text; recent texts (a query tried against several candidates,
        a popular stored question) come from a small LRU instead of a second model pass."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        # One text per pass: the int8 model quantizes activations per batch, so a text's vectors
        # would otherwise shift (by ~1e-2 in the score) with whatever shares its batch.
        fresh = {text: self.encoder.token_vectors([text])[0] for text in missing}
        with self._lock:
            for text, tv in fresh.items():
                self._memo[text] = tv
            out = []
            for text in texts:
                tv = fresh.get(text) or self._memo[text]
                self._memo.move_to_end(text)
                out.append(tv)
            while len(self._memo) > self._memo_size:
                self._memo.popitem(last=False)
        return out

    def probability(self, rows: npt.NDArray[np.float64] | list[list[float]]) -> npt.NDArray[np.float64]:
        """The logistic model on feature rows (n, len(READER_FEATURES))."""
        x = (np.atleast_2d(np.asarray(rows, dtype=np.float64)) - self._mean) / self._scale
        z = x @ self._coef + self._intercept
        out: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-z))
        return out

    def score(self, cached: str, query: str, verifier_score: float, cosine: float) -> float:
        a, b = self.tokens([cached, query])
        return float(self.probability([reader_features(a, b, self.table, verifier_score, cosine)])[0])
