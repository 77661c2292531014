"""The router quality report on RouteLLM data (``portico eval router`` and
``bench/router_quality.py``): our complexity model beside a random router (averaged over
seeds) and a prompt-length router, with bootstrap confidence intervals.

Splits: the held-out half of the questions (salted hash, the shipped model never saw it),
and a variant that holds out whole MMLU subjects (a model is trained here without them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.table import Table

from portico.errors import ConfigError
from portico.providers.base import approx_tokens
from portico.routing.complexity_model import ComplexityModel
from portico.routing.evaluation import Estimate, Outcomes, curve, evaluate, fixed, random_scores
from portico.routing.routellm import SPLIT_SALT, Question, is_test, load_gsm8k, load_mmlu, outcomes
from portico.routing.training import train_complexity

if TYPE_CHECKING:
    from portico.config import Settings

MMLU_OUTPUT_TOKENS = 5  # a letter and a little chatter; RouteLLM's MMLU files have no responses


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens for the weak (fast) and strong model."""

    weak_in: float = 0.6  # Mixtral-8x7B on hosted APIs at the time of the RouteLLM data
    weak_out: float = 0.6
    strong_in: float = 10.0  # gpt-4-1106-preview list price
    strong_out: float = 30.0


def prices_from_settings(settings: Settings, route: str | None = None) -> Prices:
    """The fast and strong models' prices of a ``complexity`` route (``route``, else the
    first one) from the config's ``models`` section."""
    from portico.routing.settings import ComplexityRoute

    routes = [r for r in settings.routing.routes if isinstance(r, ComplexityRoute)]
    chosen = next((r for r in routes if route is None or r.name == route), None)
    if chosen is None:
        wanted = f"a complexity route named '{route}'" if route else "a complexity route"
        raise ConfigError(f"The config has no {wanted} to take the fast and strong models from.")
    by_name = {m.name: m.price for m in settings.models}
    missing = [name for name in (chosen.fast, chosen.strong) if name not in by_name]
    if missing:
        raise ConfigError(f"Route '{chosen.name}': no model named {', '.join(map(repr, missing))} in `models`.")
    fast, strong = by_name[chosen.fast], by_name[chosen.strong]
    return Prices(fast.input_per_mtok, fast.output_per_mtok, strong.input_per_mtok, strong.output_per_mtok)


def with_costs(questions: list[Question], prices: Prices) -> Outcomes:
    weak, strong = outcomes(questions)
    p_in = np.array([approx_tokens(q.prompt) for q in questions], dtype=np.float64)
    w_out = np.array([approx_tokens(q.weak_response) or MMLU_OUTPUT_TOKENS for q in questions], dtype=np.float64)
    s_out = np.array([approx_tokens(q.strong_response) or MMLU_OUTPUT_TOKENS for q in questions], dtype=np.float64)
    weak_cost = (p_in * prices.weak_in + w_out * prices.weak_out) / 1e6
    strong_cost = (p_in * prices.strong_in + s_out * prices.strong_out) / 1e6
    return Outcomes.of(weak, strong, weak_cost, strong_cost)


def heldout_subject(subject: str) -> bool:
    """About a quarter of MMLU subjects, chosen by a salted hash of the subject name."""
    return hashlib.sha256((SPLIT_SALT + "subject:" + subject).encode()).digest()[0] % 4 == 0


def evaluate_split(
    label: str,
    questions: list[Question],
    scores: np.ndarray,
    prices: Prices,
    *,
    boot: int,
    seeds: int,
    console: Console,
) -> dict[str, dict[str, Estimate]]:
    out = with_costs(questions, prices)
    lengths = np.array([len(q.prompt) for q in questions], dtype=np.float64)
    results = {
        "ours": evaluate(fixed(scores), out, boot=boot),
        "random": evaluate(random_scores(len(out)), out, seeds=seeds, boot=boot),
        "length": evaluate(fixed(lengths), out, boot=boot),
    }
    c = curve(scores, out)
    table = Table(
        title=f"{label}: n={len(out)}, weak={c.weak_quality:.3f} strong={c.strong_quality:.3f} (95% bootstrap CI)"
    )
    for col in ("router", "APGR", "CPT(50%)", "CPT(80%)", "cost cut @95%"):
        table.add_column(col)
    for name, m in results.items():
        table.add_row(name, str(m["apgr"]), str(m["cpt50"]), str(m["cpt80"]), str(m["cost_cut_at_95"]))
    console.print(table)
    _print_curve(label, scores, out, console)
    return results


