"""The heavy, shared parts of the guards (Presidio analyzer, MiniLM embedder, classifiers),
each built lazily on first use and then kept for the life of the process. Create one
``GuardRuntime`` per process and pass it to every GuardStage and to the CLI."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from portico.guards.classifier import CONTENT_MODEL, INJECTION_MODEL, FloatArray, LinearTextClassifier
from portico.pipeline import RequestContext

if TYPE_CHECKING:
    from portico.embeddings import MiniLMEmbedder
    from portico.guards.settings import PiiNer

_EMBED_STATE = "guards.embeddings"
_COUNTS_STATE = "guards.char_counts"


def guard_embedder() -> MiniLMEmbedder:
    """The embedder the guard classifiers are trained and served with: the gateway's
    int8-matmul copy of MiniLM (the classifiers see a head+tail view of long texts, see
    ``classifier.head_tail``, so it runs on at most ~150 tokens)."""
    from portico.embeddings import MiniLMEmbedder

    return MiniLMEmbedder(quantized=True)


class GuardRuntime:
    """Lazily built guard models. ``embedder`` defaults to :func:`guard_embedder`."""

    def __init__(
        self, embedder: MiniLMEmbedder | None = None, ner: PiiNer = "tagger", *, fast_pii: bool = True
    ) -> None:
        self._embedder = embedder
        self.ner = ner
        # False: Presidio's own AnalyzerEngine.analyze, the baseline FastAnalyzer is tested
        # and benchmarked against (same recognizers, same answers, several times slower).
        self.fast_pii = fast_pii
        self._analyzer: Any = None
        self._injection: LinearTextClassifier | None = None
        self._content: LinearTextClassifier | None = None
        self._lock = threading.Lock()

    @property
    def analyzer(self) -> Any:
        if self._analyzer is None:
            with self._lock:
                if self._analyzer is None:
                    from portico.guards.fast_analyzer import FastAnalyzer
                    from portico.guards.presidio_engine import build_analyzer
                    from portico.guards.recognizers import build_recognizers, name_tagger_recognizer

                    # phonenumbers-based matching costs ~100 ms per 300 tokens; our phone
                    # recognizer scores the same on the PII benchmark.
                    drop = ["PhoneRecognizer"]
                    if self.ner == "tagger":
                        # The tagger finds names, places and addresses; spaCy only tokenizes.
                        recognizers = [*build_recognizers(names=False), name_tagger_recognizer()]
                        drop.append("SpacyRecognizer")
                    else:
                        recognizers = build_recognizers()
                    engine = build_analyzer(recognizers, drop=drop, ner=self.ner == "spacy")
                    self._analyzer = FastAnalyzer(engine) if self.fast_pii else engine
        return self._analyzer

    @property
    def embedder(self) -> MiniLMEmbedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = guard_embedder()
        return self._embedder

    @property
    def injection_model(self) -> LinearTextClassifier:
        if self._injection is None:
            self._injection = LinearTextClassifier(INJECTION_MODEL)
        return self._injection

    @property
    def content_model(self) -> LinearTextClassifier:
        if self._content is None:
            self._content = LinearTextClassifier(CONTENT_MODEL)
        return self._content

    def warm_up(self, *, pii: bool = True, classifiers: bool = True) -> None:
        """Build everything now (at start-up) instead of on the first request."""
        if pii:
            from portico.guards.pii import DEFAULT_ENTITIES

            self.analyzer.analyze("warm up John Smith", language="en")
            # FastAnalyzer plans (compiles) per entity set: the default set, now.
            self.analyzer.analyze("warm up John Smith", language="en", entities=list(DEFAULT_ENTITIES))
        if classifiers:
            self.embedder.embed(["warm up"])
            _ = self.injection_model, self.content_model

    def embed(self, text: str, ctx: RequestContext | None = None) -> FloatArray:
        """One embedding per distinct text per request: injection and content share it."""
        memo: dict[str, FloatArray] = ctx.state.setdefault(_EMBED_STATE, {}) if ctx is not None else {}
        vec = memo.get(text)
        if vec is None:
            vec = self.embedder.embed([text])
            memo[text] = vec
        return np.asarray(vec, dtype=np.float32)

    def classify(self, model: LinearTextClassifier, text: str, ctx: RequestContext | None = None) -> FloatArray:
        """``model``'s probabilities for ``text``: the hashed n-gram counts are computed once
        per text and n-gram setup per request, the embedding only if the screen asks for it."""
        memo: dict[tuple[str, int, tuple[int, int]], Any] = (
            ctx.state.setdefault(_COUNTS_STATE, {}) if ctx is not None else {}
        )
        key = (text, model.n_features, model.ngram)
        counts = memo.get(key)
        if counts is None:
            counts = memo[key] = model.counts([text])
        return model.score_one(text, lambda view: self.embed(view, ctx), counts)
