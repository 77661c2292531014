"""Honest 5-fold CV of a content cascade (content_v4 fast path, content_v3 MiniLM second
stage on the uncertain band, final = mean per label), beside v4 alone and v3 alone.

Outer folds are bench/guards_quality.py bench_content's (random_state=1). Inside each outer
training set, 3 inner folds give out-of-fold v4 / v3 scores; from those only: the band's
width (``keep``, by the rule below), the per-label escalation cut (the lower ``1 - keep``
order statistic of that label's positives' inner out-of-fold v4 scores) and the per-label
thresholds (train_guards.py's rule: F1-max over linspace(0.2, 0.95, 31)), for the cascade
and for each model alone. The outer test fold is scored once by models fitted on the whole
outer training set. XSTest safe / HarmBench / benign sources are scored by each outer
fold's models; rates are averaged over the 5 folds.

The band rule (``choose_keep``; written down on 2026-12-08 before any run of it, and
applied to training-fold scores only, here and in ``select_content_cascade.py``):

- candidates: keep in ``KEEPS`` = 0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5;
- quality of a candidate: macro F1 on the moderation rows of the out-of-fold cascade scores
  under that candidate's cuts, thresholds set on the same out-of-fold scores;
- cost of a candidate: the share of the training folds' benign rows (the rows outside the
  moderation set: the injection sets' benign prompts, the benign training sources, the
  templates) whose out-of-fold v4 scores reach a cut, i.e. that would pay for MiniLM;
- choice: the cheapest candidate whose quality is within ``TOLERANCE`` = 0.01 of the best
  candidate's (ties in cost: the higher quality, then the larger keep).

Why this rule: the band exists to buy content_v3's quality at a fraction of its cost, so
the smallest band that gives away no measurable quality is the one wanted; 0.01 macro F1
is the resolution the project reports macro F1 at. The tolerance and the grid were fixed
with the earlier nested table in view (keep 0.7-0.99 within 0.560-0.569), so they are not
blind to it; the rule never sees an outer test fold.

``main`` prints every fixed keep, v4, v3, ``inner`` (the earlier rule: best inner macro F1,
reported only) and ``rule`` (the band rule above, the figure the bench reports)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
import benign_sources  # noqa: E402
import train_guards as tg  # noqa: E402

from portico.embeddings import MiniLMEmbedder  # noqa: E402
from portico.embeddings.disk_cache import embed_with_disk_cache  # noqa: E402
from portico.guards.classifier import CONTENT_MODEL, LinearTextClassifier, char_vectorizer  # noqa: E402
from portico.guards.embedding_classifier import char_wb_vectorizer, head_tail  # noqa: E402

DATA = Path(os.environ.get("PORTICO_SHARED_DATA", "/work/shared/data"))
CACHE = Path("/tmp/portico-cache")
KEEPS = (0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5)
TOLERANCE = 0.01  # macro F1 a cheaper band may give away (the band rule, above)
GRID = np.linspace(0.2, 0.95, 31)
LABELS = list(tg.CONTENT_LABELS)
EMB = MiniLMEmbedder(quantized=True)
# One process by default (the machine is shared); the fits are deterministic either way.
JOBS = int(os.environ.get("PORTICO_JOBS", "1"))


def embed(texts: list[str]) -> np.ndarray:
    return np.asarray(embed_with_disk_cache(EMB, [head_tail(t, 600) for t in texts], CACHE), dtype=np.float32)


def f1(pred: np.ndarray, y: np.ndarray) -> float:
    tp = float(np.sum(pred & (y == 1)))
    return 2 * tp / max(float(pred.sum() + y.sum()), 1.0)


def best_thr(s: np.ndarray, y: np.ndarray) -> float:
    return float(GRID[int(np.argmax([f1(s >= t, y) for t in GRID]))])


def fit_score(x_tr: sparse.csr_matrix, y_tr: np.ndarray, xs: list[sparse.csr_matrix]) -> list[np.ndarray]:
    m = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(x_tr, y_tr)
    return [m.predict_proba(x)[:, 1] for x in xs]


class Feats:
    """Both models' design matrices, tf-idf fitted on ``fit_texts``."""

    def __init__(self, fit_texts_idx: np.ndarray, texts: list[str], tok: np.ndarray, emb: np.ndarray) -> None:
        self.c4 = char_vectorizer(tg.CONTENT_FEATURES, tg.CONTENT_NGRAM)
        self.c3 = char_wb_vectorizer(131072, (2, 5))
        sub = [texts[i] for i in fit_texts_idx]
        self.t4 = TfidfTransformer(sublinear_tf=True).fit(self.c4.transform(sub))
        self.t3 = TfidfTransformer(sublinear_tf=True).fit(self.c3.transform(sub))

    def x4(self, texts: list[str], tok: np.ndarray) -> sparse.csr_matrix:
        return tg.design(self.t4.transform(self.c4.transform(texts)), tok)

    def x3(self, texts: list[str], emb: np.ndarray) -> sparse.csr_matrix:
        return tg.design(self.t3.transform(self.c3.transform(texts)), emb)


