"""Presidio's ``AnalyzerEngine.analyze`` for the gateway's recognizers, minus the work that
cannot change its answer, at a fraction of the cost (see docs/safety.md for figures).

What it skips, and why the answer stays the same:

* **Patterns that cannot match.** Each known pattern has a *trigger*, a regex that every
  match of the pattern contains (a digit for numbers, ``@`` for e-mail, ``.x`` for a URL's
  top-level domain); no trigger in the text, no regex pass. Patterns whose matches hold no
  whitespace and whose look-arounds see whitespace as they see the text's edge run only on
  the whitespace-delimited chunks that hold a trigger, and the non-schema URL pattern (a
  675-way alternation tried at every character: a ninth of the whole old cost on its own)
  is tried once per run of host characters instead of once per character.
* **The spaCy pass.** No recognizer we ship reads the NLP artifacts; only context scoring
  does (words like "phone" before a number), so the text is tokenized (tokenizer only)
  when a result that a context word could still raise exists, and a context word that
  occurs nowhere in the lower-cased text is not looked for.
* **Bookkeeping.** No per-match explanation objects, no timing and debug-log calls per
  pattern, no deep copy of every result before context scoring, keyword look-ups in a set
  instead of a list.

Each trigger is pinned to a fingerprint of the pattern it was written for: a pattern that
changes (a Presidio upgrade, an edit in recognizers.py) runs unfiltered until someone
re-checks it. ``tests/guards/test_fast_analyzer.py`` compares the two engines entity for
entity on generated and benchmark texts, and each trigger against its pattern."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import regex

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult

# ASCII whitespace: what separates the chunks a whitespace-free pattern may run on.
_WS = r" \t\n\r\f\v"
# \d, not [0-9]: several patterns use \d, which also matches non-ASCII digits.
_DIGIT = r"\d"


@dataclass(frozen=True, slots=True)
class Prefilter:
    """``trigger``: a regex every match of the pattern contains (run with the pattern's own
    flags). ``chunked``: no match holds whitespace and every look-around or ``\\b`` sees a
    whitespace neighbour as it sees the text's edge, so the pattern may run on each
    whitespace-delimited chunk that holds a trigger instead of on the whole text."""

    fingerprint: str
    trigger: str | None  # None: ``words`` alone (a chunked pattern needs a trigger)
    chunked: bool = False
    # ``runs``: a character class such that every match starts inside a maximal run of it,
    # and a try at some position of a run can only succeed if the try at the run's first
    # position does (or at an ``also_at`` match inside the run), as long as the rest of
    # the run is at most ``run_limit`` long: then one try per run replaces one per character.
    runs: str | None = None
    also_at: str | None = None
    run_limit: int = 0
    # ``words``: besides the trigger, one of these must occur in the case-folded text (for
    # case-blind patterns; :func:`fold_case` maps whatever IGNORECASE reads as an ASCII
    # letter to that letter, so a miss is a proof). A substring test beats a case-blind
    # regex alternation.
    words: tuple[str, ...] = ()


def fingerprint(*regexes: str) -> str:
    return hashlib.sha1("\x00".join(regexes).encode()).hexdigest()[:12]


# (recognizer name, pattern name) -> prefilter; the fingerprint is of the pattern's regex.
PATTERN_PREFILTERS: dict[tuple[str, str], Prefilter] = {
    # Presidio 2.2's URL patterns: all end in "[.](?:com|edu|...)", a dot and a letter.
    ("UrlRecognizer", "Standard Url"): Prefilter("f3459cbada40", r"://"),
    # "(www\d{0,3}[.])?[a-z0-9.\-]{1,253}[.](?:com|...)(?:/path)?": a host made of [a-z0-9.\-]
    # needs a dot and a domain after its start, so if the first position of a run of those
    # characters cannot start one, no later position can either (it sees a subset of the
    # same dots) - except via "www" plus a non-ASCII digit, which is tried separately.
    # Trying every position cost a 675-way alternation at each dot, for each start.
    ("UrlRecognizer", "Non schema URL"): Prefilter(
        "4cf9af87ad1d", r"\.\w", chunked=True, runs=r"[a-z0-9.\-]", also_at="www", run_limit=253
    ),
    ("UrlRecognizer", "Quoted URL"): Prefilter("7f56056d65ef", r"://"),
    ("UrlRecognizer", "Quoted Non-schema URL"): Prefilter("25e52fbb743c", r"[\"']"),
    ("OfflineEmailRecognizer", "Email (Medium)"): Prefilter("e9f9a4a873e6", r"@", chunked=True),
    ("UsLicenseRecognizer", "Driver License - Alphanumeric (weak)"): Prefilter("c29917b9b7a2", _DIGIT, chunked=True),
    ("UsLicenseRecognizer", "Driver License - Digits (very weak)"): Prefilter(
        "c968b76c1ba4", r"[0-9]{6}", chunked=True
    ),
    ("UsPassportRecognizer", "Passport (very weak)"): Prefilter("7f8635d74f57", r"[0-9]{8}", chunked=True),
    ("UsPassportRecognizer", "Passport Next Generation (very weak)"): Prefilter(
        "e04e1c73e368", r"[0-9]{8}", chunked=True
    ),
    ("UsSsnRecognizer", "SSN1 (very weak)"): Prefilter("533cab553d9b", r"[0-9]-[0-9]"),
    ("UsSsnRecognizer", "SSN2 (very weak)"): Prefilter("4fcaff7f88fb", r"[0-9]-[0-9]"),
    ("UsSsnRecognizer", "SSN3 (very weak)"): Prefilter("8543845280d7", r"[0-9]-[0-9]"),
    ("UsSsnRecognizer", "SSN4 (very weak)"): Prefilter("b92a6a37f4d6", r"[0-9]{8}", chunked=True),
    ("UsSsnRecognizer", "SSN5 (medium)"): Prefilter("3db38ffa3afa", r"[0-9][- .][0-9]"),
    ("IpRecognizer", "IPv4_mapped"): Prefilter("71d9883632f0", r"::", chunked=True),
    ("IpRecognizer", "IPv4_embedded"): Prefilter("6a064a967305", r":", chunked=True),
    ("IpRecognizer", "IPv4"): Prefilter("197209a0db48", r"[0-9]\.[0-9]"),
    ("IpRecognizer", "IPv6"): Prefilter("f1bdaf5ec4e9", r":", chunked=True),
    ("IpRecognizer", "IPv6_unspecified"): Prefilter("7f591c2ced37", r"::"),
    ("CreditCardRecognizer", "All Credit Cards (weak)"): Prefilter("5cf87a4b3c22", r"\d{4}"),
    # recognizers.py
    ("LuhnCardRecognizer", "card"): Prefilter("61e85bbebd90", _DIGIT),
    ("LuhnCardRecognizer", "card12"): Prefilter("64ca4fea8cd8", r"\d{12}", chunked=True),
    ("IbanChecksumRecognizer", "iban"): Prefilter("23442ced59b4", r"\d\d"),
    ("PhoneShapeRecognizer", "phone"): Prefilter("b67ccf2f3378", r"\d\d"),
    ("PhoneShapeRecognizer", "labelled_phone"): Prefilter(
        "41a10682783f",
        _DIGIT,
        words=("phone", "tel", "mobile", "cell", "fax", "desk", "registered", "call me at", "text me at"),
    ),
    # Secrets (case-blind): their fixed prefixes, as words in the case-folded text.
    ("SecretRecognizer", "openai_key"): Prefilter("3a1783da5f2d", None, words=("sk-",)),
    ("SecretRecognizer", "aws_access_key"): Prefilter("cf6a67bec9c3", None, words=("akia", "asia")),
    ("SecretRecognizer", "github_token"): Prefilter("4548d540615c", None, words=tuple(f"gh{c}_" for c in "pousr")),
    ("SecretRecognizer", "slack_token"): Prefilter("f7554d3de541", None, words=tuple(f"xox{c}-" for c in "abprs")),
    ("SecretRecognizer", "google_api_key"): Prefilter("141d7f101742", None, words=("aiza",)),
    ("SecretRecognizer", "stripe_key"): Prefilter("3138053f44cd", None, words=("_live_", "_test_")),
    ("SecretRecognizer", "jwt"): Prefilter("88f0f93c241b", None, words=("eyj",)),
    ("SecretRecognizer", "private_key"): Prefilter("93f239f6d1d3", None, words=("private key",)),
    # The look-behind is one of these words, then ":" or "=".
    ("SecretRecognizer", "assigned_secret"): Prefilter(
        "6b06e1d95b40", r"[:=]", words=("key", "secret", "token", "password", "passwd", "pwd")
    ),
}
# Whole recognizers with their own ``analyze`` (name -> prefilter over all their regexes).
RECOGNIZER_PREFILTERS: dict[str, Prefilter] = {
    "IbanRecognizer": Prefilter("c381735739de", r"[A-Z]{2}[0-9]{2}"),
}


@dataclass(frozen=True, slots=True)
class _PatternPlan:
    name: str
    compiled: Any
    score: float
    trigger: Any  # compiled trigger, or None: always run
    chunked: bool  # run on the chunks around the trigger's matches only
    runs: Any = None  # compiled ``[class]+`` (see Prefilter.runs), or None
    also_at: Any = None
    run_limit: int = 0
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _RecognizerPlan:
    recognizer: Any
    patterns: list[_PatternPlan] | None  # None: call the recognizer's own analyze
    gate: Any  # compiled trigger for the whole recognizer, or None
    reads_artifacts: bool
    own_context_step: bool  # overrides enhance_using_context


def fold_case(text: str) -> str:
    """``text`` folded so that whatever a case-blind ``regex`` pattern reads as an ASCII
    letter is that letter: ``str.casefold`` does so for every code point (checked over all
    of Unicode) except U+0130 (dotted capital I), which it turns into "i" + U+0307."""
    return text.casefold().replace("i\u0307", "i")


_CHUNK_AFTER = regex.compile(rf"[^{_WS}]*")
_CHUNK_BEFORE = regex.compile(rf"[^{_WS}]*", regex.REVERSE)


def chunks_around(trigger: Any, text: str) -> list[tuple[int, int]]:
    """The whitespace-delimited chunks of ``text`` that hold a match of ``trigger`` (a
    compiled regex that matches no whitespace), in order, each once."""
    out: list[tuple[int, int]] = []
    pos = 0
    while (m := trigger.search(text, pos)) is not None:
        start = _CHUNK_BEFORE.match(text, 0, m.start()).start()
        pos = _CHUNK_AFTER.match(text, m.start()).end()
        out.append((start, pos))
    return out


class FastAnalyzer:
    """``analyze`` answers as ``engine.analyze`` does for a plain call (text, language,
    entities); any other argument goes to the engine itself."""

    def __init__(self, engine: AnalyzerEngine) -> None:
        self.engine = engine
        self._plans: dict[tuple[str, tuple[str, ...] | None], tuple[list[_RecognizerPlan], list[str]]] = {}
        self._keyword: dict[str, bool] = {}  # lemma -> not a stop word / punctuation
        self._triggers: dict[tuple[str, int], Any] = {}  # one compiled trigger per (regex, flags)
        # Coverage: which patterns run filtered; for tests and the benchmark's notes.
        self.filtered: set[tuple[str, str]] = set()
        self.unfiltered: set[tuple[str, str]] = set()

    def analyze(
        self, text: str, language: str, entities: Sequence[str] | None = None, **kwargs: Any
    ) -> list[RecognizerResult]:
        if kwargs:
            return list(self.engine.analyze(text, language, entities=list(entities) if entities else None, **kwargs))
        plans, wanted = self._plan(language, entities)
        from presidio_analyzer import RecognizerResult

        id_key, name_key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, RecognizerResult.RECOGNIZER_NAME_KEY
        artifacts: Any = None
        if any(p.reads_artifacts for p in plans):
            artifacts = self.engine.nlp_engine.process_text(text, language)
        searched: dict[Any, bool] = {}
        chunked: dict[Any, list[tuple[int, int]]] = {}
        folded: list[str] = []

        def present(trigger: Any) -> bool:
            found = searched.get(trigger)
            if found is None:
                found = searched[trigger] = trigger.search(text) is not None
            return found

        def has_word(words: tuple[str, ...]) -> bool:
            if not folded:
                folded.append(fold_case(text))
            return any(w in folded[0] for w in words)

        results: list[Any] = []
        for plan in plans:
            rec = plan.recognizer
            if plan.gate is not None and not present(plan.gate):
                continue
            if plan.patterns is None:
                found = rec.analyze(text=text, entities=wanted, nlp_artifacts=artifacts)
            else:
                found = _run_patterns(rec, plan.patterns, text, present, has_word, chunked, RecognizerResult)
            for r in found or ():
                meta = r.recognition_metadata
                if not meta:
                    meta = r.recognition_metadata = {}
                meta.setdefault(id_key, rec.id)
                meta.setdefault(name_key, rec.name)
            if found:
                results.extend(found)
        results = self._context(text, language, results, plans, artifacts)
        return self._finish(results, plans)

    def _plan(self, language: str, entities: Sequence[str] | None) -> tuple[list[_RecognizerPlan], list[str]]:
        key = (language, tuple(entities) if entities else None)
        cached = self._plans.get(key)
        if cached is None:
            all_fields = not entities
            recognizers = self.engine.registry.get_recognizers(
                language=language, entities=list(entities) if entities else None, all_fields=all_fields
            )
            wanted = self.engine.get_supported_entities(language=language) if all_fields else list(entities or ())
            for rec in recognizers:
                if not rec.is_loaded:
                    rec.load()
                    rec.is_loaded = True
            cached = self._plans[key] = ([self._plan_recognizer(r) for r in recognizers], wanted)
        return cached

    def _plan_recognizer(self, rec: Any) -> _RecognizerPlan:
        from presidio_analyzer import EntityRecognizer, PatternRecognizer

        own_context = type(rec).enhance_using_context is not EntityRecognizer.enhance_using_context
        text_only = getattr(rec, "reads_nlp_artifacts", True) is False
        is_pattern = isinstance(rec, PatternRecognizer)  # a bool: narrowing would type Presidio's untyped attributes
        if is_pattern:
            text_only = True  # every PatternRecognizer we load matches regexes on the text
            if type(rec).analyze is PatternRecognizer.analyze:
                flags = int(rec.global_regex_flags or 0)
                patterns = []
                for p in rec.patterns:
                    pre = PATTERN_PREFILTERS.get((rec.name, p.name))
                    usable = pre is not None and pre.fingerprint == fingerprint(p.regex)
                    (self.filtered if usable else self.unfiltered).add((rec.name, p.name))
                    trigger = self._trigger(pre.trigger, flags) if pre is not None and usable and pre.trigger else None
                    chunked = pre is not None and usable and pre.chunked
                    plan = _PatternPlan(p.name, regex.compile(p.regex, flags), p.score, trigger, chunked)
                    if pre is not None and usable and (pre.runs is not None or pre.words):
                        plan = _PatternPlan(
                            p.name,
                            plan.compiled,
                            p.score,
                            trigger,
                            chunked,
                            regex.compile(pre.runs + "+", flags) if pre.runs else None,
                            regex.compile(pre.also_at, flags) if pre.also_at else None,
                            pre.run_limit,
                            pre.words,
                        )
                    patterns.append(plan)
                return _RecognizerPlan(rec, patterns, None, False, own_context)
            pre = RECOGNIZER_PREFILTERS.get(rec.name)
            usable = pre is not None and pre.fingerprint == fingerprint(*(p.regex for p in rec.patterns))
            (self.filtered if usable else self.unfiltered).add((rec.name, "*"))
            gate = (
                self._trigger(pre.trigger, int(rec.global_regex_flags or 0))
                if pre is not None and usable and pre.trigger
                else None
            )
            return _RecognizerPlan(rec, None, gate, False, own_context)
        return _RecognizerPlan(rec, None, None, not text_only, own_context)

    def _trigger(self, pattern: str, flags: int) -> Any:
        # Shared, so that a text is searched once per trigger, not once per pattern.
        key = (pattern, flags)
        if key not in self._triggers:
            self._triggers[key] = regex.compile(pattern, flags)
        return self._triggers[key]

    def _context(
        self, text: str, language: str, results: list[Any], plans: list[_RecognizerPlan], artifacts: Any
    ) -> list[Any]:
        """Presidio's two context steps: a recognizer's own ``enhance_using_context`` (only
        where a recognizer overrides it), then the lemma enhancer for results whose
        recognizer has context words."""
        from presidio_analyzer import RecognizerResult

        id_key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        if any(p.own_context_step for p in plans):
            if artifacts is None:
                artifacts = self.engine.nlp_engine.process_text(text, language)
            staged: list[Any] = []
            for plan in plans:
                rid = plan.recognizer.id
                mine = [r for r in results if r.recognition_metadata[id_key] == rid]
                if plan.own_context_step:
                    others = [r for r in results if r.recognition_metadata[id_key] != rid]
                    mine = plan.recognizer.enhance_using_context(
                        text=text,
                        raw_recognizer_results=mine,
                        other_raw_recognizer_results=others,
                        nlp_artifacts=artifacts,
                        context=None,
                    )
                staged.extend(mine)
            results = staged
        by_id = {p.recognizer.id: p.recognizer for p in plans}
        enhancer: Any = self.engine.context_aware_enhancer
        boosted_key = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY
        ceiling = type(enhancer).MAX_SCORE
        nlp = self.engine.nlp_engine
        # With lower-cased tokens as lemmas (LowercaseLemmaEngine), a context word can only
        # be found if it occurs in the lower-cased text: no occurrence, no boost to look for.
        lowered = text.lower() if hasattr(nlp, "context_tokens") else None
        cued: dict[str, bool] = {}

        def may_boost(rec: Any) -> bool:
            if lowered is None:
                return True
            if rec.id not in cued:
                cued[rec.id] = any(c.lower() in lowered for c in rec.context)
            return cued[rec.id]

        todo = [
            r
            for r in results
            if (rec := by_id.get(r.recognition_metadata.get(id_key))) is not None
            and rec.context
            and not r.recognition_metadata.get(boosted_key)
            and r.score < ceiling  # a boost cannot move a score already at the ceiling
            and may_boost(rec)
        ]
        if not todo:
            return results
        if artifacts is not None:
            tokens, starts, lemmas = artifacts.tokens, artifacts.tokens_indices, artifacts.lemmas
        elif hasattr(nlp, "context_tokens"):
            tokens, starts, lemmas = nlp.context_tokens(text, language)
        else:
            artifacts = nlp.process_text(text, language)
            tokens, starts, lemmas = artifacts.tokens, artifacts.tokens_indices, artifacts.lemmas
        keywords = self._keywords(lemmas, language)
        prefix, suffix = enhancer.context_prefix_count, enhancer.context_suffix_count
        whole_word = enhancer.context_matching_mode == "whole_word"
        factor, floor = enhancer.context_similarity_factor, enhancer.min_score_with_context_similarity
        around: dict[int, list[str]] = {}  # token index -> the words the enhancer sees there
        for r in todo:
            rec = by_id[r.recognition_metadata[id_key]]
            if not tokens:
                words = [""]
            else:
                i = enhancer._find_index_of_match_token(text[r.start : r.end], r.start, tokens, starts)
                if i not in around:
                    back = _keywords_from(i, prefix + 1, -1, lemmas, keywords)
                    around[i] = [w.lower() for w in {*back, *_keywords_from(i, suffix + 1, 1, lemmas, keywords)}]
                words = around[i]
            cues = [c.lower() for c in rec.context]
            if any((c == w) if whole_word else (c in w) for c in cues for w in words):
                r.score = min(max(r.score + factor, floor), ceiling)
        return results

    def _keywords(self, lemmas: Sequence[str], language: str) -> frozenset[str]:
        """``NlpArtifacts.keywords`` as a set (the enhancer only tests membership), with the
        stop-word and punctuation test cached per lemma."""
        nlp = self.engine.nlp_engine
        cache = self._keyword
        out: set[str] = set()
        for lemma in set(lemmas):
            keep = cache.get(lemma)
            if keep is None:
                if len(cache) > 100_000:
                    cache.clear()
                keep = cache[lemma] = not (
                    nlp.is_stopword(lemma, language) or nlp.is_punct(lemma, language) or lemma in ("-PRON-", "be")
                )
            if keep:
                out.update(lemma.lower().split(":"))
        return frozenset(out)

    def _finish(self, results: list[Any], plans: list[_RecognizerPlan]) -> list[Any]:
        """Presidio's closing steps: per-recognizer score thresholds, then de-duplication."""
        from presidio_analyzer import EntityRecognizer, RecognizerResult

        id_key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        default = self.engine.default_score_threshold
        thresholds = {p.recognizer.id: getattr(p.recognizer, "score_thresholds", None) or {} for p in plans}

        def threshold(r: Any) -> float:
            own = thresholds.get((r.recognition_metadata or {}).get(id_key))
            if own is None:
                return float(default)
            value = own.get(r.entity_type)
            if value is None:
                value = own.get("default")
            return float(default if value is None else value)

        kept = [r for r in results if r.score >= threshold(r)]
        out: list[Any] = EntityRecognizer.remove_duplicates(kept)
        for r in out:
            r.analysis_explanation = None
        return list(out)


