"""Train the shipped guard classifiers (injection, content) on the train splits only.

    .venv/bin/python scripts/train_guards.py [--data ../shared/data]

Injection: logistic regression on MiniLM embeddings + hashed char n-gram TF-IDF, trained
on injection_slabs/train.csv + injection_neuralchemy/train.jsonl + injection_slabs/validation.csv;
the threshold is the lowest score giving <= 1% false positives on out-of-fold scores of the
validation rows (never on test).
Content: one-vs-rest heads for hate, harassment, self-harm, sexual, violence, trained on
openai_moderation_1680.jsonl (all of it: the set is small; quality is reported by 5-fold
cross-validation in bench/guards_quality.py) plus the benign prompts of the injection train
splits as negatives; thresholds maximise F1 on out-of-fold scores.
Embeddings are cached under /tmp/portico-cache/.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from portico.embeddings import MiniLMEmbedder  # noqa: E402
from portico.embeddings.disk_cache import embed_with_disk_cache  # noqa: E402
from portico.guards.classifier import CONTENT_MODEL, INJECTION_MODEL, char_vectorizer  # noqa: E402
from portico.guards.runtime import guard_embedder  # noqa: E402

CACHE = Path("/tmp/portico-cache")
INJ_FEATURES, INJ_NGRAM = 1 << 17, (2, 5)
CONTENT_FEATURES, CONTENT_NGRAM = 1 << 16, (2, 4)
CONTENT_LABELS = {
    "hate": ("H", "H2"),
    "harassment": ("HR",),
    "self_harm": ("SH",),
    "sexual": ("S", "S3"),
    "violence": ("V", "V2"),
}


def embed_cached(embedder: MiniLMEmbedder, texts: list[str]) -> np.ndarray:
    return embed_with_disk_cache(embedder, texts, CACHE)


def read_slabs(path: Path) -> tuple[list[str], np.ndarray]:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    return [r["text"] for r in rows], np.array([int(r["label"]) for r in rows])


def read_neuralchemy(path: Path) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    return [r["text"] for r in rows], np.array([int(r["label"]) for r in rows])


def read_moderation(path: Path) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    y = np.array([[int(any(r.get(k) == 1 for k in keys)) for keys in CONTENT_LABELS.values()] for r in rows])
    return [r["prompt"] for r in rows], y


def fit_features(
    texts: list[str], n_features: int, ngram: tuple[int, int]
) -> tuple[TfidfTransformer, sparse.csr_matrix]:
    counts = char_vectorizer(n_features, ngram).transform(texts)
    transformer = TfidfTransformer(sublinear_tf=True).fit(counts)
    return transformer, transformer.transform(counts)


def design(chars: sparse.csr_matrix, emb: np.ndarray) -> sparse.csr_matrix:
    return sparse.hstack([chars, sparse.csr_matrix(emb)]).tocsr()


def save(
    path: Path,
    labels: list[str],
    models: list[LogisticRegression],
    idf: np.ndarray,
    thresholds: list[float],
    meta: dict[str, object],
) -> None:
    n = idf.shape[0]
    w = np.vstack([m.coef_[0] for m in models])
    np.savez_compressed(
        path,
        labels=np.array(labels),
        w_char=w[:, :n].astype(np.float16),
        w_emb=w[:, n:].astype(np.float32),
        bias=np.array([m.intercept_[0] for m in models], dtype=np.float32),
        idf=idf.astype(np.float32),
        thresholds=np.array(thresholds, dtype=np.float32),
        meta=np.array(json.dumps(meta)),
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


def threshold_at_fpr(scores: np.ndarray, y: np.ndarray, max_fpr: float) -> float:
    negatives = np.sort(scores[y == 0])[::-1]
    allowed = int(np.floor(max_fpr * len(negatives)))
    return float(negatives[allowed] + 1e-6) if allowed < len(negatives) else 0.5


def train_injection(data: Path, embedder: MiniLMEmbedder) -> None:
    """Fit on train (+ neuralchemy train) + s-labs validation. The threshold comes from
    out-of-fold scores of the validation rows: each is scored by a model fitted without
    it (5 folds), and the threshold is the lowest giving <= 1% FPR on those scores."""
    t1, y1 = read_slabs(data / "safety/injection_slabs/train.csv")
    t2, y2 = read_neuralchemy(data / "safety/injection_neuralchemy/train.jsonl")
    vt, vy = read_slabs(data / "safety/injection_slabs/validation.csv")
    base_t, base_y = t1 + t2, np.concatenate([y1, y2])
    base_e, val_e = embed_cached(embedder, base_t), embed_cached(embedder, vt)
    oof = np.zeros(len(vt))
    for keep, held in StratifiedKFold(5, shuffle=True, random_state=0).split(vt, vy):
        texts = base_t + [vt[i] for i in keep]
        emb = np.vstack([base_e, val_e[keep]])
        transformer, chars = fit_features(texts, INJ_FEATURES, INJ_NGRAM)
        model = _fit_injection(design(chars, emb), np.concatenate([base_y, vy[keep]]))
        held_chars = transformer.transform(char_vectorizer(INJ_FEATURES, INJ_NGRAM).transform([vt[i] for i in held]))
        oof[held] = model.predict_proba(design(held_chars, val_e[held]))[:, 1]
    thr = threshold_at_fpr(oof, vy, 0.01)
    print(
        f"injection: validation (out-of-fold) recall {np.mean(oof[vy == 1] >= thr):.3f} "
        f"at fpr {np.mean(oof[vy == 0] >= thr):.4f}, thr {thr:.3f}"
    )
    transformer, chars = fit_features(base_t + vt, INJ_FEATURES, INJ_NGRAM)
    model = _fit_injection(design(chars, np.vstack([base_e, val_e])), np.concatenate([base_y, vy]))
    meta = {
        "version": "injection_v1",
        "ngram": list(INJ_NGRAM),
        "n_features": INJ_FEATURES,
        "trained_on": [
            "injection_slabs/train.csv",
            "injection_neuralchemy/train.jsonl",
            "injection_slabs/validation.csv",
        ],
        "threshold_from": "injection_slabs/validation.csv, 5-fold out-of-fold scores, 1% FPR",
    }
    save(INJECTION_MODEL, ["injection"], [model], transformer.idf_, [thr], meta)


def _fit_injection(x: sparse.csr_matrix, y: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=0.5, max_iter=3000, class_weight="balanced").fit(x, y)


def content_corpus(data: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The moderation set plus the benign prompts of the injection train splits as extra
    negatives (the moderation set is long forum text; without everyday short prompts the
    model flags a third of XSTest's safe prompts). Returns texts, labels, moderation mask."""
    texts, y = read_moderation(data / "safety/openai_moderation_1680.jsonl")
    t1, y1 = read_slabs(data / "safety/injection_slabs/train.csv")
    t2, y2 = read_neuralchemy(data / "safety/injection_neuralchemy/train.jsonl")
    benign = [t for t, label in zip(t1 + t2, np.concatenate([y1, y2]), strict=True) if label == 0]
    labels = np.vstack([y, np.zeros((len(benign), y.shape[1]), dtype=y.dtype)])
    mask = np.concatenate([np.ones(len(texts), dtype=bool), np.zeros(len(benign), dtype=bool)])
    return texts + benign, labels, mask


