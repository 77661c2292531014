"""Routing decision latency through RoutingStage's routers (the gateway's code path).

complexity: the shipped model on held-out MMLU/GSM8K prompts (hashed n-grams + text
features; no embedding needed). intent: 150 CLINC150 intents x 10 examples, so each
decision includes one MiniLM embedding of the request. Baseline beside them: the bare
MiniLM embedding of the same texts. Numbers depend on machine load: the load average is printed.

    .venv/bin/python bench/router_speed.py
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from portico.embeddings import MiniLMEmbedder
from portico.pipeline import RequestContext
from portico.routing.routellm import is_test, load_gsm8k, load_mmlu
from portico.routing.settings import RoutingSettings
from portico.routing.stage import RoutingStage
from portico.types import ChatMessage, ChatRequest

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: object, texts: list[str], model: str) -> np.ndarray:
    out = []
    for t in texts:
        ctx = RequestContext(
            request_id="b", request=ChatRequest(model=model, messages=[ChatMessage(role="user", content=t)])
        )
        start = time.perf_counter()
        fn(ctx)  # type: ignore[operator]
        out.append((time.perf_counter() - start) * 1000)
    return np.array(out)


def main() -> None:
    shared = Path(os.environ.get("PORTICO_SHARED_DATA", str(ROOT.parent / "shared" / "data")))
    routellm = shared / "routing" / "routellm_evals"
    prompts = [q.prompt for q in load_mmlu(routellm) + load_gsm8k(routellm) if is_test(q.prompt)]
    rng = np.random.default_rng(0)
    prompts = [prompts[i] for i in rng.choice(len(prompts), 1000, replace=False)]
    clinc = json.loads((shared / "routing" / "intent" / "clinc150.json").read_text())
    by_intent: dict[str, list[str]] = {}
    for text, label in clinc["train"]:
        by_intent.setdefault(label, []).append(text)
    intents = [{"name": k, "model": "m", "examples": v[:10]} for k, v in sorted(by_intent.items())]
    settings = RoutingSettings.model_validate(
        {
            "routes": [
                {
                    "name": "auto",
                    "policy": "complexity",
                    "fast": "f",
                    "strong": "s",
                    "threshold": {"strong_share": 0.5},
                },
                {"name": "intent", "policy": "intent", "intents": intents, "fallback": "m", "threshold": 0.6},
            ]
        }
    )
    embedder = MiniLMEmbedder()
    stage = RoutingStage(settings, embedder=embedder)
    utterances = [t for t, _ in clinc["test"][:1000]]
    for r, texts in (("auto", prompts[:50]), ("intent", utterances[:50])):  # warm-up
        timed(stage.routers[r].decide, texts, r)
    comp = timed(stage.routers["auto"].decide, prompts, "auto")
    intent = timed(stage.routers["intent"].decide, utterances, "intent")
    emb = []
    for t in utterances:
        start = time.perf_counter()
        embedder.embed([t])
        emb.append((time.perf_counter() - start) * 1000)
    bare = np.array(emb)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, arr in (
        ("complexity decision", comp),
        ("intent decision (incl. embedding)", intent),
        ("bare MiniLM embed", bare),
    ):
        p50, p95, p99 = np.percentile(arr, [50, 95, 99])
        print(f"{name:36s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms  (n={len(arr)})")
    print(
        f"RESULT complexity_p95_ms={np.percentile(comp, 95):.2f} intent_p95_ms={np.percentile(intent, 95):.2f} "
        f"embed_p95_ms={np.percentile(bare, 95):.2f}"
    )


if __name__ == "__main__":
    main()
