"""Train the semantic-cache verifier on the calibration part of the QQP dev pairs.

    .venv/bin/python bench/train_cache_verifier.py

Writes ``src/portico/cache/data/cache_verifier_v1.npz``: gradient-boosted trees over the
pair features of ``portico.cache.features`` as plain arrays, plus the word rarity (IDF)
table those features use. Only the calibration part is read: ``train`` fits the model and
the IDF table, ``tune`` shows the curve. The test part (bench/cache_quality.py) is never
read here.

Train pairs in the region the judge decides (similarity floor, no veto, a score >= 0.5 from the
previous verifier) carry hand labels in ``bench/data/qqp_train_adjudicated_v1.jsonl``, written
under ``bench/data/cache_labels_guidelines.md`` (issue 19): where present they replace the QQP
label and are never left out as suspect. Elsewhere the QQP label stands.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _adjudicated
import _qqp

from portico.cache.features import FEATURE_NAMES, Rarity, pair_features, vector_interactions
from portico.cache.normalize import normalize_turn
from portico.cache.settings import SemanticSettings
from portico.cache.signals import CHAR_BUCKETS, Signals
from portico.cache.verifier import VERIFIER_FILE, PairVerifier
from portico.cache.vetoes import first_veto

SEED = 7
TRAIN_LABELS = _adjudicated.DATA / "qqp_train_adjudicated_v1.jsonl"
SUSPECT = 0.1  # see confident_labels (0.1 and 0.2 compared on tune: 0.1)
MIN_DF = 2  # rarer words are "unseen" and get the top weight: keeps the table small

Rows = list[dict[str, Any]]
Vecs = dict[str, npt.NDArray[np.float32]]


def idf_table(rows: Rows, idx: list[int]) -> Rarity:
    """Word IDF (words seen in fewer than MIN_DF texts share the unseen weight) and character
    n-gram bucket IDF, both over the distinct question texts of pairs ``idx``."""
    texts = sorted({normalize_turn(str(rows[i][k])) for i in idx for k in ("text_a", "text_b")})
    df: Counter[str] = Counter()
    char_df = np.zeros(CHAR_BUCKETS)
    for text in texts:
        signals = Signals(text)
        df.update(signals.token_set)
        char_df[signals.char_grams[0]] += 1
    n = len(texts)
    table = {w: math.log((n + 1) / (c + 1)) for w, c in df.items() if c >= MIN_DF}
    # Stored as float16 in the artifact: round here so training sees the weights serving uses.
    chars = (np.log((n + 1) / (char_df + 1)) + 1.0).astype(np.float16).astype(np.float64)
    return Rarity(table, math.log((n + 1) / 1), chars)


def features_for(
    rows: Rows, idx: list[int], vecs: Vecs, rarity: Rarity
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """(features, labels, cosine, vetoed) for pairs ``idx``; text_a is the cached side."""
    vetoes = SemanticSettings().vetoes
    x, y, cos, vetoed = [], [], [], []
    for i in idx:
        a, b = normalize_turn(str(rows[i]["text_a"])), normalize_turn(str(rows[i]["text_b"]))
        sa, sb = Signals(a), Signals(b)
        c = float(np.dot(vecs[a], vecs[b]))
        x.append(pair_features(sa, sb, c, rarity))
        y.append(int(rows[i]["label"]))
        cos.append(c)
        vetoed.append(first_veto(sa, sb, vetoes) is not None)
    return np.asarray(x), np.asarray(y), np.asarray(cos, dtype=np.float32), np.asarray(vetoed)


def interactions_for(rows: Rows, idx: list[int], vecs: Vecs) -> npt.NDArray[np.float32]:
    pairs = [(normalize_turn(str(rows[i]["text_a"])), normalize_turn(str(rows[i]["text_b"]))) for i in idx]
    return np.stack([vector_interactions(vecs[a], vecs[b]) for a, b in pairs])


def export(model: Any, lr: Any, rarity: Rarity) -> dict[str, Any]:
    """HistGradientBoostingClassifier -> flat padded node arrays (one row per tree)."""
    trees = [p[0].nodes for p in model._predictors]
    width = max(len(t) for t in trees)
    shape = (len(trees), width)
    out: dict[str, Any] = {
        "feature": np.full(shape, -1, dtype=np.int16),
        "threshold": np.zeros(shape, dtype=np.float64),
        "left": np.zeros(shape, dtype=np.int16),
        "right": np.zeros(shape, dtype=np.int16),
        "missing_left": np.zeros(shape, dtype=np.bool_),
        "value": np.zeros(shape, dtype=np.float64),
    }
    for t, nodes in enumerate(trees):
        k = len(nodes)
        leaf = nodes["is_leaf"].astype(bool)
        out["feature"][t, :k] = np.where(leaf, -1, nodes["feature_idx"])
        out["threshold"][t, :k] = nodes["num_threshold"]
        out["left"][t, :k] = nodes["left"]
        out["right"][t, :k] = nodes["right"]
        out["missing_left"][t, :k] = nodes["missing_go_to_left"].astype(bool)
        out["value"][t, :k] = np.where(leaf, nodes["value"], 0.0)
    words = sorted(rarity.words)
    out.update(
        baseline=np.asarray(float(np.ravel(model._baseline_prediction)[0])),
        max_depth=np.asarray(int(max(int(t["depth"].max()) for t in trees)) + 1),
        vocab=np.asarray(words),
        idf=np.asarray([rarity.words[w] for w in words], dtype=np.float32),
        unseen_idf=np.asarray(rarity.unseen),
        char_idf=rarity.chars.astype(np.float16),
        lr_coef=lr.coef_[0].astype(np.float64),
        lr_intercept=np.asarray(float(lr.intercept_[0])),
        feature_names=np.asarray(FEATURE_NAMES),
    )
    return out


def trees() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    # A fixed number of rounds (no early stopping on a random tenth of train): chosen on tune.
    return HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        max_depth=6,  # as good on tune as unbounded depth, and a shorter walk when serving
        early_stopping=False,
        random_state=SEED,
    )


def hand_labels(rows: Rows, idx: list[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(label, has_hand_label) for pairs ``idx``: the hand label where there is one, else QQP's."""
    hand = _adjudicated.load_labels(TRAIN_LABELS) if TRAIN_LABELS.exists() else {}
    y, has = [], []
    for i in idx:
        row = hand.get(_adjudicated.pair_key(str(rows[i]["text_a"]), str(rows[i]["text_b"])))
        y.append(int(row["adjudicated_label"]) if row else int(rows[i]["label"]))
        has.append(row is not None)
    return np.asarray(y), np.asarray(has)


