"""Guard stage latency: p50/p95 per request for prompts of ~50, 300 and 2,000 tokens with
all input guards on (PII pseudonymize, injection, content), beside the plain pipeline
(same terminal, no guard stage) and with a per-guard breakdown. Then what the guards add
in front of a 150 ms upstream call, before the call vs with `parallel: true`. Pinned to
one core.

    .venv/bin/python bench/guards_speed.py [--runs 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

# One core: BLAS/OpenMP pools must not spin extra threads on it (set before numpy loads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from portico.guards import GuardRuntime, GuardSettings, GuardStage  # noqa: E402
from portico.guards.factory import build_guard  # noqa: E402
from portico.guards.runtime import CONTENT_ESCALATED_STATE, ESCALATED_STATE  # noqa: E402
from portico.pipeline import Pipeline, Reply, RequestContext  # noqa: E402
from portico.types import ChatMessage, ChatRequest, ChatResponse, Choice, ResponseMessage  # noqa: E402

SENTENCES = [
    "Please summarise the quarterly report and list the three main risks for the board.",
    "My colleague Maria Gonzalez (maria.gonzalez@example.com) will join the call on Tuesday.",
    "The deployment failed because the database migration timed out after thirty seconds.",
    "Can you rewrite this paragraph so that it sounds friendlier but stays concise?",
    "Ship the replacement part to 742 Evergreen Terrace, Springfield, and call +1 415 555 0134.",
    "We compared three caching strategies and the semantic one saved forty percent of the cost.",
    "Explain the difference between precision and recall with a short example.",
    "The customer asked whether the invoice could be split across two cost centres.",
]
CONFIG = {
    "default": {
        "input": [
            {"type": "pii", "action": "pseudonymize"},
            {"type": "injection", "action": "flag"},
            {"type": "content", "action": "flag"},
        ]
    }
}


def prompt(tokens: int, count: Callable[[str], int], rng: random.Random) -> str:
    parts: list[str] = []
    while count(" ".join(parts)) < tokens:
        parts.append(rng.choice(SENTENCES))
    return " ".join(parts)


def token_counter() -> Callable[[str], int]:
    """WordPiece token count without the embedder's 256-token truncation."""
    from tokenizers import Tokenizer

    from portico.embeddings import minilm

    tokenizer = Tokenizer.from_file(str(minilm._TOKENIZER_FILE))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return lambda text: len(tokenizer.encode(text).ids)


async def terminal(ctx: RequestContext) -> Reply:
    return ChatResponse(model="m", choices=[Choice(message=ResponseMessage(content="ok"))])


UPSTREAM_MS = 150.0
# The stage with injection_v3 / content_v3 (MiniLM int8 on a 600-char view behind screens).
BASELINE = {"guard_p50_ms_300tok": 35.5, "guard_p95_ms_300tok": 37.2}


async def slow_terminal(ctx: RequestContext) -> Reply:
    """Stands in for an upstream model that answers after UPSTREAM_MS."""
    await asyncio.sleep(UPSTREAM_MS / 1000)
    return await terminal(ctx)


CPU_MS: list[float] = []  # process CPU time of the last ``timed`` call's runs


async def timed(pipe: Pipeline, text: str, runs: int) -> np.ndarray:
    """Wall-clock ms per request; the process CPU ms of each run go to ``CPU_MS`` (on a
    shared machine the wall clock also counts time the pinned core spent on others' work)."""
    out = []
    CPU_MS.clear()
    for i in range(runs):
        ctx = RequestContext(f"r{i}", ChatRequest(model="m", messages=[ChatMessage(role="user", content=text)]))
        c0, t0 = time.process_time(), time.perf_counter()
        await pipe(ctx)
        out.append((time.perf_counter() - t0) * 1000)
        CPU_MS.append((time.process_time() - c0) * 1000)
    return np.array(out)


