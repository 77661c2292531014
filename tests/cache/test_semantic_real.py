"""The shipped decision path (MiniLM + vetoes + trained verifier) on hand-written pairs, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from portico.cache import CacheSettings
from portico.cache.cli import register
from portico.cache.offline import judge_pairs
from portico.embeddings import MiniLMEmbedder


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


# Pairs above the similarity floor (cosine 0.83-0.96) that only a veto keeps apart.
MUST_MISS = [
    ("negation", "How do I turn on dark mode in Chrome?", "How do I turn off dark mode in Chrome?"),
    ("number", "How many days are there in 2023?", "How many days are there in 2024?"),
    ("number", "What is 2+2?", "What is 2*2?"),
    ("entity", "What is the population of Tokyo?", "What is the population of Osaka?"),
]


async def test_vetoes_stop_near_identical_pairs(embedder: MiniLMEmbedder) -> None:
    pairs = [{"cached": c, "query": q} for _, c, q in MUST_MISS]
    verdicts = await judge_pairs(pairs, CacheSettings(), embedder)
    assert [v["hit"] for v in verdicts] == [False] * len(MUST_MISS)
    assert [v["veto"] for v in verdicts] == [kind for kind, _, _ in MUST_MISS]
    assert all(v["similarity"] >= 0.8 for v in verdicts)


async def test_a_swapped_lowercase_name_is_not_served(embedder: MiniLMEmbedder) -> None:
    pairs = [{"cached": "how do i install react", "query": "how do i install angular"}]
    (verdict,) = await judge_pairs(pairs, CacheSettings(), embedder)
    assert verdict["hit"] is False


async def test_identical_and_paraphrased_questions_hit(embedder: MiniLMEmbedder) -> None:
    pairs = [
        {"cached": "What is the capital of France?", "query": "What is the capital of France?"},
        {"cached": "How can I improve my English speaking skills?",
         "query": "How do I improve my English speaking skills?"},
    ]  # fmt: skip
    first, second = await judge_pairs(pairs, CacheSettings(), embedder)
    assert first == {"hit": True, "similarity": 1.0, "veto": None, "tier": "exact", "score": None}
    assert second["hit"] is True and second["tier"] == "semantic" and second["similarity"] > 0.9


async def test_follow_ups_in_other_conversations_are_out_of_scope(embedder: MiniLMEmbedder) -> None:
    def history(person: str) -> list[dict[str, str]]:
        return [{"role": "user", "content": f"Who is {person}?"}, {"role": "assistant", "content": "A politician."}]

    pairs = [
        {"cached": "How old is he?", "query": "How old is he?",
         "history_cached": history("Barack Obama"), "history_query": history("Joe Biden")},
        {"cached": "Summarise it.", "query": "Summarise it.", "system_cached": "Text A", "system_query": "Text B"},
        {"cached": "How old is he?", "query": "how old is he",
         "history_cached": history("Barack Obama"), "history_query": history("Barack Obama")},
    ]  # fmt: skip
    other_person, other_system, same = await judge_pairs(pairs, CacheSettings(), embedder)
    assert other_person["hit"] is False and other_person["veto"] == "scope"
    assert other_system["hit"] is False and other_system["veto"] == "scope"
    assert same["hit"] is True


def test_cli_judge(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        json.dumps({"cached": "What is 2+2?", "query": "What is 2*2?"})
        + "\n"
        + json.dumps({"cached": "What is the capital of France?", "query": "What is the capital of France?"})
        + "\n"
    )
    config = tmp_path / "portico.yaml"
    config.write_text("cache:\n  semantic:\n    verifier_threshold: 0.5\n")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps "cache" a sub-command
    result = CliRunner().invoke(app, ["cache", "judge", str(pairs), "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [(v["hit"], v["veto"]) for v in lines] == [(False, "number"), (True, None)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"cached": 1}\n')
    assert CliRunner().invoke(app, ["cache", "judge", str(bad)]).exit_code == 2
