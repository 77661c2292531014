"""Multi-replica exactness and kill -9 durability, outside the test suite, with larger numbers.

3 `portico serve` replicas share one Redis (limits) and one PostgreSQL (keys, ledger, audit);
a fake upstream answers behind them. Phase 1: a key with rpm N gets far more than N concurrent
requests spread over the replicas: how many are admitted? Phase 2: a key with budget B gets
far more requests than B can pay for: what does the ledger say was spent? Phase 3: one replica
is killed with SIGKILL under load and restarted (it replays its journal): how many requests
that received a 200 have no audit row?

    .venv/bin/python bench/replicas.py [--rpm 100] [--budget 1.0] [--requests 600]

Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (database test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the cluster helper is shared with the test suite

from controls.cluster import Cluster, blast, ledger  # noqa: E402
from portico.testing import FakeUpstream  # noqa: E402


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--rpm", type=int, default=100)
    ap.add_argument("--budget", type=float, default=1.0)
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--concurrency", type=int, default=48)
    ap.add_argument("--kill-requests", type=int, default=1500)
    ap.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--serve", default=None, help="command that serves a config (default: portico serve)")
    args = ap.parse_args()

    up = FakeUpstream(reply="Paris is the capital of France.").start_in_thread()
    work = Path(tempfile.mkdtemp(prefix="portico-replicas-"))
    serve = shlex.split(args.serve) if args.serve else [str(ROOT / ".venv/bin/portico"), "serve"]
    cluster = Cluster(work, up.base_url, args.pg, args.redis, replicas=args.replicas, serve_cmd=serve)
    await cluster.prepare()
    try:
        t0 = time.perf_counter()
        cluster.start()
        print(f"{args.replicas} replicas ready in {time.perf_counter() - t0:.1f}s (logs in {work})")
        urls = [cluster.url(i) for i in range(args.replicas)]
        probe = await blast(urls[:1], "sk-pt-not-a-key", 1, 1, prefix="probe")
        if probe[0].status != 401:
            sys.exit(
                f"the gateway answered {probe[0].status} to an unknown key (expected 401): are the controls "
                "composed in portico serve (portico.auth.wiring.controls_feature)?"
            )

        _, secret = await cluster.create_key(name="rpm", rpm=args.rpm)
        t0 = time.perf_counter()
        outcomes = await blast(urls, secret, args.requests, args.concurrency, prefix="rpm")
        admitted = sum(o.status == 200 for o in outcomes)
        refused = sum(o.status == 429 for o in outcomes)
        other = len(outcomes) - admitted - refused
        print(
            f"phase 1  rpm={args.rpm}: sent {len(outcomes)} in {time.perf_counter() - t0:.1f}s over "
            f"{args.replicas} replicas -> admitted {admitted}, 429 {refused}, other {other}"
        )

        budget_key, bsecret = await cluster.create_key(name="budget", budget_usd=args.budget, budget_period="total")
        outcomes = await blast(urls, bsecret, args.requests, args.concurrency, prefix="budget")
        b_admitted = sum(o.status == 200 for o in outcomes)
        b_refused = sum(o.status == 429 for o in outcomes)

        _, ksecret = await cluster.create_key(name="kill")
        load = asyncio.ensure_future(blast([urls[0]], ksecret, args.kill_requests, args.concurrency, prefix="kill"))
        await asyncio.sleep(1.5)  # let the load run, then pull the plug mid-flight
        cluster.kill9(0)
        k_outcomes = await load
        answered = {o.request_id for o in k_outcomes if o.status == 200}
        cluster.start(0)  # the restarted replica replays its journal at start-up
        cluster.stop()  # graceful: every journal flushed
        spend, ids = await ledger(cluster, budget_key)
        lost = len(answered - ids)
        print(f"phase 2  budget=${args.budget:.4f}: admitted {b_admitted}, 429 {b_refused}, ledger spend ${spend:.6f}")
        print(
            f"phase 3  kill -9 under load: {len(answered)} requests answered 200 before the kill, "
            f"{len(answered & ids)} have audit rows, {lost} lost"
        )
        print()
        print(f"{'check':<28}{'limit':>12}{'observed':>12}")
        print(f"{'admitted vs rpm':<28}{args.rpm:>12}{admitted:>12}")
        print(f"{'spend vs budget (USD)':<28}{args.budget:>12.4f}{spend:>12.6f}")
        print(f"{'lost rows after kill -9':<28}{0:>12}{lost:>12}")
        print(
            f"RESULT replicas={args.replicas} limit_rpm={args.rpm} admitted={admitted} budget_usd={args.budget} "
            f"spend_usd={spend:.6f} lost_audit_rows_after_kill={lost} answered_before_kill={len(answered)}"
        )
    finally:
        cluster.stop()
        await cluster.drop_schema()
        up.stop_thread()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
