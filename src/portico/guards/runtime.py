"""The heavy, shared parts of the guards (Presidio analyzer, classifiers), each built lazily
on first use and then kept for the life of the process. Create one ``GuardRuntime`` per
process and pass it to every GuardStage and to the CLI."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from portico.guards.classifier import CONTENT_MODEL, INJECTION_MODEL, FloatArray, LinearTextClassifier
from portico.guards.tokens import token_ids
from portico.pipeline import RequestContext

if TYPE_CHECKING:
    from portico.guards.settings import PiiNer

_FEATURES_STATE = "guards.text_features"


class GuardRuntime:
    """Lazily built guard models."""

    def __init__(self, ner: PiiNer = "tagger", *, fast_pii: bool = True) -> None:
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
            self.classify(self.injection_model, "warm up")
            self.classify(self.content_model, "warm up")

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
