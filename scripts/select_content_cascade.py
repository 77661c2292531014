"""Write ``guards/data/content_cascade.json``: the content cascade's band width, per-label
escalation cuts and thresholds, from 5-fold out-of-fold scores of both models (content_v4's
recipe, content_v3's recipe from fac46d4) on the content training corpus only.

Band width (``keep``): the band rule of ``scripts/eval_content_cascade.py`` (``choose_keep``),
fixed before it was run: among keep 0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, the one whose
out-of-fold cascade escalates the fewest benign training rows while its out-of-fold macro F1
on the moderation rows is within 0.01 of the best keep's. The same rule, applied inside each
outer training fold, is what the nested CV of ``eval_content_cascade.py`` measures.
Cut per label: the lower (1 - keep) order statistic of that label's positives' out-of-fold
v4 scores. Thresholds: train_guards.py's rule (F1-max over linspace(0.2, 0.95, 31)) on the
out-of-fold cascade scores."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import eval_content_cascade as ev  # noqa: E402
import train_guards as tg  # noqa: E402

from portico.guards.cascade import CONTENT_CASCADE_CONFIG  # noqa: E402
from portico.guards.classifier import CONTENT_MODEL, LinearTextClassifier  # noqa: E402

DATA = Path(os.environ.get("PORTICO_SHARED_DATA", "/work/shared/data"))


def report(o4: np.ndarray, o3: np.ndarray, y: np.ndarray, moderation: np.ndarray) -> None:
    """For each keep level: the shipped models' XSTest-safe / HarmBench flag rates and the
    speed bench's prompts' escalation under the cuts and thresholds that level would ship.
    Reported only; the level is not chosen here."""
    import csv
    import random

    sys.path.insert(0, str(ROOT / "bench"))
    import guards_speed

    from portico.guards.embedding_classifier import CONTENT_EMBEDDING_MODEL, EmbeddingTextClassifier

    fast, second = LinearTextClassifier(CONTENT_MODEL), EmbeddingTextClassifier(CONTENT_EMBEDDING_MODEL)
    safe = [r["prompt"] for r in csv.DictReader((DATA / "safety/xstest_prompts.csv").open()) if r["label"] == "safe"]
    harm = [r["Behavior"] for r in csv.DictReader((DATA / "safety/harmbench_text_all.csv").open())]
    count, rng = guards_speed.token_counter(), random.Random(0)
    speed = [guards_speed.prompt(s, count, rng) for s in (50, 300, 2000)]
    for keep in ev.KEEPS:
        cut = ev.cuts(o4, y, keep)
        oc, esc = ev.cascade(o4, o3, cut)
        thr = np.array([ev.best_thr(oc[:, j], y[:, j]) for j in range(len(ev.LABELS))])
        f1s = [ev.f1(oc[moderation, j] >= thr[j], y[moderation, j]) for j in range(len(ev.LABELS))]
        line = [f"keep {keep}: oof F1 {np.mean(f1s):.4f}, benign corpus escalated {esc[~moderation].mean():.3f}"]
        for name, texts in (("xstest_safe", safe), ("harmbench", harm), ("speed 50/300/2000", speed)):
            f = fast.scores(texts)
            sc, e = ev.cascade(f, second.scores(texts, ev.embed(texts)), cut)
            line.append(f"{name} flagged {(sc >= thr).any(axis=1).mean():.4f} escalated {e.mean():.3f}")
            if name.startswith("speed"):
                line.append(f"speed escalated {e.astype(int).tolist()}")
        print("; ".join(line), flush=True)


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    texts, y, moderation = tg.content_corpus(DATA)
    prior = float(LinearTextClassifier(CONTENT_MODEL).meta["prior_tokens"])
    tok = tg.TokenSpace(tg.distilled_token_vectors(), texts, prior).features(texts)
    emb = ev.embed(texts)
    feats = ev.Feats(np.arange(len(texts)), texts, tok, emb)
    x4, x3 = feats.x4(texts, tok), feats.x3(texts, emb)
    o4, o3 = np.zeros(y.shape), np.zeros(y.shape)
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, y.any(axis=1) * 1 + moderation * 2):
        (o4[te],) = ev.all_labels(x4[tr], y[tr], [x4[te]])
        (o3[te],) = ev.all_labels(x3[tr], y[tr], [x3[te]])
    report(o4, o3, y, moderation)
    table = ev.keep_table(o4, o3, y, moderation)
    keep = ev.choose_keep(table)
    print(f"band rule (keep, oof macro F1, benign escalated): {np.round(table, 4).tolist()} -> keep {keep}")
    cut = ev.cuts(o4, y, keep)
    oc, esc = ev.cascade(o4, o3, cut)
    thr = [ev.best_thr(oc[:, j], y[:, j]) for j in range(len(ev.LABELS))]
    f1s = [ev.f1(oc[moderation, j] >= thr[j], y[moderation, j]) for j in range(len(ev.LABELS))]
    print(
        f"cuts {np.round(cut, 4)}, escalated {esc.mean():.3f} (benign {esc[~moderation].mean():.3f}), thresholds {thr}"
    )
    print(f"oof macro F1 on moderation rows {np.mean(f1s):.4f}")
    config = {
        "labels": ev.LABELS,
        "escalate": {k: round(float(c), 6) for k, c in zip(ev.LABELS, cut, strict=True)},
        "rule": "mean",
        "thresholds": {k: round(t, 4) for k, t in zip(ev.LABELS, thr, strict=True)},
        "fast": "content_v4",
        "second": "content_v3",
        "keep": keep,
        "keep_from": (
            f"the band rule: cheapest of keep {list(ev.KEEPS)} (benign training rows escalated) within "
            f"{ev.TOLERANCE} 5-fold out-of-fold macro F1 of the best"
        ),
        "escalate_from": (
            f"lower {1 - keep:.0%} order statistic of each label's positives' 5-fold out-of-fold content_v4 scores"
        ),
        "threshold_from": "5-fold out-of-fold cascade scores, F1-max (train_guards.py's rule)",
    }
    CONTENT_CASCADE_CONFIG.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {CONTENT_CASCADE_CONFIG}")


if __name__ == "__main__":
    main()