def all_labels(x_tr: sparse.csr_matrix, y_tr: np.ndarray, xs: list[sparse.csr_matrix]) -> list[np.ndarray]:
    res = Parallel(n_jobs=JOBS)(delayed(fit_score)(x_tr, y_tr[:, j], xs) for j in range(len(LABELS)))
    return [np.stack([r[i] for r in res], axis=1) for i in range(len(xs))]


def cascade(s4: np.ndarray, s3: np.ndarray, cut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    esc = (s4 >= cut).any(axis=1)
    return np.where(esc[:, None], (s4 + s3) / 2, s4), esc


def cuts(o4: np.ndarray, ytr: np.ndarray, keep: float) -> np.ndarray:
    return np.array([np.quantile(o4[ytr[:, j] == 1, j], 1 - keep, method="lower") for j in range(len(LABELS))])


def keep_table(o4: np.ndarray, o3: np.ndarray, ytr: np.ndarray, mtr: np.ndarray) -> list[tuple[float, float, float]]:
    """(keep, quality, cost) per candidate on out-of-fold training scores: quality is the
    moderation rows' macro F1 with thresholds set on the same scores, cost the share of
    benign (non-moderation) rows that escalate."""
    rows = []
    for keep in KEEPS:
        oc, esc = cascade(o4, o3, cuts(o4, ytr, keep))
        thr = [best_thr(oc[:, j], ytr[:, j]) for j in range(len(LABELS))]
        quality = float(np.mean([f1(oc[mtr, j] >= thr[j], ytr[mtr, j]) for j in range(len(LABELS))]))
        rows.append((keep, quality, float(esc[~mtr].mean())))
    return rows


def choose_keep(table: list[tuple[float, float, float]]) -> float:
    """The band rule: the cheapest keep whose quality is within TOLERANCE of the best
    (ties in cost: higher quality, then larger keep)."""
    best = max(q for _, q, _ in table)
    eligible = [(cost, -q, -keep) for keep, q, cost in table if q >= best - TOLERANCE - 1e-12]
    return -min(eligible)[2]


def run(settings: list[str], verbose: bool = True) -> dict[str, dict[str, float]]:
    """Figures per setting (v4, v3, keep=<x>, inner, rule)."""
    t0 = time.time()
    texts, y, moderation = tg.content_corpus(DATA)
    n = len(texts)
    prior = float(LinearTextClassifier(CONTENT_MODEL).meta["prior_tokens"])
    space = tg.TokenSpace(tg.distilled_token_vectors(), texts, prior)
    tok = space.features(texts)
    emb = embed(texts)
    # extra sets: xstest safe, harmbench, calibration/held-out benign, the speed bench prompts
    import csv

    import guards_speed

    xs_safe = [r["prompt"] for r in csv.DictReader((DATA / "safety/xstest_prompts.csv").open()) if r["label"] == "safe"]
    harm = [r["Behavior"] for r in csv.DictReader((DATA / "safety/harmbench_text_all.csv").open())]
    extra = {"xstest_safe": xs_safe, "harmbench": harm}
    extra.update(benign_sources.load(benign_sources.CALIBRATION_SOURCES, DATA))
    extra.update(benign_sources.load(benign_sources.HELDOUT_SOURCES, DATA))
    import random

    count, rng = guards_speed.token_counter(), random.Random(0)
    extra["speed_prompts"] = [guards_speed.prompt(s, count, rng) for s in (50, 300, 2000)]
    names = list(extra)
    etexts = [t for k in names for t in extra[k]]
    eidx = np.cumsum([0] + [len(extra[k]) for k in names])
    etok, eemb = space.features(etexts), embed(etexts)
    print(f"setup {time.time() - t0:.0f}s, corpus {n}, extra {len(etexts)}", flush=True)

    # source of each corpus text (content_corpus order)
    _t1, y1 = tg.read_slabs(DATA / "safety/injection_slabs/train.csv")
    _t2, y2 = tg.read_neuralchemy(DATA / "safety/injection_neuralchemy/train.jsonl")
    src = ["moderation"] * int(moderation.sum()) + ["injection_benign"] * int((y1 == 0).sum() + (y2 == 0).sum())
    for k, v in benign_sources.load(benign_sources.TRAIN_SOURCES, DATA).items():
        src += [k] * len(v)
    src += ["templates"] * (n - len(src))
    src_a = np.array(src)

    folds = []
    outer = StratifiedKFold(5, shuffle=True, random_state=1).split(texts, y.any(axis=1) * 1 + moderation * 2)
    for fi, (tr, te) in enumerate(outer):
        feats = Feats(tr, texts, tok, emb)
        trt = [texts[i] for i in tr]
        x4, x3 = feats.x4(trt, tok[tr]), feats.x3(trt, emb[tr])
        ytr = y[tr]
        o4, o3 = np.zeros(ytr.shape), np.zeros(ytr.shape)
        inner = StratifiedKFold(3, shuffle=True, random_state=0).split(trt, ytr.any(axis=1) * 1 + moderation[tr] * 2)
        for itr, ite in inner:
            (o4[ite],) = all_labels(x4[itr], ytr[itr], [x4[ite]])
            (o3[ite],) = all_labels(x3[itr], ytr[itr], [x3[ite]])
        tet = [texts[i] for i in te]
        s4, e4 = all_labels(x4, ytr, [feats.x4(tet, tok[te]), feats.x4(etexts, etok)])
        s3, e3 = all_labels(x3, ytr, [feats.x3(tet, emb[te]), feats.x3(etexts, eemb)])
        folds.append((tr, te, o4, o3, s4, s3, e4, e3))
        print(f"fold {fi} done {time.time() - t0:.0f}s", flush=True)

    def evaluate(setting: str) -> dict[str, float]:
        """setting: v4, v3, keep=<x>, inner (best inner macro F1) or rule (the band rule), both per outer fold."""
        pred = np.zeros(y.shape, dtype=bool)
        escal = np.zeros(n, dtype=bool)
        ext_hits = np.zeros((5, len(etexts)), dtype=bool)
        ext_esc = np.zeros((5, len(etexts)), dtype=bool)
        chosen = []
        for fi, (tr, te, o4, o3, s4, s3, e4, e3) in enumerate(folds):
            ytr, mtr = y[tr], moderation[tr]
            if setting == "v4":
                oc, sc, ec = o4, s4, e4
                esc_te, esc_e = np.zeros(len(te), bool), np.zeros(len(etexts), bool)
            elif setting == "v3":
                oc, sc, ec = o3, s3, e3
                esc_te, esc_e = np.ones(len(te), bool), np.ones(len(etexts), bool)
            else:
                if setting in ("inner", "rule"):
                    table = keep_table(o4, o3, ytr, mtr)
                    if verbose and setting == "rule":
                        print(f"   fold {fi} inner (keep, macro F1, benign escalated): {np.round(table, 4).tolist()}")
                    # inner: the earlier rule (best inner macro F1), reported only
                    keep = choose_keep(table) if setting == "rule" else max(table, key=lambda r: (r[1], r[0]))[0]
                    chosen.append(keep)
                else:
                    keep = float(setting.split("=")[1])
                cut = cuts(o4, ytr, keep)
                oc, _ = cascade(o4, o3, cut)
                sc, esc_te = cascade(s4, s3, cut)
                ec, esc_e = cascade(e4, e3, cut)
            thr = np.array([best_thr(oc[:, j], ytr[:, j]) for j in range(len(LABELS))])
            pred[te] = sc >= thr
            escal[te] = esc_te
            ext_hits[fi] = (ec >= thr).any(axis=1)
            ext_esc[fi] = esc_e
        f1s = [f1(pred[moderation, j], y[moderation, j]) for j in range(len(LABELS))]
        out = {"content_macro_f1": float(np.mean(f1s))}
        out.update({f"keep_fold{i}": k for i, k in enumerate(chosen)})
        for i, name in enumerate(names):
            sl = slice(eidx[i], eidx[i + 1])
            out[f"flagged_{name}"] = float(ext_hits[:, sl].mean())
            out[f"escalated_{name}"] = float(ext_esc[:, sl].mean())
        for s in np.unique(src_a):
            out[f"escalated_{s}"] = float(escal[src_a == s].mean())
        if not verbose:
            return out
        print(f"== {setting}: content_macro_f1 {np.mean(f1s):.4f} per label {np.round(f1s, 3)} chosen keeps {chosen}")
        line = []
        for i, name in enumerate(names):
            sl = slice(eidx[i], eidx[i + 1])
            line.append(f"{name} flag {ext_hits[:, sl].mean():.4f} esc {ext_esc[:, sl].mean():.3f}")
        print("   " + "; ".join(line))
        sp = slice(eidx[names.index("speed_prompts")], eidx[names.index("speed_prompts") + 1])
        print("   speed prompts 50/300/2000 escalated per fold:", ext_esc[:, sp].astype(int).tolist())
        print(
            "   corpus (oof) escalated: "
            + "; ".join(
                f"{s} {escal[src_a == s].mean():.3f} (flag {pred[src_a == s].any(axis=1).mean():.4f})"
                for s in np.unique(src_a)
            )
        )

        return out

    return {setting: evaluate(setting) for setting in settings}


def main() -> None:
    run(["v4", "v3", *(f"keep={k}" for k in KEEPS), "inner", "rule"])


if __name__ == "__main__":
    main()
