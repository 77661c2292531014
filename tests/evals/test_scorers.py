from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from portico.evals.dataset import Assertion, EvalCase
from portico.evals.scoring import ScorerImportError, ScorerSet, UnknownScorer
from portico.evals.scoring.judge import parse_verdict
from portico.evals.scoring.text import extract_choice, extract_number, normalise


def case(expected: Sequence[str] = (), asserts: Sequence[Assertion] = (), prompt: str = "q?") -> EvalCase:
    return EvalCase(
        id="c1",
        line=1,
        messages=({"role": "user", "content": prompt},),
        expected=tuple(expected),
        asserts=tuple(asserts),
    )


class BagOfWordsEmbedder:
    """A deterministic stand-in for MiniLM: unit vectors of word counts over a tiny vocabulary."""

    VOCAB = ("paris", "capital", "france", "city", "banana", "yellow", "fruit")

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        rows = []
        for t in texts:
            words = t.lower().replace(".", " ").split()
            v = np.array([words.count(w) for w in self.VOCAB], dtype=np.float32) + 1e-3
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows)


async def check(scorers: ScorerSet, output: str, c: EvalCase, default: str = "contains") -> bool:
    results = await scorers.check(output, c, scorers.default_assertion(default))
    return all(r.passed for r in results)


@pytest.fixture
def scorers() -> ScorerSet:
    return ScorerSet(make_embedder=BagOfWordsEmbedder)


async def test_exact_and_normalised(scorers: ScorerSet) -> None:
    c = case(["Paris"])
    assert await check(scorers, " Paris\n", c, "exact")
    assert not await check(scorers, "paris.", c, "exact")
    assert await check(scorers, "The paris.", c, "normalised_exact")
    assert await check(scorers, "PARIS!", c, "normalized_exact")  # alias
    assert not await check(scorers, "Paris, France", c, "normalised_exact")
    assert normalise("  The  Quick, brown fox! ") == "quick brown fox"


async def test_contains_respects_word_boundaries(scorers: ScorerSet) -> None:
    assert await check(scorers, "The answer is 4.", case(["4"]))
    assert not await check(scorers, "The answer is 14.", case(["4"]))
    assert await check(scorers, "It is NEW   delhi", case(["Berlin", "New Delhi"]))
    assert not await check(scorers, "Parisian food", case(["Paris"]))
    assert await check(scorers, "costs $5 (approx.)", case(["$5"]))


async def test_regex(scorers: ScorerSet) -> None:
    a = Assertion("regex", r"^\d{3}-\d{4}$")
    assert await check(scorers, "555-1234", case(asserts=[a]))
    assert not await check(scorers, "call 555-1234", case(asserts=[a]))
    results = await scorers.check("x", case(asserts=[Assertion("regex", "(")]), Assertion("contains"))
    assert not results[0].passed and "bad pattern" in results[0].reason


async def test_numeric_with_tolerance_and_gsm8k_style(scorers: ScorerSet) -> None:
    assert await check(scorers, "She makes 9 * 2 = $18 every day.", case(["18"]), "numeric")
    assert await check(scorers, "Steps...\n#### 1,250", case(["1250"]), "numeric")
    assert await check(scorers, "The answer is 3.\nCheck: 3 + 1 = 4", case(["3"]), "numeric")
    assert not await check(scorers, "I think 17", case(["18"]), "numeric")
    assert not await check(scorers, "no idea", case(["18"]), "numeric")
    tol = Assertion("numeric", "3.14", {"tolerance": 0.01})
    assert await check(scorers, "pi is about 3.1416", case(asserts=[tol]))
    rel = Assertion("numeric", "1000", {"rel_tolerance": 0.05})
    assert await check(scorers, "roughly 1040", case(asserts=[rel]))
    assert not await check(scorers, "roughly 1060", case(asserts=[rel]))
    assert extract_number("-2.5 degrees") == -2.5


async def test_choice_letter(scorers: ScorerSet) -> None:
    c = case(["B"])
    for reply in ("B", "(B)", "Answer: B", "The answer is B because...", "B. Paris"):
        assert await check(scorers, reply, c, "choice"), reply
    assert not await check(scorers, "Answer: C", c, "multiple_choice")
    assert not await check(scorers, "I am not sure", c, "choice")
    assert extract_choice("a) is wrong, the correct option is (D)") == "D"


async def test_json_valid_schema_and_match(scorers: ScorerSet) -> None:
    schema = {"type": "object", "required": ["age"], "properties": {"age": {"type": "integer"}}}
    fenced = 'Sure:\n```json\n{"name": "Ann", "age": 30}\n```'
    assert await check(scorers, fenced, case(asserts=[Assertion("json_valid")]))
    assert not await check(scorers, "{name: Ann}", case(asserts=[Assertion("is-json")]))
    assert await check(scorers, fenced, case(asserts=[Assertion("json_schema", schema)]))
    results = await scorers.check(
        '{"age": "thirty"}', case(asserts=[Assertion("json_schema", schema)]), Assertion("contains")
    )
    assert not results[0].passed and "age" in results[0].reason
    want = {"name": "ann", "age": 30}
    assert await check(scorers, fenced, case(asserts=[Assertion("json_match", want)]))
    assert not await check(scorers, '{"name": "Ann", "age": 31}', case(asserts=[Assertion("json_match", want)]))
    # json_match falls back to the row's expected answer (a JSON string)
    assert await check(scorers, '{"age": 30, "name": "Ann"}', case(['{"age": 30}'], [Assertion("json_match")]))


