"""Router quality on RouteLLM data: APGR, CPT(50%/80%), cost cut at 95% GPT-4 quality;
then decisions held out by construction (RouterBench: tasks and model pairs never trained
on), the learning curve of ``portico router fit``, and the cascade from the weak answer.

Uses the shipped complexity model (trained on the other half of the questions by
scripts/train_router.py) on the held-out half of MMLU and GSM8K, beside a random router
(mean of 10 seeds) and a prompt-length router, with bootstrap 95% CIs; then a variant that
holds out whole MMLU subjects. Data: $PORTICO_SHARED_DATA/routing/routellm_evals.

    .venv/bin/python bench/router_quality.py [--boot 200] [--no-subjects] [--no-heldout]

Held out (``heldout_*``): the shipped prior (the complexity model, trained on RouteLLM's
MMLU/GSM8K with Mixtral -> GPT-4 only) scored on RouterBench's ARC, MBPP and Winogrande
for six cheap -> strong pairs (``routing.routerbench.PAIRS``); every task there and every
pair but Mixtral -> GPT-4 is one it never saw. Per held-out task, APGR is the mean over
the pairs with a real gap (>= 0.05); per held-out pair, the mean over the tasks. Beside it,
in the same run: random (mean of 10 seeds), prompt length, and a complexity model trained
leave-one-task-out / leave-one-pair-out on RouterBench itself. ``fit500_apgr``: the learning
curve of ``portico router fit`` on each (task, pair) of RouterBench (fit on n of the user's
own examples, scored on the rest), at n = 500 (MBPP, 427 prompts: its largest n).
``gsm8k_cascade_cost_cut_at_95``: the shipped answer-doubt cascade on the GSM8K test half.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from portico.routing.answer_signals import AnswerDoubt
from portico.routing.complexity_model import ComplexityModel
from portico.routing.evaluation import Outcomes, apgr, cascade_curve, cost_cut_at, curve
from portico.routing.fitting import answer_scorer, fixed_scorer, learning_curve, prompt_scorer
from portico.routing.report import Prices, run_report, with_costs
from portico.routing.routellm import is_test, load_gsm8k
from portico.routing.routerbench import MIN_GAP, PAIRS, Task, load_tasks, short
from portico.routing.training import train_complexity

FIT_SIZES = (50, 100, 200, 500)

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    shared = Path(os.environ.get("PORTICO_SHARED_DATA", str(ROOT.parent / "shared" / "data")))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=shared / "routing" / "routellm_evals")
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--no-subjects", action="store_true", help="skip the subject hold-out variant")
    ap.add_argument("--no-heldout", action="store_true", help="skip RouterBench, router fit and the cascade")
    ap.add_argument(
        "--no-cv-fits", action="store_true", help="skip the LOTO / LOPO complexity models (the slowest columns)"
    )
    args = ap.parse_args()
    started = time.perf_counter()
    model = ComplexityModel.load()
    res = run_report(args.data, model=model, prices=Prices(), boot=args.boot, holdout_subjects=not args.no_subjects)
    if not args.no_heldout:
        console = Console(width=150)
        res.update(cascade_report(args.data, console))
        tasks = load_tasks(args.data.parent / "routerbench")
        res.update(heldout_report(tasks, model, console, cv_fits=not args.no_cv_fits))
        res.update(fit_report(tasks, console))
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
        "heldout_min_apgr",
        "heldout_mean_apgr",
        "heldout_length_min_apgr",
        "heldout_length_mean_apgr",
        "fit500_apgr",
        "fit500_prompt_apgr",
        "fit500_answer_apgr",
        "gsm8k_cascade_cost_cut_at_95",
        "gsm8k_cascade_calibrated_cost_cut",
        "gsm8k_cascade_calibrated_quality",
    ]
    print("RESULT " + " ".join(f"{k}={res[k]:.3f}" for k in keys if k in res))


def cascade_report(data: Path, console: Console) -> dict[str, float]:
    """The shipped answer-doubt cascade on the GSM8K test half: Mixtral answers every
    question, the most doubtful go on to GPT-4 (both calls paid)."""
    doubt = AnswerDoubt.load()
    test = [q for q in load_gsm8k(data) if is_test(q.prompt)]
    out = with_costs(test, Prices())
    scores = np.array([doubt.doubt(q.prompt, q.weak_response) for q in test])
    c = cascade_curve(scores, out)
    esc = scores >= doubt.default_threshold
    quality = float(np.where(esc, out.strong, out.weak).mean() / out.strong.mean())
    cost = float((out.weak_cost.sum() + out.strong_cost[esc].sum()) / out.strong_cost.sum())
    prompt_only = cost_cut_at(curve(ComplexityModel.load().scores([q.prompt for q in test]), out), 0.95)
    console.print(
        f"GSM8K test half ({len(test)}), cascade from Mixtral's answer: cost cut at 95% of GPT-4 quality "
        f"{cost_cut_at(c, 0.95):.3f} (prompt-only router {prompt_only:.3f}); APGR {apgr(c):.3f}; at the shipped "
        f"threshold {doubt.default_threshold:.3f} (from the train half): escalated {esc.mean():.3f}, quality "
        f"{quality:.3f} of GPT-4, cost cut {1 - cost:.3f}"
    )
    return {
        "gsm8k_cascade_cost_cut_at_95": cost_cut_at(c, 0.95),
        "gsm8k_cascade_calibrated_cost_cut": 1 - cost,
        "gsm8k_cascade_calibrated_quality": quality,
    }


def _outcomes(task: Task, pair: tuple[str, str]) -> Outcomes:
    weak, strong = (task.column(m) for m in pair)
    return Outcomes.of(task.correct[:, weak], task.correct[:, strong], task.cost[:, weak], task.cost[:, strong])


def _random_apgr(out: Outcomes, seeds: int = 10) -> float:
    rng = np.random.default_rng(0)
    return float(np.mean([apgr(curve(rng.random(len(out)), out)) for _ in range(seeds)]))


def heldout_report(
    tasks: dict[str, Task], prior: ComplexityModel, console: Console, *, cv_fits: bool = True
) -> dict[str, float]:
    cells = [(t, p) for t in tasks.values() for p in PAIRS if t.gap(p) >= MIN_GAP]
    prior_scores = {t.name: prior.scores(t.prompts) for t in tasks.values()}
    lengths = {t.name: np.array([len(p) for p in t.prompts], dtype=np.float64) for t in tasks.values()}
    loto: dict[tuple[str, tuple[str, str]], float] = {}
    lopo: dict[tuple[str, tuple[str, str]], float] = {}
    for pair in PAIRS if cv_fits else ():
        for task in tasks.values():
            if (task, pair) not in cells:
                continue
            # Leave the task out: the same pair's outcomes on the other tasks.
            others = [t for t in tasks.values() if t.name != task.name and t.gap(pair) >= MIN_GAP]
            loto[(task.name, pair)] = _fitted_apgr(others, [pair], task, pair)
            # Leave the pair out: the other pairs' outcomes on every task, this one included.
            lopo[(task.name, pair)] = _fitted_apgr(list(tasks.values()), [p for p in PAIRS if p != pair], task, pair)
    rows: dict[str, dict[str, float]] = {}
    table = Table(title="Held-out APGR per (task, pair): RouterBench, never trained on by the shipped prior")
    for col in ("task", "pair", "gap", "random", "length", "shipped prior", "LOTO fit", "LOPO fit"):
        table.add_column(col)
    for task, pair in cells:
        out = _outcomes(task, pair)
        row = {
            "random": _random_apgr(out),
            "length": apgr(curve(lengths[task.name], out)),
            "prior": apgr(curve(prior_scores[task.name], out)),
            "loto": loto.get((task.name, pair), float("nan")),
            "lopo": lopo.get((task.name, pair), float("nan")),
        }
        rows[f"{task.name}|{short(pair[0])}->{short(pair[1])}"] = row
        table.add_row(
            task.name,
            f"{short(pair[0])} -> {short(pair[1])}",
            f"{task.gap(pair):.3f}",
            *(f"{v:.3f}" for v in row.values()),
        )
    console.print(table)
    units: dict[str, list[str]] = {}
    for key in rows:
        task_name, pair_name = key.split("|")
        units.setdefault("task " + task_name, []).append(key)
        units.setdefault("pair " + pair_name, []).append(key)
    summary = Table(title="Held-out units: mean APGR over the unit's cells")
    for col in ("held out", "cells", "random", "length", "shipped prior", "LOTO fit", "LOPO fit", "target"):
        summary.add_column(col)
    per_unit: dict[str, dict[str, float]] = {}
    for unit, keys in units.items():
        mean = {k: float(np.mean([rows[c][k] for c in keys])) for k in ("random", "length", "prior", "loto", "lopo")}
        per_unit[unit] = mean
        target = max(0.60, mean["length"] + 0.05)
        summary.add_row(unit, str(len(keys)), *(f"{v:.3f}" for v in mean.values()), f">= {target:.3f}")
    console.print(summary)
    prior_units = [u["prior"] for u in per_unit.values()]
    length_units = [u["length"] for u in per_unit.values()]
    worse = [name for name, u in per_unit.items() if u["prior"] < u["length"]]
    console.print(f"held-out units where the shipped prior is below length: {worse or 'none'}")
    return {
        "heldout_min_apgr": float(np.min(prior_units)),
        "heldout_mean_apgr": float(np.mean(prior_units)),
        "heldout_length_min_apgr": float(np.min(length_units)),
        "heldout_length_mean_apgr": float(np.mean(length_units)),
    }


def _fitted_apgr(
    train_tasks: list[Task], train_pairs: list[tuple[str, str]], task: Task, pair: tuple[str, str]
) -> float:
    texts: list[str] = []
    weak: list[np.ndarray] = []
    strong: list[np.ndarray] = []
    for t in train_tasks:
        for p in train_pairs:
            if t.gap(p) < MIN_GAP:
                continue
            texts += t.prompts
            weak.append(t.correct[:, t.column(p[0])])
            strong.append(t.correct[:, t.column(p[1])])
    if not texts:
        return float("nan")
    model = train_complexity(texts, np.concatenate(weak), np.concatenate(strong), tree_weight=0.0)
    return apgr(curve(model.scores(task.prompts), _outcomes(task, pair)))


def fit_report(tasks: dict[str, Task], console: Console) -> dict[str, float]:
    """``portico router fit``'s learning curve on every (task, pair) with a gap."""
    table = Table(title="portico router fit: APGR on held rows vs n of the user's own examples (mean of 2 draws)")
    table.add_column("task, pair")
    table.add_column("learner")
    for n in FIT_SIZES:
        table.add_column(f"n={n}")
    at_max: dict[str, list[float]] = {"prompt": [], "answer": [], "length": [], "best": []}
    for task in tasks.values():
        for pair in PAIRS:
            if task.gap(pair) < MIN_GAP:
                continue
            out = _outcomes(task, pair)
            answers = [a[task.column(pair[0])] for a in task.answers]
            lengths = np.array([len(p) for p in task.prompts], dtype=np.float64)
            curves = {
                "length": learning_curve(fixed_scorer(lengths), out, sizes=FIT_SIZES, repeats=2),
                "prompt": learning_curve(prompt_scorer(task.prompts, out), out, sizes=FIT_SIZES, repeats=2),
                "answer": learning_curve(
                    answer_scorer(task.prompts, answers, out), out, sizes=FIT_SIZES, repeats=2, cascade=True
                ),
            }
            for name, points in curves.items():
                cells = {p.n: f"{p.apgr:.3f}" for p in points}
                table.add_row(
                    f"{task.name}, {short(pair[0])} -> {short(pair[1])}", name, *(cells.get(n, "") for n in FIT_SIZES)
                )
                at_max[name].append(points[-1].apgr if points else float("nan"))
            at_max["best"].append(max(curves["prompt"][-1].apgr, curves["answer"][-1].apgr))
    console.print(table)
    console.print("at the largest n: " + ", ".join(f"{k} {np.nanmean(v):.3f}" for k, v in at_max.items()))
    return {
        "fit500_apgr": float(np.nanmean(at_max["best"])),
        "fit500_prompt_apgr": float(np.nanmean(at_max["prompt"])),
        "fit500_answer_apgr": float(np.nanmean(at_max["answer"])),
    }


if __name__ == "__main__":
    main()
