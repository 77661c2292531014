"""Train the semantic-cache verifier on the calibration part of the QQP dev pairs.

    .venv/bin/python bench/train_cache_verifier.py

Writes ``src/portico/cache/data/cache_verifier_v1.npz`` (an MLP over pair features, plain
arrays). Only the calibration part is used: ``train`` fits the model, ``tune`` picks the
thresholds printed at the end. The test part (bench/cache_quality.py) is never read here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _qqp

from portico.cache.features import pair_features
from portico.cache.normalize import normalize_turn
from portico.cache.settings import SemanticSettings
from portico.cache.signals import Signals
from portico.cache.verifier import VERIFIER_FILE
from portico.cache.vetoes import first_veto

HIDDEN = 64
SEED = 7


def features_for(
    rows: list[dict[str, object]], idx: list[int], vecs: dict[str, npt.NDArray[np.float32]]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """(features, labels, cosine, vetoed) for pairs ``idx``; text_a is the cached side."""
    vetoes = SemanticSettings().vetoes
    x, y, cos, vetoed = [], [], [], []
    for i in idx:
        a, b = normalize_turn(str(rows[i]["text_a"])), normalize_turn(str(rows[i]["text_b"]))
        sa, sb = Signals(a), Signals(b)
        f = pair_features(sa, sb, vecs[a], vecs[b])
        x.append(f)
        y.append(int(rows[i]["label"]))  # type: ignore[call-overload]
        cos.append(f[0])
        vetoed.append(first_veto(sa, sb, vetoes) is not None)
    return np.stack(x), np.asarray(y), np.asarray(cos, dtype=np.float32), np.asarray(vetoed)


def main() -> None:
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    rows = _qqp.load_pairs()
    train, tune, _test = _qqp.split_pairs(rows)
    calib = train + tune
    vecs = _qqp.embed_cached([str(rows[i][k]) for i in calib for k in ("text_a", "text_b")])
    x_tr, y_tr, cos_tr, veto_tr = features_for(rows, train, vecs)
    floor = SemanticSettings().min_similarity
    # Fit where the verifier is consulted: above the similarity floor and past the vetoes.
    keep = (cos_tr >= floor - 0.05) & ~veto_tr
    scaler = StandardScaler().fit(x_tr[keep])
    model = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), alpha=1e-2, max_iter=200, early_stopping=True, random_state=SEED
    )
    model.fit(scaler.transform(x_tr[keep]), y_tr[keep])
    VERIFIER_FILE.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, npt.NDArray[np.float32] | npt.NDArray[np.int64]] = {
        "mean": scaler.mean_.astype(np.float32),
        "scale": scaler.scale_.astype(np.float32),
        "n_layers": np.asarray(len(model.coefs_)),
    }
    for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        arrays[f"w{i}"] = w.astype(np.float32)
        arrays[f"b{i}"] = b.astype(np.float32)
    np.savez_compressed(VERIFIER_FILE, **arrays)  # type: ignore[arg-type]
    print(f"trained on {int(keep.sum())} calibration pairs -> {VERIFIER_FILE} ({VERIFIER_FILE.stat().st_size} bytes)")

    from portico.cache.verifier import PairVerifier

    x_tu, y_tu, cos_tu, veto_tu = features_for(rows, tune, vecs)
    p = PairVerifier(VERIFIER_FILE).probability(x_tu)
    eligible = (cos_tu >= floor) & ~veto_tu
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