async def test_embedding_similarity_shares_one_embedder() -> None:
    made: list[BagOfWordsEmbedder] = []

    def make() -> BagOfWordsEmbedder:
        made.append(BagOfWordsEmbedder())
        return made[-1]

    scorers = ScorerSet(make_embedder=make)
    c = case(["Paris is the capital city of France"])
    assert await check(scorers, "The capital of France is Paris", c, "similarity")
    assert not await check(scorers, "Bananas are a yellow fruit", c, "similarity")
    strict = Assertion("similarity", None, {"threshold": 0.9999})
    assert not await check(scorers, "Paris, capital", case(["Paris is the capital city of France"], [strict]))
    assert len(made) == 1 and made[0].calls == 3


async def test_embedding_similarity_with_real_minilm() -> None:
    scorers = ScorerSet()
    c = case(["The capital of France is Paris."])
    assert await check(scorers, "Paris is France's capital city.", c, "similarity")
    assert not await check(scorers, "I like to eat green apples in summer.", c, "similarity")


async def test_llm_judge_uses_configured_model_and_rubric() -> None:
    seen: list[tuple[str, str]] = []

    async def complete(messages: Sequence[Mapping[str, Any]], model: str) -> str:
        prompt = str(messages[-1]["content"])
        seen.append((model, prompt))
        return "PASS\nIt is right." if "Paris" in prompt.split("Answer to grade:")[1] else "FAIL: wrong city"

    scorers = ScorerSet(complete=complete, judge_model="judge-a")
    rubric = Assertion("llm_judge", "Names the correct city.")
    c = case(["Paris"], [rubric], prompt="Capital of France?")
    assert await check(scorers, "It's Paris.", c)
    assert not await check(scorers, "It's Lyon.", c)
    other = Assertion("llm-rubric", None, {"model": "judge-b", "rubric": "Be kind."})
    assert await check(scorers, "Paris", case(["Paris"], [other]))
    assert [m for m, _ in seen] == ["judge-a", "judge-a", "judge-b"]
    assert "Names the correct city." in seen[0][1] and "Capital of France?" in seen[0][1]
    assert "Be kind." in seen[2][1]


async def test_llm_judge_without_model_fails_clearly() -> None:
    results = await ScorerSet().check("x", case(["x"], [Assertion("llm_judge")]), Assertion("contains"))
    assert not results[0].passed and "--judge-model" in results[0].reason


def test_parse_verdict() -> None:
    pass_v, fail_v, score_v = (
        parse_verdict("pass - fine"),
        parse_verdict("Verdict: FAIL"),
        parse_verdict("Score: 8/10"),
    )
    assert pass_v is not None and pass_v.passed
    assert fail_v is not None and not fail_v.passed
    assert score_v is not None and score_v.passed and score_v.value == pytest.approx(0.8)
    assert parse_verdict("hmm") is None


async def test_custom_python_scorer_from_file(tmp_path: Path) -> None:
    module = tmp_path / "my_scorers.py"
    module.write_text(
        "from portico.evals.scoring import Score\n"
        "def short(output, case):\n    return len(output) <= 5\n"
        "async def ratio(output, case):\n    return output.count('a') / max(1, len(output))\n"
        "def scored(output, case):\n"
        "    return Score(passed=output == case.expected[0], value=0.5, reason='mine')\n"
        "def bad(output, case):\n    return 'nope'\n"
    )
    scorers = ScorerSet()
    assert await check(scorers, "abc", case(["x"]), f"{module}:short")
    assert not await check(scorers, "abcdefgh", case(["x"]), f"{module}:short")
    assert await check(scorers, "aab", case(asserts=[Assertion("python", f"{module}:ratio")]))
    assert not await check(scorers, "abb", case(asserts=[Assertion("python", f"{module}:ratio")]))
    res = await scorers.check("x", case(["x"], [Assertion("python", f"{module}:scored")]), Assertion("contains"))
    assert res[0].passed and res[0].reason == "mine"
    res = await scorers.check("x", case(["x"], [Assertion("python", f"{module}:bad")]), Assertion("contains"))
    assert not res[0].passed and "scorer error" in res[0].reason


def test_custom_and_unknown_scorers_fail_fast(tmp_path: Path) -> None:
    scorers = ScorerSet()
    with pytest.raises(UnknownScorer, match="known:"):
        scorers.default_assertion("fuzzy")
    with pytest.raises(ScorerImportError, match="not found"):
        scorers.default_assertion(f"{tmp_path}/missing.py:f")
    with pytest.raises(ScorerImportError, match="no callable"):
        scorers.default_assertion("json:nothing_here")
    assert scorers.default_assertion("json:dumps").type == "python"


async def test_row_passes_only_when_every_assert_passes(scorers: ScorerSet) -> None:
    c = case(["18"], [Assertion("numeric"), Assertion("regex", "^The")])
    assert await check(scorers, "The total is 18", c)
    assert not await check(scorers, "Total: 18", c)
