"""Generation speed of the embedded model: through Portico (HTTP, streaming and not) vs raw
llama.cpp (xllamacpp, the same weights and thread count), alternated in one process.

    .venv/bin/python bench/local_model.py [--rounds 5] [--max-tokens 128]

Ends with: RESULT portico_gen_tok_s=.. raw_gen_tok_s=.. ratio=..
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from portico.config import settings_from_dict
from portico.providers.local import default_model_path, default_threads
from portico.server import create_app
from portico.testing import serve_in_thread

PROMPT = [{"role": "user", "content": "Write a long story about a lighthouse keeper and a storm."}]


def raw_server(threads: int):  # type: ignore[no-untyped-def]
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(default_model_path())
    params.n_ctx = 2048
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.verbosity = -1
    return xllamacpp.Server(params)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=128)
    args = ap.parse_args()
    threads = default_threads()
    body = {"messages": PROMPT, "max_tokens": args.max_tokens, "temperature": 0.0}
    raw = raw_server(threads)
    raw.handle_chat_completions(dict(body, max_tokens=8))  # warm-up
    settings = settings_from_dict({"embeddings": {"enabled": False}, "server": {"log_level": "warning"}}, env={})
    raw_rates: list[float] = []
    gw_rates: list[float] = []
    stream_rates: list[float] = []
    with serve_in_thread(create_app(settings), timeout=120) as url, httpx.Client(base_url=url, timeout=300) as client:
        client.post("/v1/chat/completions", json=dict(body, model="local", max_tokens=8))
        for _ in range(args.rounds):
            t = time.perf_counter()
            r = raw.handle_chat_completions(dict(body))
            raw_rates.append(r["usage"]["completion_tokens"] / (time.perf_counter() - t))
            t = time.perf_counter()
            g = client.post("/v1/chat/completions", json=dict(body, model="local")).json()
            gw_rates.append(g["usage"]["completion_tokens"] / (time.perf_counter() - t))
            t = time.perf_counter()
            n = 0
            with client.stream(
                "POST",
                "/v1/chat/completions",
                json=dict(body, model="local", stream=True, stream_options={"include_usage": True}),
            ) as s:
                for line in s.iter_lines():
                    if '"usage"' in line and '"choices":[]' in line:
                        import json

                        n = json.loads(line[6:])["usage"]["completion_tokens"]
            stream_rates.append(n / (time.perf_counter() - t))
    raw_tps, gw_tps, st_tps = (statistics.median(x) for x in (raw_rates, gw_rates, stream_rates))
    print(f"threads={threads} rounds={args.rounds} max_tokens={args.max_tokens}")
    print(f"{'path':<28}{'median tok/s':>14}{'min':>10}{'max':>10}")
    for name, xs in (
        ("raw llama.cpp (xllamacpp)", raw_rates),
        ("portico HTTP (json)", gw_rates),
        ("portico HTTP (stream)", stream_rates),
    ):
        print(f"{name:<28}{statistics.median(xs):>14.1f}{min(xs):>10.1f}{max(xs):>10.1f}")
    print(
        f"RESULT portico_gen_tok_s={gw_tps:.1f} raw_gen_tok_s={raw_tps:.1f} ratio={gw_tps / raw_tps:.3f} "
        f"portico_stream_tok_s={st_tps:.1f} stream_ratio={st_tps / raw_tps:.3f}"
    )


if __name__ == "__main__":
    main()
