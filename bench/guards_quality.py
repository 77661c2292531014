"""Guard quality on ../shared/data/safety (or $PORTICO_SHARED_DATA/safety).

    .venv/bin/python bench/guards_quality.py

PII: presidio_synth_v2.json, span overlap with matching type, per type and overall, for
Portico's detector and for plain Presidio (same spaCy model, default recognizers and
settings) run side by side. Recognizers and thresholds were tuned on the even template
ids ("dev" half); the headline ``pii_f1`` is the odd template ids ("test" half).
Injection (scored the way the gateway scores: rules, then the cascade of guards.cascade: the
fast static-token model, and the MiniLM model on texts at or above the escalation cut): s-labs test
split (recall at the threshold giving <= 1% FPR, and at the shipped flag and block
thresholds), neuralchemy test split (cross-dataset),
XSTest's 250 safe prompts, and benign sources by group (scripts/benign_sources.py): the
calibration sources the block threshold was set on, and the held-out sources nothing was
trained or set on (MT-Bench turns, MBPP, SQuAD questions); ``heldout_benign_fpr`` is the
highest share flagged at the block threshold over the held-out sources. The table prints no
flagged text: reading the held-out sources' flagged texts would steer the next model.
``--before DIR`` scores a previous injection cascade (its three files in DIR) beside the
shipped one in the same run, e.g. main at 8284485:
    mkdir -p /tmp/before && for f in injection_v4.npz injection_v3.npz injection_cascade.json; do
      git show 8284485:src/portico/guards/data/$f > /tmp/before/$f; done
Content: 5-fold cross-validated per-category precision/recall/F1 on openai_moderation,
recall on HarmBench behaviours, FPR on XSTest safe prompts. Pseudonymization round trip
through randomly split SSE chunks.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from portico.guards.classifier import INJECTION_MODEL, LinearTextClassifier  # noqa: E402
from portico.guards.injection_rules import match_rules  # noqa: E402
from portico.guards.pii import DEFAULT_ENTITIES, PiiDetector, rewrite  # noqa: E402
from portico.guards.presidio_engine import build_analyzer  # noqa: E402
from portico.guards.runtime import GuardRuntime  # noqa: E402
from portico.guards.vault import PseudonymVault  # noqa: E402

DATA = Path(os.environ.get("PORTICO_SHARED_DATA", ROOT.parent / "shared" / "data")) / "safety"
CACHE = Path("/tmp/portico-cache")
console = Console(width=140)

# The previous shipped injection cascade (injection_v4 -> injection_v3, mean; main at 8284485),
# this bench on 2026-12-08 00:22-00:26 UTC; --before DIR scores it again in the same run.
PREVIOUS_CASCADE = {
    "injection_recall_at_1pct_fpr": 0.9648,
    "injection_cross_recall": 0.9493,
    "heldout_benign_fpr": 0.0688,
    "heldout_benign_fpr_mean": 0.0237,
    "injection_recall_at_block": 0.9657,
    "injection_cross_recall_at_block": 0.9493,
    "xstest_safe_fpr": 0.0,
}

# injection_v4 alone (no cascade; this bench at 23:11-23:15 UTC on 2026-12-07, commit ebf7e21).
V4_ALONE = {
    "injection_recall_at_1pct_fpr": 0.9543,
    "injection_cross_recall": 0.9511,
    "heldout_benign_fpr": 0.1062,
    "heldout_benign_fpr_mean": 0.0391,
    "injection_recall_at_block": 0.9496,
    "injection_cross_recall_at_block": 0.9457,
    "xstest_safe_fpr": 0.0,
    # content_v4 alone: this bench before the content cascade (23:11, shipped thresholds)
    "content_macro_f1": 0.5202,
    "harmbench_recall": 0.0,
    "content_xstest_fpr": 0.0120,
}
V4_BENIGN = {
    "gsm8k": 0.0007,
    "mmlu": 0.0013,
    "clinc150": 0.0200,
    "qqp": 0.0053,
    "arc": 0.0,
    "winogrande": 0.0,
    "banking77": 0.0107,
    "mt_bench": 0.1062,
    "mbpp": 0.0094,
    "squad": 0.0016,
}

# The previous shipped models (injection_v3 / content_v3: MiniLM int8 embedding behind a
# character screen), this bench at 22:15-22:45 on 2026-12-07 (load 10-14); printed beside
# each result.
BASELINE = {
    "pii_f1": 0.9130,
    "injection_recall_at_1pct_fpr": 0.9448,
    "injection_cross_recall": 0.9203,
    "heldout_benign_fpr": 0.0563,
    "heldout_benign_fpr_mean": 0.0195,
    "injection_recall_at_block": 0.9505,
    "injection_cross_recall_at_block": 0.9203,
    "xstest_safe_fpr": 0.0,
    "content_macro_f1": 0.5699,
    "harmbench_recall": 0.0,
    "content_xstest_fpr": 0.0160,
}
BASELINE_BENIGN = {
    "gsm8k": 0.0007,
    "mmlu": 0.0013,
    "clinc150": 0.0507,
    "qqp": 0.0053,
    "arc": 0.0,
    "winogrande": 0.0,
    "banking77": 0.0100,
    "mt_bench": 0.0563,
    "mbpp": 0.0024,
    "squad": 0.0,
}

# Dataset types -> the types both systems are scored on. STREET_ADDRESS, GPE and ZIP_CODE
# are all "where someone lives" and count as LOCATION; DOMAIN_NAME is Presidio's URL.
GOLD_MAP = {"STREET_ADDRESS": "LOCATION", "GPE": "LOCATION", "ZIP_CODE": "LOCATION", "DOMAIN_NAME": "URL"}
PRED_MAP = {"STREET_ADDRESS": "LOCATION"}
SCORED = {GOLD_MAP.get(t, t) for t in DEFAULT_ENTITIES} - {"STREET_ADDRESS"}
UNSCORED_NOTE = (
    "not scored (not in the entity set; neither system targets them): ORGANIZATION, DATE_TIME, NRP, AGE, TITLE"
)


def prf(tp_pred: int, n_pred: int, tp_gold: int, n_gold: int) -> tuple[float, float, float]:
    p = tp_pred / n_pred if n_pred else 1.0
    r = tp_gold / n_gold if n_gold else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score_pii(
    samples: list[dict], predict
) -> tuple[dict[str, tuple[float, float, float, int]], tuple[float, float, float]]:
    tp_p, n_p, tp_g, n_g = Counter(), Counter(), Counter(), Counter()
    for x in samples:
        gold = [
            (s["start_position"], s["end_position"], GOLD_MAP.get(s["entity_type"], s["entity_type"]))
            for s in x["spans"]
        ]
        gold = [g for g in gold if g[2] in SCORED]
        pred = [(s, e, PRED_MAP.get(t, t)) for s, e, t in predict(x["full_text"])]
        pred = [p for p in pred if p[2] in SCORED]
        for p in pred:
            n_p[p[2]] += 1
            tp_p[p[2]] += any(g[2] == p[2] and g[0] < p[1] and p[0] < g[1] for g in gold)
        for g in gold:
            n_g[g[2]] += 1
            tp_g[g[2]] += any(g[2] == p[2] and g[0] < p[1] and p[0] < g[1] for p in pred)
    per = {t: (*prf(tp_p[t], n_p[t], tp_g[t], n_g[t]), n_g[t]) for t in sorted(SCORED)}
    overall = prf(sum(tp_p.values()), sum(n_p.values()), sum(tp_g.values()), sum(n_g.values()))
    return per, overall


def bench_pii() -> dict[str, float]:
    samples = json.loads((DATA / "presidio_synth_v2.json").read_text(encoding="utf-8"))
    halves = {
        "dev": [x for x in samples if x["template_id"] % 2 == 0],
        "test": [x for x in samples if x["template_id"] % 2 == 1],
    }
    ours = PiiDetector(GuardRuntime().analyzer)
    plain = build_analyzer(fast=False)  # Presidio defaults: whole pipeline, stock recognizers (email made offline)
    systems = {
        "portico": lambda t: [(e.start, e.end, e.type) for e in ours.detect(t)],
        "presidio": lambda t: [(r.start, r.end, r.entity_type) for r in plain.analyze(t, language="en")],
    }
    out: dict[str, float] = {}
    for split in ("test", "dev"):
        table = Table(
            title=f"PII on presidio_synth_v2, {split} half ({len(halves[split])} texts), span overlap + same type"
        )
        table.add_column("entity")
        table.add_column("n", justify="right")
        for name in systems:
            for m in ("P", "R", "F1"):
                table.add_column(f"{name} {m}", justify="right")
        results = {}
        for name, fn in systems.items():
            t0 = time.perf_counter()
            results[name] = score_pii(halves[split], fn)
            out[f"{name}_{split}_ms"] = (time.perf_counter() - t0) / len(halves[split]) * 1000
        for t in sorted(SCORED):
            row = [t, str(results["portico"][0][t][3])]
            for name in systems:
                row += [f"{v:.3f}" for v in results[name][0][t][:3]]
            table.add_row(*row)
        row = ["OVERALL", ""]
        for name in systems:
            row += [f"{v:.3f}" for v in results[name][1]]
            out[f"{name}_{split}_f1"] = results[name][1][2]
        table.add_row(*row)
        console.print(table)
    console.print(UNSCORED_NOTE)
    console.print(f"mean ms/text: portico {out['portico_test_ms']:.1f}, presidio {out['presidio_test_ms']:.1f}")
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


_RUNTIME = GuardRuntime()
ESCALATED: dict[str, float] = {}  # set name -> share of its texts that went to the second stage


def _embed(views: list[str]) -> np.ndarray:
    from portico.embeddings.disk_cache import embed_with_disk_cache

    return embed_with_disk_cache(_RUNTIME.embedder, views, CACHE)


def injection_scores(texts: list[str], name: str = "") -> np.ndarray:
    """Rules, then the cascade (the second stage's embeddings cached on disk between runs)."""
    s, escalated = _RUNTIME.injection_cascade_scores(texts, _embed)
    if name:
        ESCALATED[name] = float(np.mean(escalated))
    rules = np.array([bool(match_rules(t)) for t in texts])
    return np.where(rules, 1.0, s)


BEFORE: Path | None = None  # --before DIR: a previous injection cascade scored in the same run


def before_scorer(directory: Path):  # type: ignore[no-untyped-def]
    """Scores of a previous injection cascade whose files (``injection_cascade.json``, the
    fast ``.npz`` and the second stage's ``.npz``, named in ``before.json`` or by their
    shipped names at 8284485) sit in ``directory``: rules, then its cascade, as the gateway
    scored them then. Lets the bench put the previous model beside the new one in one run."""
    from portico.guards.cascade import CascadeConfig
    from portico.guards.embedding_classifier import EmbeddingTextClassifier

    names = {"fast": "injection_v4.npz", "second": "injection_v3.npz"}
    if (directory / "before.json").exists():
        names.update(json.loads((directory / "before.json").read_text(encoding="utf-8")))
    fast = LinearTextClassifier(directory / names["fast"])
    second = EmbeddingTextClassifier(directory / names["second"])
    cascade = CascadeConfig(json.loads((directory / "injection_cascade.json").read_text(encoding="utf-8")))

    def score(texts: list[str]) -> np.ndarray:
        f = fast.scores(texts)
        esc = cascade.escalates(f)
        out = f.copy()
        idx = np.flatnonzero(esc)
        if len(idx):
            chosen = [texts[i] for i in idx]
            out[idx] = cascade.final(f[idx], second.scores(chosen, _embed(second.views(chosen))))
        rules = np.array([bool(match_rules(t)) for t in texts])
        return np.where(rules, 1.0, out[:, 0])

    score.flag = cascade.thresholds["injection"]  # type: ignore[attr-defined]
    score.block = cascade.block_thresholds["injection"]  # type: ignore[attr-defined]
    score.name = f"{fast.version} -> {second.version}"  # type: ignore[attr-defined]
    return score


def recall_at_fpr(scores: np.ndarray, y: np.ndarray, max_fpr: float) -> tuple[float, float]:
    neg = np.sort(scores[y == 0])[::-1]
    k = int(np.floor(max_fpr * len(neg)))
    thr = neg[k] + 1e-9 if k < len(neg) else 0.0
    return float(np.mean(scores[y == 1] >= thr)), float(np.mean(scores[y == 0] >= thr))


def bench_injection() -> dict[str, float]:
    import benign_sources

    model = LinearTextClassifier(INJECTION_MODEL)
    cascade = _RUNTIME.injection_cascade
    thr, block = cascade.thresholds["injection"], cascade.block_thresholds["injection"]
    rows = read_csv(DATA / "injection_slabs/test.csv")
    st, sy = [r["text"] for r in rows], np.array([int(r["label"]) for r in rows])
    ss = injection_scores(st)
    fast = model.scores(st)[:, 0]
    for label, mask in (("s-labs test attacks", sy == 1), ("s-labs test benign", sy == 0)):
        ESCALATED[label] = float(np.mean(fast[mask] >= cascade.escalate))
    rec1, fpr1 = recall_at_fpr(ss, sy, 0.01)
    nc = [json.loads(line) for line in (DATA / "injection_neuralchemy/test.jsonl").open(encoding="utf-8")]
    nt, ny = [r["text"] for r in nc], np.array([int(r["label"]) for r in nc])
    ns = injection_scores(nt)
    nfast = model.scores(nt)[:, 0]
    for label, mask in (("neuralchemy test attacks", ny == 1), ("neuralchemy test benign", ny == 0)):
        ESCALATED[label] = float(np.mean(nfast[mask] >= cascade.escalate))
    xs = read_csv(DATA / "xstest_prompts.csv")
    safe = [r["prompt"] for r in xs if r["label"] == "safe"]
    xss = injection_scores(safe, "xstest safe")
    table = Table(
        title=f"Prompt injection (cascade {model.version} -> {_RUNTIME.injection_second_stage.version}, "
        f"rule {cascade.rule}, escalation at {cascade.escalate:.3f}; flag threshold {thr:.3f} from s-labs "
        f"validation, block threshold {block:.3f} from the calibration sources)"
    )
    for c in ("set", "n", "recall", "FPR", "note"):
        table.add_column(c)
    table.add_row(
        "s-labs test", str(len(st)), f"{rec1:.3f}", f"{fpr1:.4f}", "threshold at <= 1% FPR on test (ROC point)"
    )
    for name, cut in (("flag", thr), ("block", block)):
        table.add_row(
            "s-labs test",
            str(len(st)),
            f"{np.mean(ss[sy == 1] >= cut):.3f}",
            f"{np.mean(ss[sy == 0] >= cut):.4f}",
            f"{name} threshold",
        )
    nrec = float(np.mean(ns[ny == 1] >= thr))
    for name, cut in (("flag", thr), ("block", block)):
        table.add_row(
            "neuralchemy test",
            str(len(nt)),
            f"{np.mean(ns[ny == 1] >= cut):.3f}",
            f"{np.mean(ns[ny == 0] >= cut):.4f}",
            f"cross-dataset, {name} threshold",
        )
    nrec1, nfpr1 = recall_at_fpr(ns, ny, 0.01)
    table.add_row(
        "neuralchemy test", str(len(nt)), f"{nrec1:.3f}", f"{nfpr1:.4f}", "threshold at <= 1% FPR (ROC point)"
    )
    xfpr = float(np.mean(xss >= thr))
    table.add_row("XSTest safe", str(len(safe)), "", f"{xfpr:.4f}", "flag threshold, rules included")
    before = before_scorer(BEFORE) if BEFORE is not None else None
    if before is not None:
        bs, bn = before(st), before(nt)
        brec1, bfpr1 = recall_at_fpr(bs, sy, 0.01)
        note = f"before ({before.name}, cuts {before.flag:.3f} / {before.block:.3f}), same run"
        table.add_row("s-labs test", str(len(st)), f"{brec1:.3f}", f"{bfpr1:.4f}", f"{note}: ROC point")
        for name, cut in (("flag", before.flag), ("block", before.block)):
            table.add_row(
                "s-labs test",
                str(len(st)),
                f"{np.mean(bs[sy == 1] >= cut):.3f}",
                f"{np.mean(bs[sy == 0] >= cut):.4f}",
                f"{note}: {name}",
            )
            table.add_row(
                "neuralchemy test",
                str(len(nt)),
                f"{np.mean(bn[ny == 1] >= cut):.3f}",
                f"{np.mean(bn[ny == 0] >= cut):.4f}",
                f"{note}: {name}",
            )
        bx = before(safe)
        table.add_row("XSTest safe", str(len(safe)), "", f"{np.mean(bx >= before.flag):.4f}", f"{note}: flag")
    console.print(table)
    cats = Counter(r["category"] for r, s in zip(nc, ns, strict=True) if r["label"] == 1 and s < thr)
    console.print(f"neuralchemy misses (flag threshold) by category: {dict(cats.most_common(8))}")

    benign = Table(title="Benign text by source: share flagged (rules + classifier)")
    for c in (
        "group",
        "source",
        "n",
        "escalated",
        "flagged @flag",
        "flagged @block",
        "v4 @block",
        "v3 @block",
        *(("before @flag", "before @block") if before is not None else ()),
    ):
        benign.add_column(c)
    heldout: dict[str, float] = {}
    out: dict[str, float] = {}
    groups = (
        ("train", benign_sources.TRAIN_SOURCES),
        ("calibration", benign_sources.CALIBRATION_SOURCES),
        ("held out", benign_sources.HELDOUT_SOURCES),
    )
    for group, sources in groups:
        for name, texts in benign_sources.load(sources, DATA.parent).items():
            scores = injection_scores(texts, name)
            at_flag, at_block = float(np.mean(scores >= thr)), float(np.mean(scores >= block))
            extra = []
            if before is not None:
                b = before(texts)
                extra = [f"{np.mean(b >= before.flag):.4f}", f"{np.mean(b >= before.block):.4f}"]
                out[f"before_benign_{name}_fpr_block"] = float(np.mean(b >= before.block))
            benign.add_row(
                group,
                name,
                str(len(texts)),
                f"{ESCALATED[name]:.4f}",
                f"{at_flag:.4f}",
                f"{at_block:.4f}",
                f"{V4_BENIGN.get(name, float('nan')):.4f}",
                f"{BASELINE_BENIGN.get(name, float('nan')):.4f}",
                *extra,
            )
            out[f"benign_{name}_fpr_block"] = at_block
            if group == "held out":
                heldout[name] = at_block
    console.print(benign)
    console.print("share escalated to the second stage: " + ", ".join(f"{k} {v:.4f}" for k, v in ESCALATED.items()))
    return {
        "injection_recall_at_1pct_fpr": rec1,
        "injection_cross_recall": nrec,
        "injection_recall_at_block": float(np.mean(ss[sy == 1] >= block)),
        "injection_cross_recall_at_block": float(np.mean(ns[ny == 1] >= block)),
        "xstest_safe_fpr": xfpr,
        "heldout_benign_fpr": max(heldout.values()),
        "heldout_benign_fpr_mean": float(np.mean(list(heldout.values()))),
        **out,
    }


def bench_content() -> dict[str, float]:
    """Content: the cascade (content_v4, content_v3 on the uncertain band, mean per label),
    5-fold cross-validated on the content corpus by retraining both models per fold; the
    band's width (the band rule of scripts/eval_content_cascade.py), its cuts and the
    thresholds are set inside each outer training set from 3 inner folds' out-of-fold scores.
    v4 and v3 alone under the same protocol are printed beside it. HarmBench and XSTest
    are scored by the shipped cascade at its shipped thresholds."""
    import eval_content_cascade as ev

    settings = ["v4", "v3", "rule"]
    cv = ev.run(settings, verbose=False)
    keeps = [cv["rule"].get(f"keep_fold{i}", float("nan")) for i in range(5)]
    table = Table(title=f"Content, nested 5-fold CV on openai_moderation_1680 (cascade band rule, keeps {keeps})")
    for c in ("figure", *settings):
        table.add_column(c)
    for k in cv["v4"]:
        table.add_row(k, *(f"{cv[s][k]:.4f}" for s in settings))
    console.print(table)
    thresholds = _RUNTIME.content_cascade.thresholds
    labels = _RUNTIME.content_model.labels
    cut = np.array([thresholds[lab] for lab in labels])
    harm = [r["Behavior"] for r in read_csv(DATA / "harmbench_text_all.csv")]
    hs, h_esc = _RUNTIME.content_cascade_scores(harm, _embed)
    safe = [r["prompt"] for r in read_csv(DATA / "xstest_prompts.csv") if r["label"] == "safe"]
    xs, x_esc = _RUNTIME.content_cascade_scores(safe, _embed)
    harm_recall = float(np.mean((hs >= cut).any(axis=1)))
    content_xfpr = float(np.mean((xs >= cut).any(axis=1)))
    console.print(
        f"Shipped cascade: HarmBench recall (any category) {harm_recall:.3f} of {len(harm)} (escalated "
        f"{np.mean(h_esc):.3f}); XSTest safe FPR (content) {content_xfpr:.3f} (escalated {np.mean(x_esc):.3f})"
    )
    return {
        "content_macro_f1": cv["rule"]["content_macro_f1"],
        "harmbench_recall": harm_recall,
        "content_xstest_fpr": content_xfpr,
    }


def bench_roundtrip(seed: int = 0) -> dict[str, float]:
    """Pseudonymize PII test sentences, let a fake model repeat them, stream the answer in
    random pieces and check every placeholder comes back as the original value."""
    samples = json.loads((DATA / "presidio_synth_v2.json").read_text(encoding="utf-8"))
    detector = PiiDetector(GuardRuntime().analyzer)
    rng = random.Random(seed)
    ok = total = 0
    for x in samples[:300]:
        text = x["full_text"]
        entities = detector.detect(text)
        if not entities:
            continue
        vault = PseudonymVault()
        masked = rewrite(text, entities, lambda e, v, vault=vault: vault.placeholder(e.type, v))
        answer = f"You wrote: {masked} Done."
        restorer, out, i = vault.streamer(), [], 0
        while i < len(answer):
            step = rng.randint(1, 8)
            out.append(restorer.feed(answer[i : i + step]))
            i += step
        out.append(restorer.flush())
        total += 1
        ok += "".join(out) == f"You wrote: {text} Done."
    share = ok / max(total, 1)
    console.print(f"Pseudonymization round trip through random 1-8 char chunks: {ok}/{total} answers fully restored")
    return {"pseudonym_roundtrip": share}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["pii", "injection", "content"], help="one part (no RESULT line)")
    parser.add_argument(
        "--before",
        type=Path,
        help="a directory with a previous injection cascade's files, scored beside the shipped one in the same run",
    )
    args = parser.parse_args()
    only = args.only
    global BEFORE
    BEFORE = args.before
    if not DATA.exists():
        sys.exit(f"no data at {DATA}: set PORTICO_SHARED_DATA")
    res: dict[str, float] = {}
    if only in (None, "pii"):
        pii = bench_pii()
        res["pii_f1"] = pii["portico_test_f1"]
        res["presidio_baseline_f1"] = pii["presidio_test_f1"]
        res["pii_f1_dev"] = pii["portico_dev_f1"]
    if only in (None, "injection"):
        res.update(bench_injection())
    if only in (None, "content"):
        res.update(bench_content())
    if only is None:
        res.update(bench_roundtrip())
    table = Table(
        title="Headline figures: now beside the previous cascade (v4 -> v3, 8284485), injection_v4 alone "
        "and v3 (injection_v3 / content_v3)"
    )
    for c in ("figure", "now", "previous cascade", "v4 alone", "v3"):
        table.add_column(c)
    for k, before in BASELINE.items():
        if k in res:
            v4, prev = V4_ALONE.get(k), PREVIOUS_CASCADE.get(k)
            table.add_row(
                k,
                f"{res[k]:.4f}",
                "" if prev is None else f"{prev:.4f}",
                "" if v4 is None else f"{v4:.4f}",
                f"{before:.4f}",
            )
    console.print(table)
    if only is not None:
        return
    keys = [
        "pii_f1",
        "presidio_baseline_f1",
        "injection_recall_at_1pct_fpr",
        "injection_cross_recall",
        "heldout_benign_fpr",
        "heldout_benign_fpr_mean",
        "injection_recall_at_block",
        "injection_cross_recall_at_block",
        "xstest_safe_fpr",
        "content_macro_f1",
        "harmbench_recall",
        "content_xstest_fpr",
        "pseudonym_roundtrip",
        "pii_f1_dev",
    ]
    print("RESULT " + " ".join(f"{k}={res[k]:.4f}" for k in keys))


if __name__ == "__main__":
    main()