def train_content(data: Path, embedder: MiniLMEmbedder) -> None:
    texts, y, _ = content_corpus(data)
    emb = embed_cached(embedder, texts)
    transformer, chars = fit_features(texts, CONTENT_FEATURES, CONTENT_NGRAM)
    x = design(chars, emb)
    models, thresholds = [], []
    for j, name in enumerate(CONTENT_LABELS):
        oof = np.zeros(len(texts))
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y[:, j]):
            m = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(x[tr], y[tr, j])
            oof[te] = m.predict_proba(x[te])[:, 1]
        grid = np.linspace(0.2, 0.95, 31)
        f1 = [_f1(oof >= t, y[:, j]) for t in grid]
        thr = float(grid[int(np.argmax(f1))])
        print(f"content {name}: positives {int(y[:, j].sum())}, oof F1 {max(f1):.3f} at {thr:.2f}")
        models.append(LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(x, y[:, j]))
        thresholds.append(thr)
    meta = {
        "version": "content_v1",
        "ngram": list(CONTENT_NGRAM),
        "n_features": CONTENT_FEATURES,
        "trained_on": [
            "openai_moderation_1680.jsonl",
            "benign rows of injection_slabs/train.csv and injection_neuralchemy/train.jsonl",
        ],
        "threshold_from": "5-fold out-of-fold F1",
    }
    save(CONTENT_MODEL, list(CONTENT_LABELS), models, transformer.idf_, thresholds, meta)


def _f1(pred: np.ndarray, y: np.ndarray) -> float:
    tp = float(np.sum(pred & (y == 1)))
    return 2 * tp / max(float(pred.sum() + y.sum()), 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--only", choices=["injection", "content"])
    args = parser.parse_args()
    embedder = guard_embedder()
    if args.only != "content":
        train_injection(args.data, embedder)
    if args.only != "injection":
        train_content(args.data, embedder)


if __name__ == "__main__":
    main()
