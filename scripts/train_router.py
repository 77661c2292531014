"""Rebuild the shipped complexity model (src/portico/routing/data/complexity-v3.npz).

Trains on the TRAIN half (salted hash of the question text, see portico.routing.routellm)
of RouteLLM's MMLU and GSM8K outcomes (Mixtral-8x7B vs GPT-4-1106), contaminated prompts
dropped. The test half is never read here. C=1 was chosen by 5-fold CV on the train half;
one head per prompt form (multiple-choice / open), the shape features and the boosted trees
mixed in at weight 0.4 were chosen by 4-fold CV on the train half (docs/routing.md).

    .venv/bin/python scripts/train_router.py [--data DIR] [--out PATH]
    .venv/bin/python scripts/train_router.py --answer-doubt    # the cascade's answer-signal model
    .venv/bin/python scripts/train_router.py --general         # the general prior (prior.py)

``--answer-doubt`` fits ``routing/data/answer_doubt_v1.json`` on the GSM8K train half
(Mixtral's answers, wrong or right); its default threshold is the doubt cut that keeps 95%
of GPT-4's quality on 5-fold out-of-fold doubts of that half.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from portico.routing.answer_signals import DOUBT_ARTIFACT, fit_answer_doubt
from portico.routing.complexity_model import DEFAULT_ARTIFACT
from portico.routing.evaluation import Outcomes, cascade_curve
from portico.routing.prior import GENERAL_ARTIFACT, load_sources, train_general_prior
from portico.routing.routellm import SPLIT_SALT, Question, is_test, load_gsm8k, load_mmlu, outcomes
from portico.routing.training import train_complexity

ROOT = Path(__file__).resolve().parents[1]


def train_general(routing_dir: Path) -> None:
    """The general prior on RouterBench and RouteLLM's train halves, with the recipe chosen
    held out by ``bench/router_quality.py`` (``prior.PRIOR_*``)."""
    sources = load_sources(routing_dir)
    model = train_general_prior(sources)
    out = ROOT / "src" / "portico" / "routing" / "data" / GENERAL_ARTIFACT
    model.save(out)
    print(f"wrote {out} ({sum(len(s.texts) for s in sources)} prompts; meta {model.meta})")


def main() -> None:
    shared = os.environ.get("PORTICO_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(shared) / "routing" / "routellm_evals")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "portico" / "routing" / "data" / DEFAULT_ARTIFACT)
    ap.add_argument("--c", type=float, default=1.0)
    ap.add_argument("--answer-doubt", action="store_true", help="fit the cascade's answer-signal model instead")
    ap.add_argument("--general", action="store_true", help="fit the general prior (routing/data/general-v1.npz)")
    args = ap.parse_args()
    if args.general:
        train_general(args.data.parent)
        return
    if args.answer_doubt:
        train_answer_doubt([q for q in load_gsm8k(args.data) if not is_test(q.prompt)])
        return
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


def train_answer_doubt(questions: list[Question]) -> None:
    prompts = [q.prompt for q in questions]
    answers = [q.weak_response for q in questions]
    wrong = [q.weak < 0.5 for q in questions]
    weak, strong = outcomes(questions)
    oof = np.zeros(len(questions))
    folds = np.random.default_rng(0).integers(0, 5, len(questions))
    for k in range(5):
        fit = np.flatnonzero(folds != k)
        model = fit_answer_doubt([prompts[i] for i in fit], [answers[i] for i in fit], [wrong[i] for i in fit])
        oof[folds == k] = [model.doubt(prompts[i], answers[i]) for i in np.flatnonzero(folds == k)]
    # Calls, not dollars, at this stage: the cut is a share of doubtful answers.
    c = cascade_curve(oof, Outcomes.of(weak, strong))
    reached = np.flatnonzero(c.quality >= 0.95 * c.strong_quality - 1e-12)
    share = float(c.share[reached[0]]) if reached.size else 1.0
    threshold = float(np.quantile(oof, 1.0 - share)) if 0.0 < share < 1.0 else (0.0 if share >= 1 else 1.0)
    final = fit_answer_doubt(
        prompts,
        answers,
        wrong,
        meta={
            "data": "routellm_evals gsm8k train half (Mixtral-8x7B answers)",
            "split_salt": SPLIT_SALT,
            "threshold_at_95": round(threshold, 4),
            "escalated_share_at_95": round(share, 4),
        },
    )
    final.save(DOUBT_ARTIFACT)
    print(
        f"answer doubt: {len(questions)} answers; 95% quality at escalation share {share:.3f}, doubt >= {threshold:.3f}"
    )
    print(f"wrote {DOUBT_ARTIFACT}")


if __name__ == "__main__":
    main()
