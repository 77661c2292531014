"""``portico router train|score`` and ``portico eval router``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import orjson
import typer
import yaml
from pydantic import ValidationError
from rich.console import Console

from portico.errors import ConfigError
from portico.pipeline import RequestContext
from portico.routing.settings import ComplexityRoute, RoutingSettings, Threshold
from portico.routing.training import TREE_WEIGHT
from portico.types import ChatMessage, ChatRequest

EXIT_USAGE = 2
router_app = typer.Typer(help="Request routing: score prompts, train the complexity model.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(router_app, name="router")


def register_eval(eval_app: typer.Typer) -> None:
    eval_app.command("router")(eval_router)


def load_routing_settings(path: Path | None) -> RoutingSettings:
    """The ``routing:`` section of a portico.yaml (no routes without a file)."""
    if path is None:
        return RoutingSettings()
    from portico.config import Settings, load_config

    if "routing" in Settings.model_fields:
        settings: Any = load_config(path)
        routing: RoutingSettings = settings.routing
        return routing
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return RoutingSettings.model_validate(raw.get("routing") or {})
    except ValidationError as exc:
        raise ConfigError(f"Invalid routing section in {path}: {exc}") from exc


def read_prompts(path: Path) -> list[ChatRequest]:
    """Lines ``{"prompt": "..."}`` or ``{"messages": [...]}`` as chat requests."""
    out: list[ChatRequest] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
            if isinstance(row, dict) and isinstance(row.get("prompt"), str):
                messages = [ChatMessage(role="user", content=row["prompt"])]
            elif isinstance(row, dict) and isinstance(row.get("messages"), list):
                messages = [ChatMessage.model_validate(m) for m in row["messages"]]
            else:
                raise ValueError('need {"prompt": "..."} or {"messages": [...]}')
            out.append(ChatRequest(model="router-score", messages=messages))
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    return out


@router_app.command("score")
def score(
    prompts: Annotated[Path, typer.Argument(help='JSONL: {"prompt": ".."} or {"messages": [..]} per line')],
    policy: Annotated[
        str, typer.Option("--policy", "-p", help="a route name from --config, or 'complexity' (shipped model)")
    ] = "complexity",
    config: Annotated[Path | None, typer.Option("--config", "-c", help="portico.yaml with a routing: section")] = None,
    share: Annotated[float, typer.Option(help="strong share for the built-in 'complexity' policy")] = 0.5,
) -> None:
    """Print one JSON line per prompt: score (strong model needed) and route, as the gateway decides."""
    err = Console(stderr=True)
    try:
        requests = read_prompts(prompts)
        settings = load_routing_settings(config)
        if settings.route(policy) is None:
            if policy != "complexity":
                names = [r.name for r in settings.routes]
                raise ValueError(f"no route '{policy}' (routes: {names or 'none'}; or use 'complexity')")
            built_in = ComplexityRoute(
                name="complexity", policy="complexity", fast="fast", strong="strong",
                threshold=Threshold(strong_share=share),
            )  # fmt: skip
            settings = RoutingSettings(routes=[built_in])
        stage = _stage(settings, policy)
    except (OSError, ValueError, ConfigError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    router = stage.routers.get(policy)
    if router is None:
        err.print(f"[bold red]error:[/] route '{policy}' calls models (cascade/ensemble); it cannot score offline")
        raise typer.Exit(EXIT_USAGE)
    from portico.routing.complexity import ComplexityRouter
    from portico.routing.features import request_text

    for i, req in enumerate(requests):
        ctx = RequestContext(request_id=uuid.uuid4().hex, request=req.model_copy(update={"model": policy}))
        route = router.decide(ctx)
        row: dict[str, Any] = {"index": i, "score": route.score, "route": route.model, "reason": route.reason}
        if isinstance(router, ComplexityRouter):  # the three class probabilities behind the score
            p = router.model.probabilities(request_text(req))
            row["p_strong_better"] = round(float(p[2]), 4)
            row["p_fast_better"] = round(float(p[0]), 4)
        typer.echo(orjson.dumps(row))


def _stage(settings: RoutingSettings, policy: str) -> Any:
    from portico.routing.settings import IntentRoute, RulesRoute
    from portico.routing.stage import RoutingStage

    cfg = settings.route(policy)
    needs_embedder = isinstance(cfg, IntentRoute) or (isinstance(cfg, RulesRoute) and bool(cfg.intents))
    embedder = None
    if needs_embedder:
        from portico.embeddings import MiniLMEmbedder

        embedder = MiniLMEmbedder()
    only = RoutingSettings(routes=[cfg] if cfg is not None else [])
    return RoutingStage(only, embedder=embedder)


def _read_outcomes(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    texts: list[str] = []
    fast: list[float] = []
    strong: list[float] = []
    for req, line in zip(read_prompts(path), _nonblank(path), strict=True):
        row = orjson.loads(line)
        f, s = row.get("fast", row.get("weak")), row.get("strong")
        if not isinstance(f, int | float) or not isinstance(s, int | float):
            raise ValueError(f'{path}: every line needs numeric "fast" and "strong" qualities in [0, 1]')
        texts.append(req.last_user_text() or req.prompt_text())
        fast.append(float(f))
        strong.append(float(s))
    return texts, np.array(fast), np.array(strong)


def _nonblank(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@router_app.command("train")
def train(
    data: Annotated[Path, typer.Argument(help='JSONL: {"prompt"|"messages", "fast": q, "strong": q}, q in [0, 1]')],
    out: Annotated[Path, typer.Option("--out", "-o", help="where to write the model (.npz)")],
    c: Annotated[float, typer.Option(help="inverse L2 regularisation strength")] = 1.0,
    margin: Annotated[float, typer.Option(help="quality difference that counts as better")] = 0.1,
    tree_weight: Annotated[
        float, typer.Option(help="share of the boosted trees in each head's mixture (0: regression only)")
    ] = TREE_WEIGHT,
) -> None:
    """Train a complexity model on your own logged outcomes; use it with `artifact: PATH` in a route."""
    err = Console(stderr=True)
    from portico.routing.training import train_complexity

    try:
        texts, fast, strong = _read_outcomes(data)
        with err.status(f"training on {len(texts)} prompts"):
            model = train_complexity(
                texts, fast, strong, c=c, margin=margin, tree_weight=tree_weight, meta={"data": str(data)}
            )
        model.save(out)
    except (OSError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    err.print(f"wrote {out}: {len(texts)} prompts, validation APGR {model.meta['validation_apgr']:.3f}")


@router_app.command("fit")
def fit(
    data: Annotated[
        Path,
        typer.Argument(help='JSONL: {"prompt"|"messages", "fast": q, "strong": q[, "fast_answer": ".."]}, q in [0, 1]'),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="the prompt router's model file (.npz)")],
    repeats: Annotated[int, typer.Option(help="random draws per point of the learning curve")] = 3,
) -> None:
    """Learn the router from your own paired outcomes, with its learning curve against the shipped priors.

    The fitted prompt router starts from the general prior (`artifact: general`) and moves away
    from it only as far as cross-validation on your rows supports. Writes it (use it with
    `artifact: PATH` in a complexity route) when it beats the general prior on held rows; with
    `fast_answer` logged, also the answer-doubt model for a cascade (`OUT.doubt.json`, use with
    `check: {max_answer_doubt: ..}` and `doubt_artifact: PATH`)."""
    from rich.table import Table

    from portico.routing.answer_signals import fit_answer_doubt
    from portico.routing.complexity_model import ComplexityModel
    from portico.routing.evaluation import Outcomes
    from portico.routing.fitting import (
        SIZES,
        answer_scorer,
        fit_prompt_router,
        fixed_scorer,
        learning_curve,
        prompt_scorer,
    )
    from portico.routing.prior import linear_part, load_general_prior

    err = Console(stderr=True)
    try:
        texts, fast, strong = _read_outcomes(data)
        answers = [str(orjson.loads(line).get("fast_answer") or "") for line in _nonblank(data)]
        outcomes = Outcomes.of(fast, strong)
        general = load_general_prior()
        prior = linear_part(general)
        if prior is None:
            raise ConfigError("the packaged general prior is not a linear model; reinstall Portico")
        lengths = np.array([len(t) for t in texts], dtype=np.float64)
        with err.status(f"learning curves on {len(texts)} prompts"):
            curves = {
                "general prior": learning_curve(
                    fixed_scorer(general.scores(texts).astype(np.float64)), outcomes, repeats=repeats
                ),
                "MMLU prior (v3)": learning_curve(
                    fixed_scorer(ComplexityModel.load().scores(texts).astype(np.float64)), outcomes, repeats=repeats
                ),
                "prompt length": learning_curve(fixed_scorer(lengths), outcomes, repeats=repeats),
                "fitted (prompt)": learning_curve(prompt_scorer(texts, outcomes, prior), outcomes, repeats=repeats),
            }
            if all(answers):
                curves["fitted (fast answer, cascade)"] = learning_curve(
                    answer_scorer(texts, answers, outcomes), outcomes, repeats=repeats, cascade=True
                )
    except (OSError, ValueError, ConfigError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    if not curves["fitted (prompt)"]:
        err.print(f"[bold red]error:[/] {len(texts)} prompts leave too few to measure on; log at least 150")
        raise typer.Exit(EXIT_USAGE)
    table = Table(title="APGR on held rows vs examples fitted on (mean of random draws)")
    table.add_column("router")
    sizes = [n for n in SIZES if any(p.n == n for c in curves.values() for p in c)]
    for n in sizes:
        table.add_column(f"n={n}", justify="right")
    for name, points in curves.items():
        at = {p.n: f"{p.apgr:.3f}" for p in points}
        table.add_row(name, *(at.get(n, "") for n in sizes))
    err.print(table)
    last = {name: points[-1].apgr for name, points in curves.items() if points}
    if last["fitted (prompt)"] > last["general prior"]:
        model, choice = fit_prompt_router(texts, fast, strong, prior)
        model.meta["data"] = str(data)
        model.save(out)
        err.print(
            f"wrote {out}: the fitted prompt router beats the general prior on held rows "
            f"(weight on your data {choice.blend:g}, word n-grams {'on' if choice.words else 'off'})"
        )
    else:
        err.print("the general prior is at least as good on held rows: keep it (`artifact: general`; nothing written)")
    if "fitted (fast answer, cascade)" in last:
        doubt = fit_answer_doubt(texts, answers, [bool(f < 0.5) for f in fast], meta={"data": str(data)})
        target = out.with_suffix(".doubt.json")
        doubt.save(target)
        err.print(f"wrote {target}: the cascade's answer-doubt model refitted on your answers")


def eval_router(
    data: Annotated[Path, typer.Option("--data", help="RouteLLM routellm_evals folder (mmlu/, gsm8k/)")] = Path(
        "../shared/data/routing/routellm_evals"
    ),
    boot: Annotated[int, typer.Option(help="bootstrap replicates")] = 200,
    artifact: Annotated[Path | None, typer.Option(help="a complexity model (default: the shipped one)")] = None,
    subjects: Annotated[bool, typer.Option(help="also hold out whole MMLU subjects")] = True,
    strong_price: Annotated[str, typer.Option(help="strong model USD per 1M tokens, IN,OUT")] = "10,30",
    weak_price: Annotated[str, typer.Option(help="weak model USD per 1M tokens, IN,OUT")] = "0.6,0.6",
    config: Annotated[
        Path | None,
        typer.Option(help="take both prices from this portico.yaml: a complexity route's fast and strong models"),
    ] = None,
    route: Annotated[str | None, typer.Option(help="that route's name (default: the first complexity route)")] = None,
) -> None:
    """Router quality on RouteLLM outcomes: APGR, CPT(50/80%), cost cut at 95%, with baselines."""
    from portico.config import load_config
    from portico.routing.complexity_model import ComplexityModel
    from portico.routing.report import Prices, prices_from_settings, run_report

    err = Console(stderr=True)
    try:
        if config is not None:
            prices = prices_from_settings(load_config(config), route)
        else:
            si, so = (float(x) for x in strong_price.split(","))
            wi, wo = (float(x) for x in weak_price.split(","))
            prices = Prices(wi, wo, si, so)
        err.print(
            f"prices (USD per 1M tokens in/out): fast {prices.weak_in}/{prices.weak_out}, "
            f"strong {prices.strong_in}/{prices.strong_out}"
        )
        model = ComplexityModel.load(artifact)
        res = run_report(data, model=model, prices=prices, boot=boot, holdout_subjects=subjects)
    except (OSError, ValueError, ConfigError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    typer.echo("RESULT " + " ".join(f"{k}={v:.3f}" for k, v in res.items()))
