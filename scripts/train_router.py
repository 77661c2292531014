"""Rebuild the shipped complexity model (src/portico/routing/data/complexity-v3.npz).

Trains on the TRAIN half (salted hash of the question text, see portico.routing.routellm)
of RouteLLM's MMLU and GSM8K outcomes (Mixtral-8x7B vs GPT-4-1106), contaminated prompts
dropped. The test half is never read here. C=1 was chosen by 5-fold CV on the train half;
one head per prompt form (multiple-choice / open), the shape features and the boosted trees
mixed in at weight 0.4 were chosen by 4-fold CV on the train half (docs/routing.md).

    .venv/bin/python scripts/train_router.py [--data DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from portico.routing.complexity_model import DEFAULT_ARTIFACT
from portico.routing.routellm import SPLIT_SALT, is_test, load_gsm8k, load_mmlu, outcomes
from portico.routing.training import train_complexity

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    shared = os.environ.get("PORTICO_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(shared) / "routing" / "routellm_evals")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "portico" / "routing" / "data" / DEFAULT_ARTIFACT)
    ap.add_argument("--c", type=float, default=1.0)
    args = ap.parse_args()
    questions = [q for q in load_mmlu(args.data) + load_gsm8k(args.data) if not is_test(q.prompt)]
    weak, strong = outcomes(questions)
    started = time.perf_counter()
    model = train_complexity(
        [q.prompt for q in questions],
        weak,
        strong,
        c=args.c,
        meta={"data": "routellm_evals mmlu+gsm8k train half", "split_salt": SPLIT_SALT},
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(
        f"trained on {len(questions)} prompts in {time.perf_counter() - started:.0f}s; "
        f"validation APGR {model.meta['validation_apgr']}; wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)"
    )
    print("strong-better share in training:", float(np.mean(strong > weak)))


if __name__ == "__main__":
    main()