def confident_labels(x: npt.NDArray[np.float64], y: npt.NDArray[np.int64], groups: list[int]) -> npt.NDArray[np.bool_]:
    """Which train pairs to keep: QQP labels are noisy ("Why are natural resources important for
    us?" / "Why natural resources are important for us?" is labelled different), so pairs whose
    label the trees, trained on the other question groups, contradict with probability >=
    1 - SUSPECT are left out of the final fit (confident learning). Tune and test labels are
    never touched."""
    from sklearn.model_selection import GroupKFold

    oof = np.zeros(len(y))
    for fit, held in GroupKFold(n_splits=5).split(x, y, groups):
        oof[held] = trees().fit(x[fit], y[fit]).predict_proba(x[held])[:, 1]
    suspect = ((y == 0) & (oof > 1 - SUSPECT)) | ((y == 1) & (oof < SUSPECT))
    keep: npt.NDArray[np.bool_] = ~suspect
    return keep


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    rows = _qqp.load_pairs()
    train, tune, _test = _qqp.split_pairs(rows)
    vecs = _qqp.embed_cached([str(rows[i][k]) for i in train + tune for k in ("text_a", "text_b")])
    rarity = idf_table(rows, train)
    x_tr, y_qqp, _, _ = features_for(rows, train, vecs, rarity)
    y_tr, hand = hand_labels(rows, train)
    changed = int((y_tr != y_qqp).sum())
    print(f"{int(hand.sum())} train pairs carry hand labels; {changed} differ from QQP")
    v_tr = interactions_for(rows, train, vecs)
    # Stacking: the trees see the vector score as it behaves on unseen pairs (out of fold).
    lr = LogisticRegression(C=1.0, max_iter=2000)
    oof = cross_val_predict(lr, v_tr, y_tr, cv=5, method="predict_proba")[:, 1]
    lr.fit(v_tr, y_tr)
    x_full = np.c_[x_tr, oof]
    keep = confident_labels(x_full, y_tr, _qqp.question_groups(rows, train)) | hand
    print(f"left out {int((~keep).sum())} train pairs whose label the out-of-fold trees contradict at >= {1 - SUSPECT}")
    model = trees().fit(x_full[keep], y_tr[keep])
    VERIFIER_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(VERIFIER_FILE, **export(model, lr, rarity))
    size = VERIFIER_FILE.stat().st_size
    print(f"trained on {len(train)} calibration pairs, {len(rarity.words)} words -> {VERIFIER_FILE} ({size} bytes)")

    verifier = PairVerifier(VERIFIER_FILE)
    x_tu, y_tu, cos_tu, veto_tu = features_for(rows, tune, vecs, verifier.rarity)
    v_tu = interactions_for(rows, tune, vecs)
    p = verifier.probability(x_tu, v_tu)
    expected = model.predict_proba(np.c_[x_tu, lr.predict_proba(v_tu)[:, 1]])[:, 1]
    assert np.allclose(p, expected, atol=1e-6), "exported model disagrees with sklearn"
    eligible = (cos_tu >= SemanticSettings().min_similarity) & ~veto_tu
    positives = int(y_tu.sum())
    print(f"tune part: {len(tune)} pairs, {positives} duplicates")
    print(f"{'threshold':>9} {'served':>7} {'recall':>7} {'false_hit_share':>15}")
    for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99):
        hit = eligible & (p >= t)
        n = int(hit.sum())
        wrong = int((hit & (y_tu == 0)).sum())
        print(f"{t:>9.2f} {n:>7} {int((hit & (y_tu == 1)).sum()) / positives:>7.3f} {wrong / max(n, 1):>15.4f}")


if __name__ == "__main__":
    main()