def _keywords_from(index: int, count: int, step: int, lemmas: Sequence[str], keywords: frozenset[str]) -> list[str]:
    """``LemmaContextAwareEnhancer._add_n_words``: up to ``count`` keyword lemmas from
    ``index`` on, walking by ``step``."""
    out: list[str] = []
    i = index
    while 0 <= i < len(lemmas) and count > 0:
        lemma = lemmas[i].lower()
        if lemma in keywords:
            out.append(lemma)
            count -= 1
        i += step
    return out


def _run_patterns(
    rec: Any,
    patterns: list[_PatternPlan],
    text: str,
    present: Callable[[Any], bool],
    has_word: Callable[[tuple[str, ...]], bool],
    chunked: dict[Any, list[tuple[int, int]]],
    result_class: Any,
) -> list[Any]:
    """``PatternRecognizer.__analyze_patterns`` with the prefilters: same matches, same
    validation and scores, no explanation objects."""
    from presidio_analyzer import EntityRecognizer

    entity = rec.supported_entities[0]
    meta_name, meta_id = result_class.RECOGNIZER_NAME_KEY, result_class.RECOGNIZER_IDENTIFIER_KEY
    results = []
    for p in patterns:
        if p.trigger is not None and not present(p.trigger):
            continue
        if p.words and not has_word(p.words):
            continue
        if not p.chunked:
            spans = [m.span() for m in p.compiled.finditer(text)]
        else:
            windows = chunked.get(p.trigger)
            if windows is None:
                windows = chunked[p.trigger] = chunks_around(p.trigger, text)
            if p.runs is None:
                spans = [(a + m.start(), a + m.end()) for a, b in windows for m in p.compiled.finditer(text[a:b])]
            else:
                spans = [(a + x, a + y) for a, b in windows for x, y in _one_try_per_run(p, text[a:b])]
        for start, end in spans:
            if start == end:
                continue
            value = text[start:end]
            score = p.score
            valid = rec.validate_result(value)
            if valid is not None:
                score = EntityRecognizer.MAX_SCORE if valid else EntityRecognizer.MIN_SCORE
            if rec.invalidate_result(value):
                score = EntityRecognizer.MIN_SCORE
            if score > EntityRecognizer.MIN_SCORE:
                results.append(result_class(entity, start, end, score, None, {meta_name: rec.name, meta_id: rec.id}))
    # One result (or none) is its own de-duplication: skip the set, sorts and grouping.
    return results if len(results) < 2 else list(EntityRecognizer.remove_duplicates(results))


def _one_try_per_run(p: _PatternPlan, piece: str) -> list[tuple[int, int]]:
    """``p.compiled.finditer(piece)`` spans, trying a match only where a run of ``p.runs``
    characters starts (or resumes after a match) and at ``p.also_at`` matches inside it."""
    out: list[tuple[int, int]] = []
    pos = 0
    for run in p.runs.finditer(piece):
        end = run.end()
        if end <= pos:
            continue
        if end - max(run.start(), pos) > p.run_limit:
            return [m.span() for m in p.compiled.finditer(piece)]  # the argument needs short runs
        tries = [max(run.start(), pos)]
        if p.also_at is not None:
            tries += [m.start() for m in p.also_at.finditer(piece, tries[0], end, overlapped=True)]
        for at in tries:
            if at < pos:
                continue
            while at < end and (m := p.compiled.match(piece, at)) is not None:
                out.append(m.span())
                at = pos = m.end()  # resume: the rest of the run is a run of its own
    return out