async def main(runs: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    runtime = GuardRuntime()
    runtime.warm_up()
    count = token_counter()
    rng = random.Random(0)
    guarded = Pipeline([GuardStage(GuardSettings.model_validate(CONFIG), runtime)], terminal)
    plain = Pipeline([], terminal)
    console = Console(width=140)
    table = Table(title=f"Guard stage latency, one core, {runs} runs each (ms)")
    for c in (
        "tokens",
        "plain p50",
        "plain p95",
        "guards p50",
        "guards p95",
        "guards CPU p50",
        "guards CPU p95",
        "pii p50",
        "injection p50",
        "content p50",
    ):
        table.add_column(c, justify="right")
    result: dict[str, float] = {}
    specs = GuardSettings.model_validate(CONFIG).default.input
    texts: dict[int, str] = {}
    for size in (50, 300, 2000):
        text = texts[size] = prompt(size, count, rng)
        await timed(guarded, text, 3)  # warm caches for this size
        p = await timed(plain, text, runs)
        g = await timed(guarded, text, runs)
        cpu = np.array(CPU_MS)
        per = {}
        for spec in specs:
            guard = build_guard(spec, runtime)
            times = []
            for i in range(max(10, runs // 3)):
                ctx = RequestContext(f"s{i}", ChatRequest(model="m", messages=[ChatMessage(role="user", content=text)]))
                t0 = time.perf_counter()
                await guard.check(text, ctx)
                times.append((time.perf_counter() - t0) * 1000)
            per[spec.type] = float(np.median(times))
        table.add_row(
            str(count(text)),
            f"{np.percentile(p, 50):.2f}",
            f"{np.percentile(p, 95):.2f}",
            f"{np.percentile(g, 50):.1f}",
            f"{np.percentile(g, 95):.1f}",
            f"{np.percentile(cpu, 50):.1f}",
            f"{np.percentile(cpu, 95):.1f}",
            f"{per['pii']:.1f}",
            f"{per['injection']:.1f}",
            f"{per['content']:.1f}",
        )
        result[f"guard_p95_ms_{size}tok"] = float(np.percentile(g, 95))
        result[f"guard_p50_ms_{size}tok"] = float(np.percentile(g, 50))
        result[f"guard_cpu_p95_ms_{size}tok"] = float(np.percentile(cpu, 95))
        result[f"plain_p95_ms_{size}tok"] = float(np.percentile(p, 95))
        # 1 if this text's injection score went to the cascade's MiniLM stage (it should not:
        # the figures above are the fast path's).
        result[f"escalated_{size}tok"] = float(_escalates(runtime, text))
    console.print(table)
    console.print(
        "injection and content share one n-gram count and one tokenization per text inside the stage; "
        "the per-guard columns each pay for their own."
    )
    # The same guards in front of an upstream that answers after UPSTREAM_MS: what they add
    # to the request's latency when they run before the call, and with `parallel: true`
    # (pii pseudonymize still runs first; injection and content run alongside the call).
    text = prompt(300, count, rng)
    for mode in ("sequential", "parallel"):
        config = {"default": {**CONFIG["default"], "parallel": mode == "parallel"}}
        pipe = Pipeline([GuardStage(GuardSettings.model_validate(config), runtime)], slow_terminal)
        await timed(pipe, text, 3)
        added = await timed(pipe, text, runs) - UPSTREAM_MS
        result[f"added_p50_ms_300tok_{mode}"] = float(np.percentile(added, 50))
        result[f"added_p95_ms_300tok_{mode}"] = float(np.percentile(added, 95))
    console.print(
        f"Added to a {UPSTREAM_MS:.0f} ms upstream call, 300 tokens: "
        f"guards before the call p50 {result['added_p50_ms_300tok_sequential']:.1f} / "
        f"p95 {result['added_p95_ms_300tok_sequential']:.1f} ms; `parallel: true` "
        f"p50 {result['added_p50_ms_300tok_parallel']:.1f} / p95 {result['added_p95_ms_300tok_parallel']:.1f} ms"
    )
    # Real prompts of a source nothing was trained or set on (MT-Bench's 160 turns).
    heldout = heldout_prompts()
    if heldout:
        times, cpu_times, escalated = [], [], []
        for i, text in enumerate(heldout):
            ctx = RequestContext(f"h{i}", ChatRequest(model="m", messages=[ChatMessage(role="user", content=text)]))
            c0, t0 = time.process_time(), time.perf_counter()
            await guarded(ctx)
            times.append((time.perf_counter() - t0) * 1000)
            cpu_times.append((time.process_time() - c0) * 1000)
            escalated.append(bool(ctx.state.get(ESCALATED_STATE) or ctx.state.get(CONTENT_ESCALATED_STATE)))
        esc = np.array(escalated)
        result["escalated_share_mtbench"] = float(esc.mean())
        if esc.any():
            result["guard_p50_ms_mtbench_escalated"] = float(np.percentile(np.array(times)[esc], 50))
        result["guard_p50_ms_mtbench_fast"] = float(np.percentile(np.array(times)[~esc], 50))
        result["guard_p95_ms_mtbench"] = float(np.percentile(times, 95))
        result["guard_p50_ms_mtbench"] = float(np.percentile(times, 50))
        result["guard_cpu_p95_ms_mtbench"] = float(np.percentile(cpu_times, 95))
        console.print(
            f"MT-Bench turns (held out, {len(heldout)}): guards p50 {result['guard_p50_ms_mtbench']:.1f} / "
            f"p95 {result['guard_p95_ms_mtbench']:.1f} ms (CPU p95 {result['guard_cpu_p95_ms_mtbench']:.1f} ms); "
            f"escalated to MiniLM {result['escalated_share_mtbench']:.3f} (p50 "
            f"{result.get('guard_p50_ms_mtbench_escalated', float('nan')):.1f} ms; fast path p50 "
            f"{result['guard_p50_ms_mtbench_fast']:.1f} ms)"
        )
    console.print(
        f"Before (injection_v3 / content_v3 with the int8 MiniLM, quiet machine, 22:13 7 Dec): "
        f"300 tokens p50 {BASELINE['guard_p50_ms_300tok']} / p95 {BASELINE['guard_p95_ms_300tok']} ms; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )
    result.update(pii_speed(runtime, texts, runs, console))
    keys = [
        "guard_p95_ms_300tok",
        "guard_p50_ms_300tok",
        "plain_p95_ms_300tok",
        "guard_p95_ms_50tok",
        "guard_p95_ms_2000tok",
        "added_p95_ms_300tok_sequential",
        "added_p95_ms_300tok_parallel",
        "guard_cpu_p95_ms_300tok",
        "guard_p95_ms_mtbench",
        "guard_cpu_p95_ms_mtbench",
        "escalated_share_mtbench",
        "escalated_50tok",
        "escalated_300tok",
        "escalated_2000tok",
        "pii_p50_ms_300tok",
        "pii_p95_ms_300tok",
        "pii_presidio_p50_ms_300tok",
        "pii_p95_ms_2000tok",
    ]
    print("RESULT " + " ".join(f"{k}={result[k]:.2f}" for k in keys if k in result))


def pii_speed(runtime: GuardRuntime, texts: dict[int, str], runs: int, console: Console) -> dict[str, float]:
    """PII detection alone, on the gateway's path (FastAnalyzer) and, as the baseline, on
    Presidio's own AnalyzerEngine.analyze with the same recognizers and tagger (the answers
    are the same: tests/guards/test_fast_analyzer.py). CPU time of this thread, so that
    other processes on the machine inflate the figures less than they do wall time."""
    from portico.guards.fast_analyzer import FastAnalyzer
    from portico.guards.pii import PiiDetector

    analyzer = runtime.analyzer
    engine = analyzer.engine if isinstance(analyzer, FastAnalyzer) else analyzer
    detectors = {"fast": PiiDetector(analyzer), "presidio": PiiDetector(engine)}
    table = Table(title=f"PII detection alone, CPU ms per text, {runs} runs each")
    for c in ("tokens", "fast p50", "fast p95", "Presidio analyze p50", "Presidio analyze p95", "ratio p50"):
        table.add_column(c, justify="right")
    out: dict[str, float] = {}
    for size, text in texts.items():
        row = {}
        for name, detector in detectors.items():
            for _ in range(3):
                detector.detect(text)
            times = []
            for _ in range(runs):
                t0 = time.thread_time()
                detector.detect(text)
                times.append((time.thread_time() - t0) * 1000)
            row[name] = (float(np.percentile(times, 50)), float(np.percentile(times, 95)))
        table.add_row(
            str(size),
            *(f"{v:.2f}" for v in (*row["fast"], *row["presidio"])),
            f"{row['fast'][0] / row['presidio'][0]:.2f}",
        )
        out[f"pii_p50_ms_{size}tok"], out[f"pii_p95_ms_{size}tok"] = row["fast"]
        out[f"pii_presidio_p50_ms_{size}tok"], out[f"pii_presidio_p95_ms_{size}tok"] = row["presidio"]
    console.print(table)
    return out


def _escalates(runtime: GuardRuntime, text: str) -> bool:
    """Whether the injection or the content cascade sends ``text`` to a MiniLM stage."""
    ctx = RequestContext("e", ChatRequest(model="m", messages=[ChatMessage(role="user", content=text)]))
    runtime.injection_score(text, ctx)
    runtime.content_scores(text, ctx)
    return bool(ctx.state.get(ESCALATED_STATE) or ctx.state.get(CONTENT_ESCALATED_STATE))


def heldout_prompts() -> list[str]:
    """MT-Bench's turns from $PORTICO_SHARED_DATA (none when the data is not there)."""
    import json

    shared = Path(os.environ.get("PORTICO_SHARED_DATA", ROOT.parent / "shared" / "data"))
    path = shared / "routing/routellm_evals/mt_bench/question.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [turn for row in rows for turn in row["turns"]]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    asyncio.run(main(parser.parse_args().runs))
