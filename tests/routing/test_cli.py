import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from portico.errors import ConfigError
from portico.routing.cli import register, register_eval


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    eval_app = typer.Typer()
    register_eval(eval_app)
    app.add_typer(eval_app, name="eval")
    return app


def test_score_prints_one_json_line_per_prompt(tmp_path: Path) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        json.dumps({"prompt": "What is 2+2?"})
        + "\n\n"
        + json.dumps({"messages": [{"role": "user", "content": "Prove Fermat's last theorem."}]})
        + "\n"
    )
    result = CliRunner().invoke(_app(), ["router", "score", str(prompts)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["index"] for x in lines] == [0, 1]
    assert all(0 <= x["score"] <= 1 and x["route"] in ("fast", "strong") for x in lines)


def test_score_uses_a_configured_route(tmp_path: Path) -> None:
    cfg = tmp_path / "portico.yaml"
    cfg.write_text(
        "routing:\n  routes:\n"
        "    - {name: r, policy: rules, default: small, rules: [{when: {regex: 'SQL'}, model: big}]}\n"
    )
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "write SQL"}\n{"prompt": "hi"}\n')
    result = CliRunner().invoke(_app(), ["router", "score", str(prompts), "--policy", "r", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["route"] for x in result.stdout.splitlines()] == ["big", "small"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no prompt"}\n')
    result = CliRunner().invoke(_app(), ["router", "score", str(bad)])
    assert result.exit_code == 2
    ok = tmp_path / "ok.jsonl"
    ok.write_text('{"prompt": "x"}\n')
    result = CliRunner().invoke(_app(), ["router", "score", str(ok), "--policy", "nope"])
    assert result.exit_code == 2


def test_train_writes_a_model_that_score_can_use(tmp_path: Path) -> None:
    data = tmp_path / "outcomes.jsonl"
    rows = []
    for i in range(60):
        hard = i % 2 == 0
        text = f"prove the hard theorem number {i}" if hard else f"say hello to friend {i}"
        rows.append(json.dumps({"prompt": text, "fast": 0.0 if hard and i % 3 else 1.0, "strong": 1.0}))
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "m.npz"
    result = CliRunner().invoke(_app(), ["router", "train", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    cfg = tmp_path / "portico.yaml"
    cfg.write_text(
        "routing:\n  routes:\n    - {name: mine, policy: complexity, fast: f, strong: s, "
        f"threshold: {{score: 0.5}}, artifact: '{out}'}}\n"
    )
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "prove the hard theorem again"}\n{"prompt": "say hello to friend"}\n')
    result = CliRunner().invoke(_app(), ["router", "score", str(prompts), "--policy", "mine", "-c", str(cfg)])
    assert result.exit_code == 0, result.output
    scores = [json.loads(x)["score"] for x in result.stdout.splitlines()]
    assert scores[0] > scores[1]


def test_eval_router_is_registered() -> None:
    result = CliRunner().invoke(_app(), ["eval", "router", "--help"])
    assert result.exit_code == 0 and "APGR" in result.stdout


def _priced_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "portico.yaml"
    cfg.write_text(
        "models:\n"
        "  - {name: small, provider: echo, price: {input_per_mtok: 0.2, output_per_mtok: 0.4}}\n"
        "  - {name: big, provider: echo, price: {input_per_mtok: 5, output_per_mtok: 15}}\n"
        "routing:\n  routes:\n"
        "    - {name: auto, policy: complexity, fast: small, strong: big}\n"
        "    - {name: other, policy: complexity, fast: small, strong: missing}\n"
    )
    return cfg


def test_eval_router_prices_come_from_the_config(tmp_path: Path) -> None:
    from portico.config import load_config
    from portico.routing.report import Prices, prices_from_settings

    settings = load_config(_priced_config(tmp_path))
    assert prices_from_settings(settings) == Prices(0.2, 0.4, 5.0, 15.0)
    with pytest.raises(ConfigError, match="'missing'"):
        prices_from_settings(settings, "other")
    with pytest.raises(ConfigError, match="named 'nope'"):
        prices_from_settings(settings, "nope")


def test_eval_router_config_errors_exit_2_before_reading_data(tmp_path: Path) -> None:
    cfg = _priced_config(tmp_path)
    args = ["eval", "router", "--config", str(cfg), "--route", "other", "--data", str(tmp_path / "none")]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 2
    assert "missing" in result.output


def test_fit_reports_a_learning_curve_and_writes_what_beats_the_prior(tmp_path: Path) -> None:
    data = tmp_path / "outcomes.jsonl"
    rows = []
    for i in range(260):
        hard = i % 2 == 0  # the fast model fails the "zorblat" prompts, whatever the prior thinks
        text = f"zorblat case {i}: hi" if hard else f"plain case {i}: hi"
        answer = "I am not sure, roughly 3?" if hard else "#### 4"
        rows.append(json.dumps({"prompt": text, "fast": 0.0 if hard else 1.0, "strong": 1.0, "fast_answer": answer}))
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "fit.npz"
    result = CliRunner().invoke(_app(), ["router", "fit", str(data), "--out", str(out), "--repeats", "1"])
    assert result.exit_code == 0, result.output
    assert "n=50" in result.output and "general prior" in result.output and "fast answer" in result.output
    assert "beats the general prior" in result.output
    assert out.exists() and out.with_suffix(".doubt.json").exists()


def test_fit_needs_enough_rows(tmp_path: Path) -> None:
    data = tmp_path / "few.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"p{i}", "fast": i % 2, "strong": 1}) + "\n" for i in range(40)))
    result = CliRunner().invoke(_app(), ["router", "fit", str(data), "--out", str(tmp_path / "x.npz")])
    assert result.exit_code == 2 and "too few" in result.output
