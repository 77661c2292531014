"""Router quality on RouteLLM data: APGR, CPT(50%/80%), cost cut at 95% GPT-4 quality;
then decisions held out by construction (RouterBench: tasks and model pairs never trained
on), the learning curve of ``portico router fit``, and the cascade from the weak answer.

Uses the shipped complexity model (trained on the other half of the questions by
scripts/train_router.py) on the held-out half of MMLU and GSM8K, beside a random router
(mean of 10 seeds) and a prompt-length router, with bootstrap 95% CIs; then a variant that
holds out whole MMLU subjects. Data: $PORTICO_SHARED_DATA/routing/routellm_evals.

    .venv/bin/python bench/router_quality.py [--boot 200] [--no-subjects] [--no-heldout]

Held out (``heldout_*``): RouterBench's ARC, MBPP and Winogrande for six cheap -> strong
pairs (``routing.routerbench.PAIRS``). The general prior (``routing/prior.py``) is scored on
every (task, pair) with a real gap (>= 0.05) after refitting its recipe without that task's
outcomes *and* without either model of the pair on any task (leave-one-task-out x
leave-one-pair-out); per held-out task, APGR is the mean over its pairs, per held-out pair the
mean over its tasks. Beside it, in the same run: random (mean of 10 seeds), prompt length and
the MMLU-trained complexity model (v3, which never saw RouterBench), and a ceiling that is not
a router (each prompt's true difficulty: the share of the other nine models failing it). The recipe itself (ridge
strength x weight on length) is chosen here from a fixed grid by the same held-out scores: the
best worst unit against length, then the best mean; the run says if prior.py disagrees.
``heldout_min_apgr`` / ``heldout_mean_apgr`` are the general prior's.

``fit500_apgr`` (definition unchanged): ``portico router fit``'s learning curve on each (task,
pair) of RouterBench with a gap (fit on n of the cell's prompts, scored on the rest, mean of 2
draws), the better of the prompt router and the answer-doubt cascade at the largest n (500;
MBPP, 427 prompts, stops at 200), averaged over cells. Reported beside it: the same learners on
a *mixed-task stream* per pair (``fit500_mixed_*``: n rows drawn from the three tasks pooled,
scored on the rest), which is what one user's traffic to one model pair looks like. The prior
the fitter starts from is refitted without the task(s) being fitted.

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
from portico.routing.features import feature_matrix
from portico.routing.fitting import answer_scorer, fixed_scorer, learning_curve, prompt_scorer
from portico.routing.prior import (
    PRIOR_ALPHA,
    PRIOR_LENGTH_WEIGHT,
    LinearScore,
    Source,
    fit_difficulty,
    load_sources,
    with_length,
)
from portico.routing.report import Prices, run_report, with_costs
from portico.routing.routellm import is_test, load_gsm8k
from portico.routing.routerbench import MIN_GAP, MODELS, PAIRS, Task, load_tasks, short

FIT_SIZES = (50, 100, 200, 500)
PRIOR_ALPHAS = (1.0, 10.0, 100.0)  # the grid the prior's recipe is chosen from, held out both ways
PRIOR_LENGTH_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    shared = Path(os.environ.get("PORTICO_SHARED_DATA", str(ROOT.parent / "shared" / "data")))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=shared / "routing" / "routellm_evals")
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--no-subjects", action="store_true", help="skip the subject hold-out variant")
    ap.add_argument("--no-heldout", action="store_true", help="skip RouterBench, router fit and the cascade")
    args = ap.parse_args()
    started = time.perf_counter()
    model = ComplexityModel.load()
    res = run_report(args.data, model=model, prices=Prices(), boot=args.boot, holdout_subjects=not args.no_subjects)
    if not args.no_heldout:
        console = Console(width=150)
        res.update(cascade_report(args.data, console))
        tasks = load_tasks(args.data.parent / "routerbench")
        res.update(heldout_report(tasks, args.data.parent, console))
        res.update(fit_report(tasks, args.data.parent, console))
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
        "fit500_mixed_prompt_apgr",
        "fit500_mixed_answer_apgr",
        "fit500_mixed_length_apgr",
        "fit50_mixed_prompt_apgr",
        "heldout_v3_min_apgr",
        "heldout_v3_mean_apgr",
        "heldout_prior_minus_length_min",
        "heldout_ceiling_min_apgr",
        "heldout_ceiling_mean_apgr",
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


Cell = tuple[str, tuple[str, str]]


def _units(cells: dict[Cell, float]) -> dict[str, float]:
    """Per held-out task (mean over its pairs with a gap) and per held-out pair (over tasks)."""
    groups: dict[str, list[float]] = {}
    for (task, pair), value in cells.items():
        groups.setdefault("task " + task, []).append(value)
        groups.setdefault(f"pair {short(pair[0])} -> {short(pair[1])}", []).append(value)
    return {unit: float(np.mean(v)) for unit, v in groups.items()}


def _heldout_prior_cells(
    sources: list[Source], feats: dict[str, np.ndarray], tasks: dict[str, Task], alpha: float, weight: float
) -> dict[Cell, float]:
    """APGR of the prior recipe on every (task, pair) with a gap, fitted without that task's
    outcomes and without either model of the pair (on any task): held out both ways."""
    out: dict[Cell, float] = {}
    for task in tasks.values():
        train = [s for s in sources if s.name != task.name]
        pooled = np.vstack([feats[s.name] for s in train])
        for pair in PAIRS:
            if task.gap(pair) < MIN_GAP:
                continue
            fitted = fit_difficulty(train, alpha=alpha, skip_models=pair, feats=[feats[s.name] for s in train])
            score = with_length(fitted, weight, pooled)
            out[(task.name, pair)] = apgr(curve(score.of(feats[task.name]), _outcomes(task, pair)))
    return out


def heldout_report(tasks: dict[str, Task], shared_routing: Path, console: Console) -> dict[str, float]:
    """Held-out tables: RouterBench tasks and pairs the prior never saw, beside random, length and
    the MMLU-trained complexity model; the prior's recipe is chosen here by the same CV."""
    sources = load_sources(shared_routing)
    feats = {s.name: feature_matrix(s.texts).astype(np.float64) for s in sources}
    cells = [(t, p) for t in tasks.values() for p in PAIRS if t.gap(p) >= MIN_GAP]
    v3 = ComplexityModel.load()
    baselines: dict[str, dict[Cell, float]] = {"random": {}, "length": {}, "MMLU model (v3)": {}}
    ceiling: dict[Cell, float] = {}
    for task, pair in cells:
        out = _outcomes(task, pair)
        key = (task.name, pair)
        baselines["random"][key] = _random_apgr(out)
        baselines["length"][key] = apgr(curve(np.array([len(p) for p in task.prompts], dtype=np.float64), out))
        baselines["MMLU model (v3)"][key] = apgr(curve(v3.scores(task.prompts), out))
        # A ceiling, not a router: each prompt's true difficulty (the share of the other nine
        # models failing it), which no router sees at run time.
        others = [i for i, m in enumerate(MODELS) if m not in pair]
        ceiling[key] = apgr(curve(1.0 - task.correct[:, others].mean(axis=1), out))
    length_units = _units(baselines["length"])
    # The selection: every recipe of the grid, scored held out both ways; the shipped one is the
    # best worst case against length (ties within 0.005 broken by the mean).
    grid = Table(title="Prior recipes, held out both ways (LOTO x LOPO): APGR over the 9 held-out units")
    for col in ("alpha", "length weight", "min", "mean", "min (recipe - length)", "units below length"):
        grid.add_column(col)
    results: dict[tuple[float, float], dict[Cell, float]] = {}
    for alpha in PRIOR_ALPHAS:
        for weight in PRIOR_LENGTH_WEIGHTS:
            if weight == 1.0 and alpha != PRIOR_ALPHAS[0]:
                continue  # length alone: alpha plays no part
            cells_apgr = _heldout_prior_cells(sources, feats, tasks, alpha, weight)
            results[(alpha, weight)] = cells_apgr
            units = _units(cells_apgr)
            diffs = [units[u] - length_units[u] for u in units]
            grid.add_row(
                f"{alpha:g}",
                f"{weight:g}",
                f"{min(units.values()):.3f}",
                f"{np.mean(list(units.values())):.3f}",
                f"{min(diffs):+.3f}",
                str(sum(d < 0 for d in diffs)),
            )
    console.print(grid)

    def rank_key(recipe: tuple[float, float]) -> tuple[float, float]:
        units = _units(results[recipe])
        worst = min(units[u] - length_units[u] for u in units)
        return (round(worst / 0.005), float(np.mean(list(units.values()))))

    chosen = max(results, key=rank_key)
    shipped = (PRIOR_ALPHA, PRIOR_LENGTH_WEIGHT)
    console.print(
        f"chosen by the held-out worst case: alpha {chosen[0]:g}, length weight {chosen[1]:g}; "
        f"shipped (prior.py): alpha {shipped[0]:g}, length weight {shipped[1]:g}"
        + ("" if chosen == shipped else "  [bold red]MISMATCH: update PRIOR_* and rebuild general-v1.npz[/]")
    )
    best_mean = max(results, key=lambda r: float(np.mean(list(_units(results[r]).values()))))
    columns = {
        **baselines,
        f"best-mean recipe a={best_mean[0]:g} w={best_mean[1]:g} (not shipped)": results[best_mean],
        "general prior (held out)": results[shipped],
        "ceiling: others' failures (not a router)": ceiling,
    }
    table = Table(title="Held-out APGR per (task, pair): RouterBench; the prior fitted without the task and the pair")
    for col in ("task", "pair", "gap", *columns):
        table.add_column(col)
    for task, pair in cells:
        key = (task.name, pair)
        table.add_row(
            task.name,
            f"{short(pair[0])} -> {short(pair[1])}",
            f"{task.gap(pair):.3f}",
            *(f"{c[key]:.3f}" for c in columns.values()),
        )
    console.print(table)
    per_unit = {name: _units(c) for name, c in columns.items()}
    summary = Table(title="Held-out units: mean APGR over the unit's cells")
    for col in ("held out", *columns, "target"):
        summary.add_column(col)
    for unit in length_units:
        target = max(0.60, length_units[unit] + 0.05)
        summary.add_row(unit, *(f"{per_unit[n][unit]:.3f}" for n in columns), f">= {target:.3f}")
    console.print(summary)
    prior_units = per_unit["general prior (held out)"]
    worse = [u for u in prior_units if prior_units[u] < length_units[u]]
    console.print(f"held-out units where the general prior is below length: {worse or 'none'}")
    v3_units = per_unit["MMLU model (v3)"]
    ceiling_units = per_unit["ceiling: others' failures (not a router)"]
    return {
        "heldout_min_apgr": min(prior_units.values()),
        "heldout_mean_apgr": float(np.mean(list(prior_units.values()))),
        "heldout_length_min_apgr": min(length_units.values()),
        "heldout_length_mean_apgr": float(np.mean(list(length_units.values()))),
        "heldout_v3_min_apgr": min(v3_units.values()),
        "heldout_v3_mean_apgr": float(np.mean(list(v3_units.values()))),
        "heldout_prior_minus_length_min": min(prior_units[u] - length_units[u] for u in prior_units),
        "heldout_ceiling_min_apgr": min(ceiling_units.values()),
        "heldout_ceiling_mean_apgr": float(np.mean(list(ceiling_units.values()))),
    }


