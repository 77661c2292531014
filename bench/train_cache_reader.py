"""Train the cache's pair reader (``portico.cache.reader``) on the hand-labelled train pairs.

    .venv/bin/python bench/train_cache_reader.py [--cv]

Reads only the train part of the QQP dev split (bench/_qqp.py) and its hand labels
(bench/data/qqp_train_adjudicated_v1.jsonl: every train pair the judge considers with a
verifier score >= 0.5). The tune and test parts are never read here.

The reader takes the verifier's score as one feature. On train pairs the shipped verifier
is in-sample (it was fitted on them), so its score there is far more confident than on new
pairs; the reader would learn to trust it too much. So the verifier is refitted five times
on four fifths of the train question groups (the same recipe as
bench/train_cache_verifier.py) and each pair gets the score of the fit that never saw it.

``--cv`` prints grouped 5-fold cross-validation on train of the feature and model choices
(the reader against the out-of-fold verifier alone) and writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _qqp
from train_cache_verifier import (
    TRAIN_LABELS,
    confident_labels,
    features_for,
    hand_labels,
    idf_table,
    interactions_for,
    trees,
)

from portico.cache.normalize import normalize_turn
from portico.cache.reader import READER_FEATURES, READER_FILE, TokenEncoder, TokenTable, reader_features
from portico.embeddings.minilm import MiniLMEmbedder, TokenVectors, vocabulary

CACHE = _qqp.VECTOR_CACHE
BAND = (0.5, 1.0)  # the reader's band of verifier scores: where train hand labels exist (floor 0.5)
C = 0.3  # logistic regularisation, chosen by --cv on train
Rows = list[dict[str, Any]]


def oof_verifier(rows: Rows, train: list[int], vecs: dict[str, npt.NDArray[np.float32]]) -> npt.NDArray[np.float64]:
    """Per train pair: the score of a verifier fitted (train_cache_verifier's recipe) without its group."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    key = hashlib.sha256(TRAIN_LABELS.read_bytes() + repr(train[:50]).encode()).hexdigest()[:12]
    path = CACHE / f"reader_oof_verifier_{key}.npy"
    if path.exists():
        out: npt.NDArray[np.float64] = np.load(path)
        return out
    groups = _qqp.question_groups(rows, train)
    y_all, hand_all = hand_labels(rows, train)
    out = np.zeros(len(train))
    for fold, (fit, held) in enumerate(GroupKFold(n_splits=5).split(train, y_all, groups)):
        fit_idx, held_idx = [train[k] for k in fit], [train[k] for k in held]
        rarity = idf_table(rows, fit_idx)
        x_fit, _, _, _ = features_for(rows, fit_idx, vecs, rarity)
        y_fit, hand = y_all[fit], hand_all[fit]
        v_fit = interactions_for(rows, fit_idx, vecs)
        lr = LogisticRegression(C=1.0, max_iter=2000)
        stack = cross_val_predict(lr, v_fit, y_fit, cv=5, method="predict_proba")[:, 1]
        lr.fit(v_fit, y_fit)
        x_full = np.c_[x_fit, stack]
        keep = confident_labels(x_full, y_fit, [groups[k] for k in fit]) | hand
        model = trees().fit(x_full[keep], y_fit[keep])
        x_held, _, _, _ = features_for(rows, held_idx, vecs, rarity)
        out[held] = model.predict_proba(np.c_[x_held, lr.predict_proba(interactions_for(rows, held_idx, vecs))[:, 1]])[
            :, 1
        ]
        print(f"  verifier fold {fold + 1}/5 done", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def wordpiece_idf(embedder: MiniLMEmbedder, texts: list[str], size: int) -> npt.NDArray[np.float64]:
    """IDF of each WordPiece id over ``texts`` (unseen ids get the top weight)."""
    df: Counter[int] = Counter()
    for t in texts:
        df.update(set(embedder.token_ids(t)))
    n = len(texts)
    idf = np.full(size, math.log(n + 1))
    for i, c in df.items():
        idf[i] = math.log((n + 1) / (c + 1))
    return idf


def pair_texts(rows: Rows, i: int) -> tuple[str, str]:
    return normalize_turn(str(rows[i]["text_a"])), normalize_turn(str(rows[i]["text_b"]))


def feature_rows(
    embedder: TokenEncoder,
    pairs: list[tuple[str, str]],
    p: npt.NDArray[np.float64],
    cos: npt.NDArray[np.float32],
    table: TokenTable,
    chunk: int = 256,
) -> npt.NDArray[np.float64]:
    """Reader features per (cached, query) pair, token vectors computed a chunk at a time."""
    out = []
    for start in range(0, len(pairs), chunk):
        part = pairs[start : start + chunk]
        # One text per pass, as the gateway's reader does (int8 activations are quantized per batch).
        tokens: dict[str, TokenVectors] = {
            t: embedder.token_vectors([t])[0] for t in {t for pair in part for t in pair}
        }
        for k, (a, b) in enumerate(part, start):
            out.append(reader_features(tokens[a], tokens[b], table, float(p[k]), float(cos[k])))
    return np.asarray(out)


def cached_features(
    embedder: TokenEncoder,
    pairs: list[tuple[str, str]],
    p: npt.NDArray[np.float64],
    cos: npt.NDArray[np.float32],
    table: TokenTable,
) -> npt.NDArray[np.float64]:
    """``feature_rows``, kept on disk keyed by everything that goes into them (for --cv reruns)."""
    digest = hashlib.sha256(repr((pairs, READER_FEATURES, "one text per pass")).encode())
    for arr in (p, cos, table.idf):
        digest.update(np.ascontiguousarray(arr).tobytes())
    path = CACHE / f"reader_features_{digest.hexdigest()[:16]}.npy"
    if path.exists():
        out: npt.NDArray[np.float64] = np.load(path)
        return out
    out = feature_rows(embedder, pairs, p, cos, table)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def fit_logistic(x: npt.NDArray[np.float64], y: npt.NDArray[np.int64], c: float) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    lr = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    return {"mean": mean, "scale": scale, "coef": lr.coef_[0], "intercept": np.asarray(float(lr.intercept_[0]))}


def predict(model: dict[str, Any], x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    z = ((x - model["mean"]) / model["scale"]) @ model["coef"] + float(model["intercept"])
    out: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-z))
    return out


def wrong_at(score: npt.NDArray[np.float64], y: npt.NDArray[np.int64], served_dups: int) -> float:
    """The wrong share when serving the top pairs by ``score`` until ``served_dups`` duplicates are in."""
    order = np.argsort(-score, kind="stable")
    dups = np.cumsum(y[order] == 1)
    n = int(np.searchsorted(dups, served_dups)) + 1
    return float((y[order][:n] == 0).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cv", action="store_true", help="grouped CV of the choices on train; writes nothing")
    args = parser.parse_args()
    rows = _qqp.load_pairs()
    train, _tune, _test = _qqp.split_pairs(rows)
    # The same text list as bench/cache_quality.py, so the on-disk vectors are shared.
    vecs = _qqp.embed_cached([str(r[k]) for r in rows for k in ("text_a", "text_b")])
    y_all, hand = hand_labels(rows, train)
    p_oof = oof_verifier(rows, train, vecs)
    band = [k for k in np.flatnonzero(hand)]
    idx = [train[k] for k in band]
    y = y_all[band]
    p = p_oof[band]
    cos = np.asarray([float(np.dot(vecs[a], vecs[b])) for a, b in (pair_texts(rows, i) for i in idx)], dtype=np.float32)
    embedder = MiniLMEmbedder(batch_size=64)
    idf = wordpiece_idf(embedder, sorted({t for i in train for t in pair_texts(rows, i)}), len(vocabulary()))
    table = TokenTable.build(idf)
    x = cached_features(embedder, [pair_texts(rows, i) for i in idx], p, cos, table)
    print(f"{len(idx)} hand-labelled train pairs in the band, {int((y == 0).sum())} not duplicates by hand")
    if args.cv:
        cross_validate(x, y, p, _qqp.question_groups(rows, idx))
        return
    model = fit_logistic(x, y, C)
    READER_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        READER_FILE,
        **model,
        idf=idf.astype(np.float16),
        band_low=np.asarray(BAND[0]),
        band_high=np.asarray(BAND[1]),
        feature_names=np.asarray(READER_FEATURES),
    )
    print(f"-> {READER_FILE} ({READER_FILE.stat().st_size} bytes)")
    for name, w in sorted(zip(READER_FEATURES, model["coef"], strict=True), key=lambda t: -abs(t[1]))[:12]:
        print(f"  {name:>36} {w:+.3f}")


def cross_validate(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.int64], p: npt.NDArray[np.float64], groups: list[int]
) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold

    dups = int(y.sum())
    levels = (0.4, 0.6, 0.8)  # shares of the band's duplicates served
    print(f"{'model':>28} " + " ".join(f"wrong@{lv:.0%}" for lv in levels))
    print(f"{'verifier (out of fold)':>28} " + " ".join(f"{wrong_at(p, y, int(lv * dups)):>9.4f}" for lv in levels))
    no_p = [k for k, n in enumerate(READER_FEATURES) if n != "verifier_logit"]
    variants: dict[str, Any] = {f"logistic C={c}": ("lr", c, None) for c in (0.03, 0.3, 3.0)}
    variants["logistic C=0.3 no verifier"] = ("lr", 0.3, no_p)
    variants["boosted trees"] = ("hgb", 0.0, None)
    for name, (kind, c, cols) in variants.items():
        oof = np.zeros(len(y))
        xs = x if cols is None else x[:, cols]
        for fit, held in GroupKFold(n_splits=5).split(xs, y, groups):
            if kind == "lr":
                oof[held] = predict(fit_logistic(xs[fit], y[fit], c), xs[held])
            else:
                hgb = HistGradientBoostingClassifier(
                    max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=7
                )
                oof[held] = hgb.fit(xs[fit], y[fit]).predict_proba(xs[held])[:, 1]
        print(f"{name:>28} " + " ".join(f"{wrong_at(oof, y, int(lv * dups)):>9.4f}" for lv in levels))


if __name__ == "__main__":
    main()
