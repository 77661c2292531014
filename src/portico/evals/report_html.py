"""A single-file HTML report: summary, targets, latency histogram (inline SVG), per-row details."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

_PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ddd;padding:4px 8px;vertical-align:top}
th{background:#f3f4f6;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#15803d;font-weight:600}.warn{color:#b45309;font-weight:600}.fail{color:#b91c1c;font-weight:600}
pre{white-space:pre-wrap;margin:0;max-width:60em}details summary{cursor:pointer}
.note{color:#555}
"""

_COLUMNS = (
    ("accuracy", "accuracy", "pct"),
    ("95% CI", None, "ci"),
    ("p50 ms", "p50_ms", "ms"),
    ("p95 ms", "p95_ms", "ms"),
    ("p99 ms", "p99_ms", "ms"),
    ("TTFT p50 ms", "ttft_p50_ms", "ms"),
    ("cost / 1K req $", "cost_per_1k", "usd"),
    ("error rate", "error_rate", "pct"),
    ("cache hit rate", "cache_hit_rate", "pct"),
    ("tokens / req", "tokens_per_request", "num"),
    ("rows", "rows", "int"),
)


def fmt(value: Any, kind: str) -> str:
    if value is None:
        return "n/a"
    if kind == "pct":
        return f"{100 * float(value):.1f}%"
    if kind == "ms":
        return f"{float(value):,.0f}"
    if kind == "usd":
        return f"{float(value):.4f}"
    if kind == "int":
        return str(int(value))
    return f"{float(value):,.1f}"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def latency_histogram_svg(series: Mapping[str, Sequence[float]], *, width: int = 640, height: int = 220) -> str:
    """Grouped histogram of latencies per target, shared bins, as inline SVG."""
    all_values = [v for vs in series.values() for v in vs]
    if not all_values:
        return "<p class='note'>No successful requests: no latency histogram.</p>"
    bins = min(20, max(5, int(len(all_values) ** 0.5)))
    lo, hi = float(min(all_values)), float(max(all_values))
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    counts = {name: np.histogram(vs, bins=edges)[0] for name, vs in series.items()}
    top = max(int(c.max()) for c in counts.values()) or 1
    pad_l, pad_b, pad_t = 40, 30, 10
    plot_w, plot_h = width - pad_l - 10, height - pad_b - pad_t
    slot = plot_w / bins
    bar_w = max(1.0, slot / max(1, len(series)) - 1)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img'>"]
    parts.append(f"<line x1='{pad_l}' y1='{pad_t + plot_h}' x2='{width - 10}' y2='{pad_t + plot_h}' stroke='#999'/>")
    for i, (name, c) in enumerate(counts.items()):
        color = _PALETTE[i % len(_PALETTE)]
        for b, n in enumerate(c):
            if n == 0:
                continue
            h = plot_h * int(n) / top
            x = pad_l + b * slot + i * bar_w
            parts.append(
                f"<rect x='{x:.1f}' y='{pad_t + plot_h - h:.1f}' width='{bar_w:.1f}' height='{h:.1f}' "
                f"fill='{color}'><title>{_e(name)}: {int(n)} in "
                f"{edges[b]:.0f}-{edges[b + 1]:.0f} ms</title></rect>"
            )
        parts.append(f"<text x='{pad_l + 5}' y='{pad_t + 12 + 14 * i}' fill='{color}' font-size='12'>{_e(name)}</text>")
    for frac in (0.0, 0.5, 1.0):
        x = pad_l + frac * plot_w
        parts.append(
            f"<text x='{x:.0f}' y='{height - 10}' font-size='11' text-anchor='middle'>"
            f"{lo + frac * (hi - lo):,.0f} ms</text>"
        )
    parts.append(f"<text x='4' y='{pad_t + 10}' font-size='11'>{top}</text>")
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Mapping[str, Any]) -> str:
    summaries: list[Mapping[str, Any]] = report["summaries"]
    rows: list[Mapping[str, Any]] = report["rows"]
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Portico eval: {_e(report['dataset'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>Portico eval: {_e(report['dataset'])}</h1>",
        f"<p class='note'>{_e(report['started_at'])} · {report['duration_s']} s · "
        f"{report['planned_rows_per_target']} rows per target · gate: "
        f"<span class='{_e(report['gate'])}'>{_e(report['gate'])}</span></p>",
    ]
    if report.get("interrupted"):
        out.append("<p class='warn'>Interrupted: this is a partial report of the rows that finished.</p>")
    out.append("<h2>Summary</h2><table><tr><th>target</th>")
    out += [f"<th>{_e(label)}</th>" for label, _, _ in _COLUMNS]
    out.append("</tr>")
    for s in summaries:
        out.append(f"<tr><td>{_e(s['target'])} <span class='note'>({_e(s['kind'])})</span></td>")
        for _, key, kind in _COLUMNS:
            if kind == "ci":
                ci = (
                    f"{fmt(s['accuracy_ci_low'], 'pct')} – {fmt(s['accuracy_ci_high'], 'pct')}"
                    if s["accuracy_ci_low"] is not None
                    else "n/a"
                )
                out.append(f"<td class='num'>{ci}</td>")
            else:
                out.append(f"<td class='num'>{fmt(s.get(key or ''), kind)}</td>")
        out.append("</tr>")
    out.append("</table>")
    if report["targets"]:
        out.append("<h2>Targets</h2><table><tr><th>target</th><th>metric</th><th>value</th>")
        out.append("<th>condition</th><th>critical</th><th>status</th></tr>")
        for v in report["targets"]:
            value = "not measured" if v["value"] is None else f"{v['value']:.4g}"
            out.append(
                f"<tr><td>{_e(v['target'])}</td><td>{_e(v['metric'])}</td><td class='num'>{value}</td>"
                f"<td>{_e(v['condition'])}</td><td>{_e(v['critical'])}</td>"
                f"<td class='{_e(v['status'])}'>{_e(v['status'])}</td></tr>"
            )
        out.append("</table>")
    series = {
        str(s["target"]): [float(r["latency_ms"]) for r in rows if r["target"] == s["target"] and not r["error"]]
        for s in summaries
    }
    out.append("<h2>Latency</h2>" + latency_histogram_svg(series))
    if report["dataset_problems"]:
        out.append("<h2>Dataset problems (rows skipped)</h2><ul>")
        out += [f"<li>{_e(p)}</li>" for p in report["dataset_problems"]]
        out.append("</ul>")
    out.append(_rows_table(rows))
    out.append("</body></html>")
    return "".join(out)


def _rows_table(rows: Sequence[Mapping[str, Any]]) -> str:
    out = ["<h2>Rows</h2><table><tr><th>target</th><th>row</th><th>result</th><th>ms</th>"]
    out.append("<th>prompt</th><th>expected</th><th>reply</th><th>checks</th></tr>")
    for r in rows:
        status = "error" if r["error"] else ("pass" if r["passed"] else "fail")
        css = "fail" if status != "pass" else "pass"
        checks = "; ".join(f"{c['type']}: {'ok' if c['passed'] else 'no'} {c['reason']}" for c in r["checks"])
        reply = r["error"] or r["output"]
        out.append(
            f"<tr><td>{_e(r['target'])}</td><td>{_e(r['case_id'])} (line {r['line']})</td>"
            f"<td class='{css}'>{status}</td><td class='num'>{r['latency_ms']:.0f}</td>"
            f"<td><details><summary>{_e(_short(r['prompt']))}</summary><pre>{_e(r['prompt'])}</pre></details></td>"
            f"<td>{_e(' | '.join(r['expected']))}</td>"
            f"<td><details><summary>{_e(_short(reply))}</summary><pre>{_e(reply)}</pre></details></td>"
            f"<td>{_e(checks)}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _short(text: str, n: int = 60) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"
