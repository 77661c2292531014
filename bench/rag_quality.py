"""RAG quality on the shared data, through the gateway's own ingestion and retrieval code.

SciFact (BEIR test split: the 300 validation claims over 5,183 abstracts): nDCG@10 and
recall@100 for BM25, dense (MiniLM) and hybrid side by side; the train split (809 claims)
is reported beside it, since fusion settings were chosen on it and never on the test split.

SQuAD 2.0 subset (87 paragraphs of two articles, 626 questions), split into a calibration
half (even paragraphs) and a test half (odd): recall@5 of the gold paragraph (answerable
questions, all paragraphs indexed); the abstention rule (``rag.abstain_threshold``,
calibrated on the calibration half with SciFact training claims as off-corpus queries; the
value the calibration half picks is printed beside the shipped one) on the test half, both
on off-corpus queries (SciFact's unjudged test claims) and as the issue asks, F1 on SQuAD
2.0's unanswerable questions; and the groundedness detector's AUROC on the test half: a
supported sentence states the question's gold answer, an unsupported one the answer of
another question about the same article that its paragraph does not contain.

Usage: PORTICO_SHARED_DATA=/work/shared/data python bench/rag_quality.py [--skip-scifact]
Vectors are cached in /tmp/portico-cache (the first run embeds the corpus: minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._embed_cache import CachedEmbed
from bench._rag_data import SquadQuestion, load_scifact, load_scifact_claims, load_squad

from portico.rag.chunk import ChunkingStrategy
from portico.rag.evaluate import Document, index_corpus, run_queries, score_run
from portico.rag.grounding import GroundednessChecker
from portico.rag.index.embedded import EmbeddedIndex
from portico.rag.ingest import Ingestor
from portico.rag.retrieve import Retriever
from portico.rag.settings import RagSettings

MODES = ("bm25", "dense", "hybrid")


def auroc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    ranked = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        avg = (i + j + 1) / 2  # 1-based average rank of the tie block
        rank_sum += avg * sum(1 for k in range(i, j) if ranked[k][1] == 1)
        i = j
    n_pos, n_neg = len(pos), len(neg)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg) if n_pos and n_neg else 0.0


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


async def scifact(settings: RagSettings, embed: CachedEmbed) -> dict[str, dict[str, dict[str, float]]]:
    data = load_scifact()
    strategy = ChunkingStrategy(settings.chunking.max_chunk_size_tokens, settings.chunking.chunk_overlap_tokens)
    out: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="rag-quality-") as scratch:
        index = EmbeddedIndex(scratch)
        await index.start()
        t = time.perf_counter()
        chunks = await index_corpus(Ingestor(index, embed), "scifact", data.corpus, strategy)
        embed.save()
        print(f"scifact: {len(data.corpus)} documents -> {chunks} chunks in {time.perf_counter() - t:.0f} s")
        retriever = Retriever.configured(index, embed, settings)
        for split, queries, qrels in (
            ("train", data.train_queries, data.train_qrels),
            ("test", data.test_queries, data.test_qrels),
        ):
            out[split] = {}
            for mode in MODES:
                run = await run_queries(retriever, "scifact", queries, mode=mode)  # type: ignore[arg-type]
                out[split][mode] = score_run(run, qrels)
            embed.save()
        await index.close()
    print("\nSciFact (BEIR), chunks of", strategy.max_tokens, "tokens, overlap", strategy.overlap_tokens)
    print(f"{'split':6} {'mode':7} {'nDCG@10':>8} {'R@10':>6} {'R@100':>6} {'MRR@10':>7} queries")
    for split, modes in out.items():
        for mode, m in modes.items():
            print(
                f"{split:6} {mode:7} {m['ndcg@10']:8.4f} {m['recall@10']:6.3f} {m['recall@100']:6.3f} "
                f"{m['mrr@10']:7.3f} {int(m['queries'])}"
            )
    print("published (test): bm25s 0.676 (k1=0.9, b=0.4), all-MiniLM-L6-v2 0.645")
    return out


async def best_scores(
    settings: RagSettings, embed: CachedEmbed, paragraphs: dict[int, str], questions: Sequence[SquadQuestion]
) -> dict[str, float]:
    """The best retrieval score (what the abstention rule reads) of each question over ``paragraphs``."""
    docs = [Document(f"p{i}", "", text) for i, text in paragraphs.items()]
    strategy = ChunkingStrategy(settings.chunking.max_chunk_size_tokens, settings.chunking.chunk_overlap_tokens)
    with tempfile.TemporaryDirectory(prefix="rag-quality-abstain-") as scratch:
        index = EmbeddedIndex(scratch)
        await index.start()
        await index_corpus(Ingestor(index, embed), "s", docs, strategy)
        retriever = Retriever.configured(index, embed, settings)
        out = {}
        for q in questions:
            hits = await retriever.search("s", q.question, mode=settings.mode, k=settings.answer_k)
            out[q.id] = hits[0].score if hits else 0.0
        await index.close()
    return out


async def off_corpus_rows(
    settings: RagSettings,
    embed: CachedEmbed,
    paragraphs: list[str],
    questions: Sequence[SquadQuestion],
    part: int,
    off_topic: Sequence[str],
) -> list[tuple[float, bool]]:
    """(best score, should abstain) for a weak-retrieval task on one half of the paragraphs:
    its answerable questions should be answered; ``off_topic`` queries (SciFact claims, which
    no Wikipedia paragraph here covers) should be abstained on."""
    kept = {i: p for i, p in enumerate(paragraphs) if i % 2 == part}
    asked = [q for q in questions if q.paragraph % 2 == part and not q.impossible]
    strays = [SquadQuestion(f"off{i}", text, -1, [], True, "") for i, text in enumerate(off_topic)]
    scores = await best_scores(settings, embed, kept, [*asked, *strays])
    return [(scores[q.id], False) for q in asked] + [(scores[q.id], True) for q in strays]


def best_f1_threshold(rows: Sequence[tuple[float, bool]]) -> float:
    grid = [i / 100 for i in range(0, 101)]
    return max(grid, key=lambda t: (rule_f1(rows, t), -t))


def rule_f1(rows: Sequence[tuple[float, bool]], threshold: float) -> float:
    """F1 of 'abstain below threshold' for rows of (best score, should abstain)."""
    tp = sum(1 for s, y in rows if y and s < threshold)
    fp = sum(1 for s, y in rows if not y and s < threshold)
    fn = sum(1 for s, y in rows if y and s >= threshold)
    return f1(tp, fp, fn)


async def squad(settings: RagSettings, embed: CachedEmbed) -> dict[str, float]:
    paragraphs, questions = load_squad()
    # The subset has two articles only, so the halves alternate paragraphs: even = calibration.
    calib = {q.id for q in questions if q.paragraph % 2 == 0}
    test = {q.id for q in questions if q.paragraph % 2 == 1}
    docs = [Document(f"p{i}", "", text) for i, text in enumerate(paragraphs)]
    strategy = ChunkingStrategy(settings.chunking.max_chunk_size_tokens, settings.chunking.chunk_overlap_tokens)
    with tempfile.TemporaryDirectory(prefix="rag-quality-squad-") as scratch:
        index = EmbeddedIndex(scratch)
        await index.start()
        await index_corpus(Ingestor(index, embed), "squad", docs, strategy)
        retriever = Retriever.configured(index, embed, settings)
        top_files: dict[str, list[str]] = {}
        best: dict[str, float] = {}
        for q in questions:
            hits = await retriever.search("squad", q.question, mode=settings.mode, k=settings.answer_k)
            best[q.id] = hits[0].score if hits else 0.0
            files = await retriever.search_files("squad", q.question, mode=settings.mode, k=5)
            top_files[q.id] = [f.file_id for f in files]
        await index.close()
    embed.save()
    answerable = [q for q in questions if not q.impossible]
    recall5 = sum(f"p{q.paragraph}" in top_files[q.id][:5] for q in answerable) / len(answerable)

    def counts(threshold: float, ids: set[str]) -> tuple[int, int, int, int]:
        qs = [q for q in questions if q.id in ids]
        tp = sum(1 for q in qs if q.impossible and best[q.id] < threshold)
        fp = sum(1 for q in qs if not q.impossible and best[q.id] < threshold)
        fn = sum(1 for q in qs if q.impossible and best[q.id] >= threshold)
        tn = len(qs) - tp - fp - fn
        return tp, fp, fn, tn

    def abstain_f1(threshold: float, ids: set[str]) -> float:
        tp, fp, fn, _ = counts(threshold, ids)
        return f1(tp, fp, fn)

    # The rule is for weak retrieval (the documents do not cover the question). It is calibrated
    # on the calibration paragraphs with SciFact training claims as off-corpus queries, and
    # tested on the test paragraphs twice: with SciFact's unjudged test claims as off-corpus
    # queries, and on SQuAD 2.0's unanswerable questions (written against the very paragraph
    # that is retrieved, so a retrieval score can hardly tell them).
    calib_rows = await off_corpus_rows(
        settings, embed, paragraphs, questions, 0, load_scifact_claims("claims_train.csv")[:300]
    )
    calibrated = best_f1_threshold(calib_rows)
    test_rows = await off_corpus_rows(settings, embed, paragraphs, questions, 1, load_scifact_claims("claims_test.csv"))
    shipped = settings.abstain_threshold
    never = abstain_f1(0.0, test)
    always = abstain_f1(1.01, test)
    signal = auroc(
        [best[q.id] for q in questions if q.id in test and not q.impossible],
        [best[q.id] for q in questions if q.id in test and q.impossible],
    )
    grid = [i / 100 for i in range(0, 101)]

    # groundedness: supported vs unsupported answer sentences (construction in the docstring)
    checker = GroundednessChecker(settings.grounded_threshold)
    rng = random.Random(15)
    by_article: dict[str, list[SquadQuestion]] = {}
    for q in answerable:
        by_article.setdefault(q.article, []).append(q)
    scored: dict[str, tuple[list[float], list[float]]] = {"calib": ([], []), "test": ([], [])}
    for _, items in sorted(by_article.items()):
        for q in items:
            part = "calib" if q.id in calib else "test"
            context = paragraphs[q.paragraph]
            others = [
                o
                for o in items
                if o.paragraph != q.paragraph and all(a.lower() not in context.lower() for a in o.answers)
            ]
            if not others:
                continue
            wrong = rng.choice(others).answers[0]
            stem = q.question.rstrip("?").strip()
            good = checker.check(f"{stem}: {q.answers[0]}.", [context], q.question)
            bad = checker.check(f"{stem}: {wrong}.", [context], q.question)
            scored[part][0].append(min(v.support for v in good))
            scored[part][1].append(min(v.support for v in bad))
    pos, neg = scored["test"]
    g_auroc = auroc(pos, neg)
    g_acc = (sum(p >= checker.threshold for p in pos) + sum(n < checker.threshold for n in neg)) / (len(pos) + len(neg))
    cpos, cneg = scored["calib"]
    g_cal = max(grid, key=lambda t: sum(p >= t for p in cpos) + sum(n < t for n in cneg))

    print(
        f"\nSQuAD 2.0 subset: {len(paragraphs)} paragraphs, {len(questions)} questions ({len(answerable)} answerable)"
    )
    print(f"recall@5 of the gold paragraph ({settings.mode}): {recall5:.3f}")
    print(
        f"abstention rule 'best score < {shipped:.2f}' (calibration half picks {calibrated:.2f}): "
        f"test-half off-corpus F1 {rule_f1(test_rows, shipped):.3f}; SQuAD 2.0 unanswerable questions (test half, "
        f"{len(test)} questions) F1 {abstain_f1(shipped, test):.3f} "
        f"(never abstain {never:.3f}, always {always:.3f}; AUROC of the best score, answerable vs not: {signal:.3f})"
    )
    print(
        f"groundedness (test half, {len(pos)} supported / {len(neg)} unsupported sentences): AUROC {g_auroc:.3f}, "
        f"accuracy {g_acc:.3f} at the shipped threshold {checker.threshold:.2f} (calibration half picks {g_cal:.2f})"
    )
    return {
        "recall5": recall5,
        "abstain_f1": abstain_f1(shipped, test),
        "offcorpus_abstain_f1": rule_f1(test_rows, shipped),
        "grounded_auroc": g_auroc,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-scifact", action="store_true", help="only the SQuAD part (fast)")
    args = parser.parse_args()
    settings = RagSettings()
    embed = CachedEmbed("rag_quality")
    sq = await squad(settings, embed)
    sf = None if args.skip_scifact else await scifact(settings, embed)
    test = sf["test"] if sf else {m: {"ndcg@10": float("nan"), "recall@100": float("nan")} for m in MODES}
    figures = {
        "scifact_ndcg10_hybrid": test["hybrid"]["ndcg@10"],
        "scifact_ndcg10_bm25": test["bm25"]["ndcg@10"],
        "scifact_ndcg10_dense": test["dense"]["ndcg@10"],
        "scifact_recall100_hybrid": test["hybrid"]["recall@100"],
        "squad_recall5": sq["recall5"],
        "abstain_f1": sq["abstain_f1"],
        "grounded_auroc": sq["grounded_auroc"],
    }
    print("RESULT " + " ".join(f"{k}={v:.4f}" for k, v in figures.items()))


if __name__ == "__main__":
    asyncio.run(main())
