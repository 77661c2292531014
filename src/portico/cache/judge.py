"""The one decision whether a cached question may answer a new one (gateway, CLI and bench)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from portico.cache.features import pair_features, vector_interactions
from portico.cache.reader import PairReader
from portico.cache.settings import SemanticSettings
from portico.cache.signals import Signals
from portico.cache.verifier import PairVerifier
from portico.cache.vetoes import first_veto


@dataclass(frozen=True, slots=True)
class Decision:
    """``veto`` names what refused a candidate above the similarity floor (or "scope")."""

    hit: bool
    similarity: float
    veto: str | None = None
    score: float | None = None


class SemanticJudge:
    """Similarity floor, then the mismatch vetoes, then the verifier (or a plain threshold);
    in the verifier's uncertain band, the pair reader's score replaces the verifier's."""

    def __init__(
        self, settings: SemanticSettings, verifier: PairVerifier | None = None, reader: PairReader | None = None
    ) -> None:
        if settings.verifier and verifier is None:
            verifier = PairVerifier()
        self.settings = settings
        self._verifier = verifier if settings.verifier else None
        self.reader = reader if settings.verifier and settings.reader else None

    def decide(
        self,
        query: str,
        cached: str,
        query_vec: npt.NDArray[np.float32],
        cached_vec: npt.NDArray[np.float32],
        *,
        verifier_threshold: float | None = None,
    ) -> Decision:
        similarity = float(np.dot(query_vec, cached_vec))
        s = self.settings
        if similarity < s.min_similarity:
            return Decision(False, similarity)
        a, b = Signals(cached), Signals(query)
        veto = first_veto(a, b, s.vetoes)
        if veto is not None:
            return Decision(False, similarity, veto)
        if a.tokens == b.tokens:  # same words in the same order: only case or punctuation differ
            return Decision(True, similarity, None, 1.0)
        if self._verifier is None:
            return Decision(similarity >= s.threshold, similarity)
        row = pair_features(a, b, similarity, self._verifier.rarity)
        score = float(self._verifier.probability([row], vector_interactions(cached_vec, query_vec))[0])
        if self.reader is not None and self.reader.in_band(score):
            score = self.reader.score(cached, query, score, similarity)
        limit = s.verifier_threshold if verifier_threshold is None else verifier_threshold
        if score < limit:
            return Decision(False, similarity, "verifier", score)
        return Decision(True, similarity, None, score)
