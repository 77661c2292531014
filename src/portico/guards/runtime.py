"""The heavy, shared parts of the guards (Presidio analyzer, classifiers, the MiniLM
embedder of the injection and content cascades' second stages), each built lazily on first use and then
kept for the life of the process. Create one ``GuardRuntime`` per process and pass it to
every GuardStage and to the CLI.

In the gateway the MiniLM session is the gateway's own (``attach_embedder``, called by the
guards' and the moderation endpoint's wiring): one ONNX session per process instead of a
second copy (~0.3 s and tens of MB at start) for the guards. Standalone (``portico guard
scan``, benches) the runtime loads its own on first escalation."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from portico.guards.cascade import CascadeConfig, ContentCascadeConfig
from portico.guards.classifier import CONTENT_MODEL, INJECTION_MODEL, FloatArray, LinearTextClassifier
from portico.guards.embedding_classifier import (
    CONTENT_EMBEDDING_MODEL,
    INJECTION_EMBEDDING_MODEL,
    EmbeddingTextClassifier,
)
from portico.guards.tokens import token_ids
from portico.pipeline import RequestContext

if TYPE_CHECKING:
    from portico.embeddings import MiniLMEmbedder
    from portico.guards.settings import PiiNer

_FEATURES_STATE = "guards.text_features"
_EMBED_STATE = "guards.embeddings"
# Per request: texts whose injection score went through the second stage (observability, tests).
ESCALATED_STATE = "guards.escalated"
# Per request: texts whose content scores went through the content second stage.
CONTENT_ESCALATED_STATE = "guards.content_escalated"

Embed = Callable[[list[str]], npt.NDArray[np.float32]]
# The gateway's embedder, loaded on first await (``Gateway.embedder``).
EmbedderSource = Callable[[], Awaitable["MiniLMEmbedder"]]


class GuardRuntime:
    """Lazily built guard models."""

    def __init__(
        self, ner: PiiNer = "tagger", *, fast_pii: bool = True, embedder: MiniLMEmbedder | None = None
    ) -> None:
        self.ner = ner
        self._embedder = embedder
        # False: Presidio's own AnalyzerEngine.analyze, the baseline FastAnalyzer is tested
        # and benchmarked against (same recognizers, same answers, several times slower).
        self.fast_pii = fast_pii
        self._analyzer: Any = None
        self._injection: LinearTextClassifier | None = None
        self._content: LinearTextClassifier | None = None
        self._second: EmbeddingTextClassifier | None = None
        self._cascade: CascadeConfig | None = None
        self._content_second: EmbeddingTextClassifier | None = None
        self._content_cascade: ContentCascadeConfig | None = None
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
    def injection_model(self) -> LinearTextClassifier:
        if self._injection is None:
            self._injection = LinearTextClassifier(INJECTION_MODEL)
        return self._injection

    def attach_embedder(self, embedder: MiniLMEmbedder) -> MiniLMEmbedder:
        """Use ``embedder`` (the gateway's session) for the second stages, unless this runtime
        already has one: several gateways in one process (tests) may share a runtime, and any
        int8 MiniLM session gives the same vectors (bit for bit, whatever its thread count;
        tests/guards/test_shared_embedder.py). Returns the session in use."""
        with self._lock:
            if self._embedder is None:
                self._embedder = embedder
            return self._embedder

    @property
    def has_embedder(self) -> bool:
        """Whether a MiniLM session is loaded or attached (it is never loaded by this call)."""
        return self._embedder is not None

    @property
    def embedder(self) -> MiniLMEmbedder:
        """The int8 MiniLM the second stage was trained with: the attached one, else one of
        its own, loaded on first escalation."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    from portico.embeddings import MiniLMEmbedder

                    self._embedder = MiniLMEmbedder(quantized=True)
        return self._embedder

    @property
    def injection_second_stage(self) -> EmbeddingTextClassifier:
        if self._second is None:
            self._second = EmbeddingTextClassifier(INJECTION_EMBEDDING_MODEL)
        return self._second

    @property
    def injection_cascade(self) -> CascadeConfig:
        if self._cascade is None:
            self._cascade = CascadeConfig.load()
        return self._cascade

    @property
    def content_second_stage(self) -> EmbeddingTextClassifier:
        if self._content_second is None:
            self._content_second = EmbeddingTextClassifier(CONTENT_EMBEDDING_MODEL)
        return self._content_second

    @property
    def content_cascade(self) -> ContentCascadeConfig:
        if self._content_cascade is None:
            self._content_cascade = ContentCascadeConfig.load()
        return self._content_cascade

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
            self.classify(self.injection_model, "warm up")
            self.classify(self.content_model, "warm up")
            self.injection_cascade_scores(["warm up"], force=True)
            self.content_cascade_scores(["warm up"], force=True)

    def classify(self, model: LinearTextClassifier, text: str, ctx: RequestContext | None = None) -> FloatArray:
        """``model``'s probabilities for ``text``. The n-gram counts and token ids are
        computed once per text and n-gram setup per request: injection and content share them."""
        memo: dict[tuple[str, int, tuple[int, int]], tuple[Any, Any]] = (
            ctx.state.setdefault(_FEATURES_STATE, {}) if ctx is not None else {}
        )
        key = (text, model.n_features, model.ngram)
        features = memo.get(key)
        if features is None:
            features = memo[key] = (model.counts([text]), token_ids([text]))
        row: FloatArray = model.scores([text], *features)[0]
        return row

    def injection_score(self, text: str, ctx: RequestContext | None = None) -> float:
        """The injection cascade's score for ``text``: the fast model's, or, at or above the
        escalation cut, the rule's combination with the second stage (MiniLM). The n-gram
        counts and token ids come from the per-request memo shared with content; the
        embedding is memoised per request too."""
        row = self._cascade_one(
            self.injection_model,
            self.injection_cascade,
            lambda: self.injection_second_stage,
            ESCALATED_STATE,
            text,
            ctx,
        )
        return float(row[0])

    def _cascade_one(
        self,
        model: LinearTextClassifier,
        cascade: CascadeConfig | ContentCascadeConfig,
        second_stage: Callable[[], EmbeddingTextClassifier],
        escalated_state: str,
        text: str,
        ctx: RequestContext | None,
    ) -> FloatArray:
        """One text through a cascade: ``model``'s scores, or, when they reach the escalation
        cut, the rule's combination with the second stage (built on first escalation)."""
        fast = self.classify(model, text, ctx)
        if not cascade.escalates(fast[None, :])[0]:
            return fast
        second = second_stage()
        vec = self._embedding(second, text, ctx)
        if ctx is not None:
            ctx.state.setdefault(escalated_state, set()).add(text)
        return cascade.final(fast, second.scores([text], vec)[0])

    def _embedding(self, second: EmbeddingTextClassifier, text: str, ctx: RequestContext | None) -> FloatArray:
        """The MiniLM vector of ``second``'s view of ``text``, memoised per request by view:
        the injection and content second stages use the same 600-char view, so a request
        that escalated for one pays no second embedding for the other."""
        (view,) = second.views([text])
        memo: dict[str, FloatArray] = ctx.state.setdefault(_EMBED_STATE, {}) if ctx is not None else {}
        vec = memo.get(view)
        if vec is None:
            vec = memo[view] = np.asarray(self.embedder.embed([view]), dtype=np.float32)
        return vec

    def content_scores(self, text: str, ctx: RequestContext | None = None) -> FloatArray:
        """The content cascade's per-label scores: the fast model's, or, when any label's fast
        score reaches its escalation cut, the mean of fast and second stage (MiniLM) per label."""
        return self._cascade_one(
            self.content_model,
            self.content_cascade,
            lambda: self.content_second_stage,
            CONTENT_ESCALATED_STATE,
            text,
            ctx,
        )

    def content_cascade_scores(
        self, texts: Sequence[str], embed: Embed | None = None, *, force: bool = False
    ) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Batch form of :meth:`content_scores`: scores (one row per text) and which escalated."""
        return self._cascade_batch(
            self.content_model, self.content_cascade, lambda: self.content_second_stage, texts, embed, force
        )

    def injection_cascade_scores(
        self, texts: Sequence[str], embed: Embed | None = None, *, force: bool = False
    ) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Batch form of :meth:`injection_score` (benchmarks, /v1/moderations): scores and
        which texts escalated. ``embed`` (views -> vectors) replaces the runtime's embedder,
        e.g. with a disk cache; ``force`` escalates every text (warm-up)."""
        scores, escalated = self._cascade_batch(
            self.injection_model, self.injection_cascade, lambda: self.injection_second_stage, texts, embed, force
        )
        return scores[:, 0], escalated

    def _cascade_batch(
        self,
        model: LinearTextClassifier,
        cascade: CascadeConfig | ContentCascadeConfig,
        second_stage: Callable[[], EmbeddingTextClassifier],
        texts: Sequence[str],
        embed: Embed | None,
        force: bool,
    ) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        texts = list(texts)
        fast = model.scores(texts)
        escalated = np.ones(len(texts), dtype=bool) if force else cascade.escalates(fast)
        out = fast.copy()
        idx = np.flatnonzero(escalated)
        if len(idx):
            second = second_stage()
            chosen = [texts[i] for i in idx]
            vectors = (embed or self.embedder.embed)(second.views(chosen))
            out[idx] = cascade.final(fast[idx], second.scores(chosen, vectors))
        return out, escalated