def _leave_out_prior(shared_routing: Path, left_out: set[str]) -> LinearScore:
    """The prior's recipe fitted on every source but ``left_out`` (with all models)."""
    sources = [s for s in load_sources(shared_routing) if s.name not in left_out]
    feats = [feature_matrix(s.texts).astype(np.float64) for s in sources]
    return with_length(fit_difficulty(sources, alpha=PRIOR_ALPHA, feats=feats), PRIOR_LENGTH_WEIGHT, np.vstack(feats))


def fit_report(tasks: dict[str, Task], shared_routing: Path, console: Console) -> dict[str, float]:
    """``portico router fit``'s learning curve: per (task, pair) with a gap (as before), and on a
    mixed stream per pair (all three tasks pooled: n rows drawn from the pool, scored on the
    rest), which is what a user's traffic to one model pair looks like. The prior it falls back
    to never saw the task(s) being fitted."""
    table = Table(title="portico router fit: APGR on held rows vs n of the user's own examples (mean of 2 draws)")
    table.add_column("stream, pair")
    table.add_column("learner")
    for n in FIT_SIZES:
        table.add_column(f"n={n}")
    at_max: dict[str, list[float]] = {"prompt": [], "answer": [], "length": [], "prior": [], "best": []}
    curves_by_n: dict[str, dict[str, dict[int, list[float]]]] = {"cell": {}, "mixed": {}}
    streams: list[tuple[str, list[Task], tuple[str, str]]] = []
    for task in tasks.values():
        streams += [(task.name, [task], p) for p in PAIRS if task.gap(p) >= MIN_GAP]
    streams += [("mixed", list(tasks.values()), p) for p in PAIRS]
    priors: dict[str, LinearScore] = {}
    for label, parts, pair in streams:
        key = ",".join(t.name for t in parts)
        if key not in priors:
            priors[key] = _leave_out_prior(shared_routing, {t.name for t in parts})
        texts = [p for t in parts for p in t.prompts]
        out = Outcomes.of(
            np.concatenate([t.correct[:, t.column(pair[0])] for t in parts]),
            np.concatenate([t.correct[:, t.column(pair[1])] for t in parts]),
        )
        answers = [a[t.column(pair[0])] for t in parts for a in t.answers]
        lengths = np.array([len(p) for p in texts], dtype=np.float64)
        prior_scores = priors[key].of(feature_matrix(texts).astype(np.float64))
        curves = {
            "length": learning_curve(fixed_scorer(lengths), out, sizes=FIT_SIZES, repeats=2),
            "prior": learning_curve(fixed_scorer(prior_scores), out, sizes=FIT_SIZES, repeats=2),
            "prompt": learning_curve(prompt_scorer(texts, out, priors[key]), out, sizes=FIT_SIZES, repeats=2),
            "answer": learning_curve(answer_scorer(texts, answers, out), out, sizes=FIT_SIZES, repeats=2, cascade=True),
        }
        kind = "mixed" if label == "mixed" else "cell"
        for name, points in curves.items():
            cells = {p.n: f"{p.apgr:.3f}" for p in points}
            table.add_row(
                f"{label}, {short(pair[0])} -> {short(pair[1])}", name, *(cells.get(n, "") for n in FIT_SIZES)
            )
            for p in points:
                curves_by_n[kind].setdefault(name, {}).setdefault(p.n, []).append(p.apgr)
            if kind == "cell":
                at_max[name].append(points[-1].apgr if points else float("nan"))
        if kind == "cell":
            at_max["best"].append(max(curves["prompt"][-1].apgr, curves["answer"][-1].apgr))
    console.print(table)
    mean_table = Table(title="portico router fit, mean APGR on held rows: per (task, pair) beside a mixed-task stream")
    mean_table.add_column("stream")
    mean_table.add_column("learner")
    for n in FIT_SIZES:
        mean_table.add_column(f"n={n}")
    for kind, by_learner in curves_by_n.items():
        for name, by_n in by_learner.items():
            mean_table.add_row(
                kind, name, *(f"{np.mean(by_n[n]):.3f} ({len(by_n[n])})" if n in by_n else "" for n in FIT_SIZES)
            )
    console.print(mean_table)
    console.print(
        "per (task, pair) at the largest n: " + ", ".join(f"{k} {np.nanmean(v):.3f}" for k, v in at_max.items())
    )
    mixed = curves_by_n["mixed"]
    return {
        "fit500_apgr": float(np.nanmean(at_max["best"])),
        "fit500_prompt_apgr": float(np.nanmean(at_max["prompt"])),
        "fit500_answer_apgr": float(np.nanmean(at_max["answer"])),
        "fit500_mixed_prompt_apgr": float(np.mean(mixed["prompt"][500])),
        "fit500_mixed_answer_apgr": float(np.mean(mixed["answer"][500])),
        "fit500_mixed_length_apgr": float(np.mean(mixed["length"][500])),
        "fit50_mixed_prompt_apgr": float(np.mean(mixed["prompt"][50])),
    }


if __name__ == "__main__":
    main()
