"""Router quality on RouteLLM data: APGR, CPT(50%/80%), cost cut at 95% GPT-4 quality.

Uses the shipped complexity model (trained on the other half of the questions by
scripts/train_router.py) on the held-out half of MMLU and GSM8K, beside a random router
(mean of 10 seeds) and a prompt-length router, with bootstrap 95% CIs; then a variant that
holds out whole MMLU subjects. Data: $PORTICO_SHARED_DATA/routing/routellm_evals.

    .venv/bin/python bench/router_quality.py [--boot 200] [--no-subjects]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from portico.routing.complexity_model import ComplexityModel
from portico.routing.report import Prices, run_report

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    shared = Path(os.environ.get("PORTICO_SHARED_DATA", str(ROOT.parent / "shared" / "data")))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=shared / "routing" / "routellm_evals")
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--no-subjects", action="store_true", help="skip the subject hold-out variant")
    args = ap.parse_args()
    started = time.perf_counter()
    res = run_report(
        args.data, model=ComplexityModel.load(), prices=Prices(), boot=args.boot, holdout_subjects=not args.no_subjects
    )
    print(f"({time.perf_counter() - started:.0f}s)")
    keys = [
        "mmlu_apgr",
        "mmlu_cpt50",
        "gsm8k_cost_cut_at_95",
        "random_apgr",
        "length_apgr",
        "mmlu_cpt80",
        "gsm8k_apgr",
        "gsm8k_random_cost_cut_at_95",
        "mmlu_subject_holdout_apgr",
    ]
    print("RESULT " + " ".join(f"{k}={res[k]:.3f}" for k in keys if k in res))


if __name__ == "__main__":
    main()
