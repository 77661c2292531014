"""Does the answer survive compression? SQuAD2 questions over long contexts, at 2x and 4x.

Each answerable question of ``rag/squad2_small.json`` gets two contexts, ~2k and ~8k tokens:
its gold paragraph at a random place among distractor paragraphs drawn from its own article
and the other one. Each context is compressed with the question (the gateway's own
Compressor, MiniLM loaded as in the gateway) to 1/2 and 1/4 of its tokens; a question
counts as kept when one of its gold answer strings is still in the compressed text.
Baselines in the same run: truncation (the first 1/2 of the context) and random units (the
same splitter, units drawn at random up to the same budget).

Split: questions are split by a hash of their id; ``--split dev`` is where the constants in
``portico.compress.compressor.Tuning`` were chosen, ``test`` (the default) is reported.
Speed: CPU time of compression over all calls, on one pinned core, per 10k context tokens
(CPU time, because the wall clock on a shared machine also counts other processes' turns;
the wall figure and the load are printed beside it).

Usage: PORTICO_SHARED_DATA=/work/shared/data python bench/compression_quality.py [--split test|dev|all]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    return Path(os.environ.get("PORTICO_SHARED_DATA", str(ROOT.parent / "shared" / "data")))


def load_questions(split: str) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    raw = json.loads((data_dir() / "rag" / "squad2_small.json").read_text(encoding="utf-8"))
    paragraphs: dict[str, list[str]] = {}
    questions: list[dict[str, Any]] = []
    for article in raw["data"]:
        title = article["title"]
        paragraphs[title] = [p["context"] for p in article["paragraphs"]]
        for i, p in enumerate(article["paragraphs"]):
            for qa in p["qas"]:
                if qa["is_impossible"]:
                    continue
                side = "dev" if int(hashlib.sha256(qa["id"].encode()).hexdigest(), 16) % 2 == 0 else "test"
                if split in ("all", side):
                    answers = sorted({a["text"] for a in qa["answers"]})
                    spans = sorted({_span_unit(p["context"], a["answer_start"], len(a["text"])) for a in qa["answers"]})
                    questions.append(
                        {
                            "id": qa["id"],
                            "q": qa["question"],
                            "title": title,
                            "para": i,
                            "answers": answers,
                            "spans": spans,
                        }
                    )
    return questions, paragraphs


def _span_unit(paragraph: str, start: int, length: int) -> str:
    """The gold answer in place: the unit(s) of its paragraph that hold the answer span."""
    from portico.compress.segment import split

    units = [u for u in split(paragraph) if u.start < start + length and u.end > start]
    return paragraph[units[0].start : units[-1].end]


def build_context(q: dict[str, Any], paragraphs: dict[str, list[str]], target: int, rng: random.Random) -> str:
    from portico.compress.terms import estimate_tokens

    own = [(q["title"], i) for i in range(len(paragraphs[q["title"]])) if i != q["para"]]
    other = [(t, i) for t, ps in paragraphs.items() if t != q["title"] for i in range(len(ps))]
    rng.shuffle(own)
    rng.shuffle(other)
    pool: list[tuple[str, int]] = []
    while own or other:  # alternate: distractors of the same article and of another one
        if own:
            pool.append(own.pop())
        if other:
            pool.append(other.pop())
    chosen = [paragraphs[q["title"]][q["para"]]]
    size = estimate_tokens(chosen[0])
    for t, i in pool:
        if size >= target:
            break
        chosen.append(paragraphs[t][i])
        size += estimate_tokens(paragraphs[t][i])
    gold = chosen.pop(0)
    chosen.insert(rng.randrange(len(chosen) + 1), gold)
    return "\n\n".join(chosen)


def kept(text: str, q: dict[str, Any]) -> bool:
    """Strict: the sentence holding a gold answer span is there; the answer string alone is not enough."""
    return any(s in text for s in q["spans"])


def random_units(text: str, ratio: float, rng: random.Random) -> str:
    from portico.compress.compressor import join
    from portico.compress.segment import split
    from portico.compress.terms import estimate_tokens

    units = split(text)
    budget = int(estimate_tokens(text) * ratio)
    order = list(range(len(units)))
    rng.shuffle(order)
    keep, used = [], 0
    for i in order:
        size = estimate_tokens(units[i].text)
        if used + size <= budget:
            keep.append(i)
            used += size
    return join(text, [units[i] for i in sorted(keep)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["test", "dev", "all"], default="test")
    ap.add_argument("--no-embed", action="store_true", help="lexical scoring only")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the target says

    from threadpoolctl import threadpool_limits

    from portico.compress.compressor import Compressor
    from portico.compress.terms import estimate_tokens
    from portico.embeddings import MiniLMEmbedder

    threadpool_limits(1)
    embedder = None if args.no_embed else MiniLMEmbedder(threads=1)
    if embedder is not None:
        embedder.embed(["warm up the session", "as the gateway does at start"])
    compressor = Compressor(embedder.embed if embedder is not None else None)
    questions, paragraphs = load_questions(args.split)
    rng = random.Random(16)
    hits = {k: 0 for k in ("2x", "4x", "trunc_2x", "trunc_4x", "random_2x", "random_4x")}
    per_size: dict[int, dict[str, int]] = {}
    n = tokens = embedded_calls = calls = 0
    seconds = wall = 0.0
    for target in (2000, 8000):
        size_hits = per_size.setdefault(target, {"2x": 0, "4x": 0, "n": 0})
        for q in questions:
            context = build_context(q, paragraphs, target, rng)
            total = estimate_tokens(context)
            n += 1
            size_hits["n"] += 1
            for label, ratio in (("2x", 0.5), ("4x", 0.25)):
                t0, c0 = time.perf_counter(), time.process_time()
                out = compressor.compress(context, q["q"], ratio=ratio)
                seconds += time.process_time() - c0
                wall += time.perf_counter() - t0
                tokens += total
                calls += 1
                embedded_calls += out.embedded > 0
                ok = kept(out.text, q)
                hits[label] += ok
                size_hits[label] += ok
                hits[f"trunc_{label}"] += kept(context[: int(len(context) * ratio)], q)
                hits[f"random_{label}"] += kept(random_units(context, ratio, rng), q)
    share = {k: v / n for k, v in hits.items()}
    ms_per_10k = seconds * 1000 / tokens * 10_000
    wall_per_10k = wall * 1000 / tokens * 10_000
    print(
        f"split={args.split} questions={len(questions)} contexts={n} (2k and 8k tokens each); "
        f"MiniLM {'on' if embedder is not None else 'off'}"
    )
    print(f"{'method':<12}{'kept@2x':>9}{'kept@4x':>9}")
    print(f"{'extractive':<12}{share['2x']:>9.3f}{share['4x']:>9.3f}")
    print(f"{'truncation':<12}{share['trunc_2x']:>9.3f}{share['trunc_4x']:>9.3f}")
    print(f"{'random':<12}{share['random_2x']:>9.3f}{share['random_4x']:>9.3f}")
    for target, h in per_size.items():
        print(f"  ~{target} tokens: kept@2x={h['2x'] / h['n']:.3f} kept@4x={h['4x'] / h['n']:.3f}")
    print(
        f"compression calls={calls}, with embedding={embedded_calls}: {ms_per_10k:.2f} ms CPU per 10k tokens "
        f"({wall_per_10k:.2f} ms wall; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"RESULT answer_kept_2x={share['2x']:.3f} answer_kept_4x={share['4x']:.3f} "
        f"truncation_kept_2x={share['trunc_2x']:.3f} random_kept_2x={share['random_2x']:.3f} "
        f"ms_per_10k_tokens={ms_per_10k:.2f}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
