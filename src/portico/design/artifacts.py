"""Write every artifact of a design into a directory."""

from __future__ import annotations

import json
from pathlib import Path

from portico.design.plan import Design
from portico.design.render_config import render_config
from portico.design.render_markdown import render_markdown
from portico.design.render_targets import render_alerts, render_targets


def render_all(d: Design) -> dict[str, str]:
    """File name -> content; pure, so golden tests compare it directly."""
    return {
        "architecture.md": render_markdown(d),
        "portico.yaml": render_config(d),
        "targets.yaml": render_targets(d),
        "alerts.yml": render_alerts(d),
        "design.json": json.dumps(d.to_json(), indent=2, sort_keys=False) + "\n",
    }


def write_artifacts(d: Design, out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all(d).items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
