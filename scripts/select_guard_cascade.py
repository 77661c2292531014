"""Set the injection cascade's cuts and choose its combining rule, on s-labs *validation*
(out-of-fold scores) and the *calibration* benign sources only.

    PORTICO_SHARED_DATA=../shared/data .venv/bin/python scripts/select_guard_cascade.py

Both shipped models were fitted on s-labs validation too, so their validation scores here
are out-of-fold: each row scored by a model refitted (same recipe) without its fold:
injection_v5 with this repository's scripts/train_guards.py, injection_v5m with
scripts/train_guard_second_stage.py's recipe (injection_v3's at fac46d4: C 0.5, benign
weight 0.5, char_wb n-grams, MiniLM int8 of the 600-char head+tail view; embeddings from
the disk cache). The calibration sources (ARC, Winogrande, Banking77 and the calibration
part of the authored instruction corpus) are scored by the shipped models (never trained
on them). Then:
- escalation cut: the v4 score above which ESCALATE_KEEP of the validation attacks lie;
- for each rule in RULES, the cascade score (v4 below the escalation cut, the rule above),
  its flag cut (<= 1% FPR on validation) and block cut (<= 1% of each calibration source,
  at least the flag cut), and validation recall at both;
- the rule with the highest validation recall at the block cut is written into the
  cascade's artifact (``data/injection_cascade.json``).
Test splits and the held-out sources (MT-Bench, MBPP, SQuAD) are read by nothing here.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import benign_sources  # noqa: E402
import train_guards as tg  # noqa: E402

from portico.embeddings import MiniLMEmbedder  # noqa: E402
from portico.embeddings.disk_cache import cache_path, embed_with_disk_cache  # noqa: E402
from portico.guards.cascade import CASCADE_CONFIG, RULES, combine  # noqa: E402
from portico.guards.classifier import INJECTION_MODEL, LinearTextClassifier  # noqa: E402
from portico.guards.embedding_classifier import (  # noqa: E402
    INJECTION_EMBEDDING_MODEL,
    EmbeddingTextClassifier,
    char_wb_vectorizer,
    head_tail,
)

DATA = Path(os.environ.get("PORTICO_SHARED_DATA", ROOT.parent / "shared" / "data"))
CACHE = Path("/tmp/portico-cache")
ESCALATE_KEEP = 0.995  # share of validation attacks the fast path must send to the second stage
V3_VIEW, V3_C, V3_EXTRA_WEIGHT = 600, 0.5, 0.5
_SEEN: dict[str, np.ndarray] = {}


def embed_cached(embedder: MiniLMEmbedder, texts: list[str]) -> np.ndarray:
    """fac46d4's ``embed_cached``: same views, same disk-cache keys, so the vectors it stored are found."""
    views = [head_tail(t, V3_VIEW) for t in texts]
    missing = list(dict.fromkeys(v for v in views if v not in _SEEN))
    if len(missing) == len(set(views)):
        missing = views
    if missing:
        for view, vec in zip(missing, embed_with_disk_cache(embedder, missing, CACHE), strict=True):
            _SEEN[view] = vec
    out = np.stack([_SEEN[v] for v in views]) if views else np.zeros((0, 384), dtype=np.float32)
    whole = cache_path(embedder, views, CACHE)
    if not whole.exists():
        np.save(whole, out)
    return out


def _validation_setup() -> tuple[list[str], np.ndarray, int, list[str], np.ndarray, list[str], list]:
    t1, y1 = tg.read_slabs(DATA / "safety/injection_slabs/train.csv")
    t2, y2 = tg.with_contrast(*tg.read_neuralchemy(DATA / "safety/injection_neuralchemy/train.jsonl"))
    extra = tg.benign_training_text(DATA)
    vt, vy = tg.read_slabs(DATA / "safety/injection_slabs/validation.csv")
    base_t = t1 + t2 + extra
    base_y = np.concatenate([y1, y2, np.zeros(len(extra), dtype=int)])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(vt, vy))
    return base_t, base_y, len(t1) + len(t2), vt, vy, extra, folds


def oof_v4() -> np.ndarray:
    """Out-of-fold fast-model scores of the s-labs validation rows (cached on disk)."""
    path = CACHE / f"cascade_oof_v5_w{tg.AUTHORED_WEIGHT}_c{int(tg.CONTRAST)}.npz"
    if path.exists():
        with np.load(path) as d:
            return np.asarray(d["v4"])
    base_t, base_y, n_inj, vt, vy, extra, folds = _validation_setup()
    tokens = tg.TokenSpace(tg.distilled_token_vectors(), base_t, tg.PRIOR_TOKENS)
    base_e, val_e = tokens.features(base_t), tokens.features(vt)
    vec = tg.char_vectorizer(tg.INJ_FEATURES, tg.INJ_NGRAM)
    w4 = np.concatenate([np.ones(n_inj), tg.extra_weights(len(extra), tg.EXTRA_WEIGHT)])
    v4 = np.zeros(len(vt))
    for keep, held in folds:
        transformer, chars = tg.fit_features(base_t + [vt[i] for i in keep], tg.INJ_FEATURES, tg.INJ_NGRAM)
        model = tg._fit_injection(
            tg.design(chars, np.vstack([base_e, val_e[keep]])),
            np.concatenate([base_y, vy[keep]]),
            np.concatenate([w4, np.ones(len(keep))]),
        )
        held_chars = transformer.transform(vec.transform([vt[i] for i in held]))
        v4[held] = model.predict_proba(tg.design(held_chars, val_e[held]))[:, 1]
        print(f"v4 fold done, {len(held)} rows", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, v4=v4)
    return v4