def _print_curve(label: str, scores: np.ndarray, out: Outcomes, console: Console) -> None:
    c = curve(scores, out)
    n = len(out)
    parts = []
    for share in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8):
        k = round(share * n)
        parts.append(f"{share:.0%}->{c.quality[k]:.3f}")
    console.print(f"  {label} quality vs strong share: " + "  ".join(parts))


def calibrated_point(model: ComplexityModel, questions: list[Question], prices: Prices) -> tuple[float, float, float]:
    """Threshold from the artifact's own validation curve (quality floor 95%), applied to
    ``questions``: (strong share, quality / strong quality, cost cut). No test-set tuning."""
    out = with_costs(questions, prices)
    t = model.share_threshold(model.share_for_quality(0.95))
    scores = model.scores([q.prompt for q in questions])
    strong = scores > t
    quality = float(np.where(strong, out.strong, out.weak).mean()) / float(out.strong.mean())
    cost = float(np.where(strong, out.strong_cost, out.weak_cost).sum()) / float(out.strong_cost.sum())
    return float(strong.mean()), quality, 1.0 - cost


def run_report(
    data: Path,
    *,
    model: ComplexityModel,
    prices: Prices,
    boot: int = 200,
    seeds: int = 10,
    holdout_subjects: bool = True,
    console: Console | None = None,
) -> dict[str, float]:
    console = console or Console()
    mmlu = load_mmlu(data)
    gsm = load_gsm8k(data)
    mmlu_test = [q for q in mmlu if is_test(q.prompt)]
    gsm_test = [q for q in gsm if is_test(q.prompt)]
    console.print(
        f"split: question-level salted hash ({SPLIT_SALT}); model trained on the other half only "
        f"(meta: {model.meta.get('data', '?')}, split {model.meta.get('split_salt', '?')})"
    )
    m = evaluate_split(
        "MMLU held-out half",
        mmlu_test,
        model.scores([q.prompt for q in mmlu_test]),
        prices,
        boot=boot,
        seeds=seeds,
        console=console,
    )
    g = evaluate_split(
        "GSM8K held-out half",
        gsm_test,
        model.scores([q.prompt for q in gsm_test]),
        prices,
        boot=boot,
        seeds=seeds,
        console=console,
    )
    share, quality, cut = calibrated_point(model, gsm_test, prices)
    console.print(
        f"GSM8K at the threshold calibrated on validation for 95% quality: strong share {share:.2f}, "
        f"quality {quality:.3f} of GPT-4, cost cut {cut:.3f}"
    )
    result = {
        "mmlu_apgr": m["ours"]["apgr"].value,
        "mmlu_cpt50": m["ours"]["cpt50"].value,
        "mmlu_cpt80": m["ours"]["cpt80"].value,
        "gsm8k_apgr": g["ours"]["apgr"].value,
        "gsm8k_cost_cut_at_95": g["ours"]["cost_cut_at_95"].value,
        "random_apgr": m["random"]["apgr"].value,
        "length_apgr": m["length"]["apgr"].value,
        "gsm8k_random_cost_cut_at_95": g["random"]["cost_cut_at_95"].value,
    }
    if holdout_subjects:
        train = [q for q in mmlu + gsm if not is_test(q.prompt) and not heldout_subject(q.subject)]
        test = [q for q in mmlu_test if heldout_subject(q.subject)]
        weak, strong = outcomes(train)
        console.print(
            f"subject hold-out: training a model without {len({q.subject for q in test})} MMLU subjects "
            f"({len(train)} prompts)..."
        )
        sub_model = train_complexity(
            [q.prompt for q in train],
            weak,
            strong,
            c=float(model.meta.get("C", 1.0)),
            tree_weight=float(model.meta.get("tree_weight", 0.0)),
        )
        h = evaluate_split(
            "MMLU held-out subjects",
            test,
            sub_model.scores([q.prompt for q in test]),
            prices,
            boot=boot,
            seeds=seeds,
            console=console,
        )
        result["mmlu_subject_holdout_apgr"] = h["ours"]["apgr"].value
    return result