def oof_scores() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold fast and second-stage scores of the s-labs validation rows, and their
    labels. Each fold's model is fitted from scratch (a warm start from the shipped
    weights stops lbfgs after 3 iterations, near the model that saw the held fold)."""
    path = CACHE / f"cascade_oof_v5m_w{tg.AUTHORED_WEIGHT}_c{int(tg.CONTRAST)}.npz"
    v4 = oof_v4()
    base_t, base_y, n_inj, vt, vy, extra, folds = _validation_setup()
    if path.exists():
        with np.load(path) as d:
            return v4, d["v3"], vy
    embedder = MiniLMEmbedder(quantized=True)
    base_m, val_m = embed_cached(embedder, base_t), embed_cached(embedder, vt)
    vec3 = char_wb_vectorizer(tg.INJ_FEATURES, tg.INJ_NGRAM)
    w3 = np.concatenate([np.ones(n_inj), tg.extra_weights(len(extra), V3_EXTRA_WEIGHT)])
    v3 = np.zeros(len(vt))
    for keep, held in folds:
        counts = vec3.transform(base_t + [vt[i] for i in keep])
        transformer = TfidfTransformer(sublinear_tf=True).fit(counts)
        model = LogisticRegression(C=V3_C, max_iter=3000, class_weight="balanced")
        model.fit(
            tg.design(transformer.transform(counts), np.vstack([base_m, val_m[keep]])),
            np.concatenate([base_y, vy[keep]]),
            sample_weight=np.concatenate([w3, np.ones(len(keep))]),
        )
        held_chars = transformer.transform(vec3.transform([vt[i] for i in held]))
        v3[held] = model.predict_proba(tg.design(held_chars, val_m[held]))[:, 1]
        print(f"v3 fold done, {len(held)} rows, {model.n_iter_[0]} iterations", flush=True)
    np.savez(path, v3=v3)
    return v4, v3, vy


def calibration_scores() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Shipped v4 and v3 scores of each calibration source."""
    fast, slow = LinearTextClassifier(INJECTION_MODEL), EmbeddingTextClassifier(INJECTION_EMBEDDING_MODEL)
    embedder = MiniLMEmbedder(quantized=True)
    out = {}
    for name, texts in benign_sources.load(benign_sources.CALIBRATION_SOURCES, DATA).items():
        emb = embed_with_disk_cache(embedder, slow.views(texts), CACHE)
        out[name] = (fast.scores(texts)[:, 0], slow.scores(texts, emb)[:, 0])
    return out


def main() -> None:
    v4, v3, y = oof_scores()
    calibration = calibration_scores()
    escalate = float(np.quantile(v4[y == 1], 1.0 - ESCALATE_KEEP, method="lower"))
    print(
        f"escalation cut {escalate:.4f}: validation attacks escalated {np.mean(v4[y == 1] >= escalate):.4f}, "
        f"validation benign escalated {np.mean(v4[y == 0] >= escalate):.4f}"
    )
    for name, (f, _) in calibration.items():
        print(f"  calibration {name}: escalated {np.mean(f >= escalate):.4f}")
    best: tuple[float, str, float, float] | None = None
    for rule in RULES:
        val = np.where(v4 >= escalate, combine(rule, v4, v3), v4)
        flag = tg.threshold_at_fpr(val, y, 0.01)
        block = flag
        cuts = []
        for name, (f, s) in calibration.items():
            c = np.where(f >= escalate, combine(rule, f, s), f)
            cut = float(np.sort(c)[::-1][int(np.floor(tg.BLOCK_FPR * len(c)))] + 1e-6)
            cuts.append(f"{name} {np.mean(c >= flag):.4f}@flag")
            block = max(block, cut)
        rec_flag, rec_block = float(np.mean(val[y == 1] >= flag)), float(np.mean(val[y == 1] >= block))
        print(
            f"rule {rule}: flag {flag:.4f} (recall {rec_flag:.4f}, fpr {np.mean(val[y == 0] >= flag):.4f}), "
            f"block {block:.4f} (recall {rec_block:.4f}); {', '.join(cuts)}"
        )
        if best is None or rec_block > best[0]:
            best = (rec_block, rule, flag, block)
    for name, f in (("v4 alone", v4), ("v3 alone", v3)):
        thr = tg.threshold_at_fpr(f, y, 0.01)
        print(f"{name}: validation oof recall at 1% FPR {np.mean(f[y == 1] >= thr):.4f}")
    assert best is not None
    _, rule, flag, block = best
    val = np.where(v4 >= escalate, combine(rule, v4, v3), v4)
    # for `portico guard fit`: validation recall (out-of-fold) at cuts 0.30, 0.31, ... 0.99
    curve = [[round(float(c), 2), round(float(np.mean(val[y == 1] >= c)), 4)] for c in np.arange(0.30, 0.995, 0.01)]
    config = {
        "escalate": escalate,
        "rule": rule,
        "thresholds": {"injection": flag},
        "block_thresholds": {"injection": block},
        "escalate_from": f"{ESCALATE_KEEP:.1%} of s-labs validation attacks (out-of-fold v4 scores) at or above",
        "rule_from": "highest s-labs validation recall (out-of-fold) at the block cut among " + ", ".join(RULES),
        "threshold_from": "s-labs validation, out-of-fold cascade scores, 1% FPR",
        "block_threshold_from": f"<= {tg.BLOCK_FPR:.0%} of each of {', '.join(benign_sources.CALIBRATION_SOURCES)}",
        "recall_curve": curve,
        "recall_curve_from": "s-labs validation attacks, out-of-fold cascade scores, share at or above each cut",
    }
    CASCADE_CONFIG.write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CASCADE_CONFIG}: {config}")


if __name__ == "__main__":
    main()
