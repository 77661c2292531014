"""Train the shipped guard classifiers (injection, content) on the train splits only.

    .venv/bin/python scripts/train_guards.py [--data ../shared/data]

Injection: logistic regression on MiniLM embeddings (the int8 copy, of a head+tail view of
at most VIEW_CHARS characters) + hashed char n-gram TF-IDF, trained on
injection_slabs/train.csv + injection_neuralchemy/train.jsonl + injection_slabs/validation.csv
+ benign text of everyday shapes from the *training* sources of scripts/benign_sources.py
(GSM8K, MMLU, CLINC150, QQP and hand-written instruction / role-play / quoted-document
templates), at half weight. Thresholds:
- flag: the lowest score giving <= 1% false positives on out-of-fold scores of the s-labs
  validation rows (never on test);
- block: at least the flag cut, and flagging at most BLOCK_FPR of *each* calibration
  source (ARC, Winogrande, Banking77: never trained on);
- screen: a character-only model; below its ``skip`` cut the embedding is not computed.
  ``skip`` lets through SCREEN_MISS of the validation positives (out-of-fold).
The held-out benign sources (MT-Bench, MBPP, SQuAD) are read by nothing here.
Content: one-vs-rest heads for hate, harassment, self-harm, sexual, violence, trained on
openai_moderation_1680.jsonl (all of it: the set is small; quality is reported by 5-fold
cross-validation in bench/guards_quality.py) plus the benign prompts of the injection train
splits and the benign training sources as negatives; thresholds maximise F1 on out-of-fold
scores; the same n-gram setup as injection so the gateway counts n-grams once per text.
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

import benign_sources  # noqa: E402

from portico.embeddings import MiniLMEmbedder  # noqa: E402
from portico.embeddings.disk_cache import cache_path, embed_with_disk_cache  # noqa: E402
from portico.guards.classifier import CONTENT_MODEL, INJECTION_MODEL, char_vectorizer, head_tail  # noqa: E402
from portico.guards.runtime import guard_embedder  # noqa: E402

CACHE = Path("/tmp/portico-cache")
INJ_FEATURES, INJ_NGRAM = 1 << 17, (2, 5)
CONTENT_FEATURES, CONTENT_NGRAM = INJ_FEATURES, INJ_NGRAM
VIEW_CHARS = 600  # head + tail characters the embedding sees (~130 tokens)
EXTRA_WEIGHT = 0.5  # weight of the benign training sources beside the injection sets' rows
N_TEMPLATES = 3500
BLOCK_FPR = 0.01
SCREEN_MISS = {"injection": 0.005, "content": 0.05}
CONTENT_LABELS = {
    "hate": ("H", "H2"),
    "harassment": ("HR",),
    "self_harm": ("SH",),
    "sexual": ("S", "S3"),
    "violence": ("V", "V2"),
}


_SEEN: dict[str, np.ndarray] = {}  # view -> vector, across the calls of one run


def embed_cached(embedder: MiniLMEmbedder, texts: list[str]) -> np.ndarray:
    """Vectors of the head+tail views of ``texts``; a view embedded earlier in this run (or
    in an earlier run, via the disk cache of whole batches) is not embedded again."""
    views = [head_tail(t, VIEW_CHARS) for t in texts]
    missing = list(dict.fromkeys(v for v in views if v not in _SEEN))
    if len(missing) == len(set(views)):
        missing = views  # nothing known: the whole list, so the disk cache's key is the list's
    if missing:
        for view, vec in zip(missing, embed_with_disk_cache(embedder, missing, CACHE), strict=True):
            _SEEN[view] = vec
    out = np.stack([_SEEN[v] for v in views]) if views else np.zeros((0, 384), dtype=np.float32)
    whole = cache_path(embedder, views, CACHE)
    if not whole.exists():  # so a benchmark asking for this very list finds it
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(whole, out)
    return out


def benign_training_text(data: Path) -> list[str]:
    """The benign training sources plus hand-written instruction templates."""
    sources = benign_sources.load(benign_sources.TRAIN_SOURCES, data)
    templates = benign_sources.templated_instructions(benign_sources.training_documents(data), N_TEMPLATES)
    return [t for texts in sources.values() for t in texts] + templates


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
    block_thresholds: list[float],
    screens: list[LogisticRegression],
    skips: list[float],
) -> None:
    n = idf.shape[0]
    w = np.vstack([m.coef_[0] for m in models])
    np.savez_compressed(
        path,
        block_thresholds=np.array(block_thresholds, dtype=np.float32),
        w_screen=np.vstack([m.coef_[0] for m in screens]).astype(np.float16),
        bias_screen=np.array([m.intercept_[0] for m in screens], dtype=np.float32),
        skip=np.array(skips, dtype=np.float32),
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
    """Fit on train (+ neuralchemy train + benign training sources) + s-labs validation.
    The flag threshold and the screen's skip cut come from out-of-fold scores of the
    validation rows (each scored by a model fitted without it, 5 folds); the block
    threshold from the calibration sources, which no model here is fitted on."""
    t1, y1 = read_slabs(data / "safety/injection_slabs/train.csv")
    t2, y2 = read_neuralchemy(data / "safety/injection_neuralchemy/train.jsonl")
    extra = benign_training_text(data)
    vt, vy = read_slabs(data / "safety/injection_slabs/validation.csv")
    base_t = t1 + t2 + extra
    base_y = np.concatenate([y1, y2, np.zeros(len(extra), dtype=int)])
    base_w = np.concatenate([np.ones(len(t1) + len(t2)), np.full(len(extra), EXTRA_WEIGHT)])
    base_e, val_e = embed_cached(embedder, base_t), embed_cached(embedder, vt)
    vec = char_vectorizer(INJ_FEATURES, INJ_NGRAM)
    oof, oof_screen = np.zeros(len(vt)), np.zeros(len(vt))
    for keep, held in StratifiedKFold(5, shuffle=True, random_state=0).split(vt, vy):
        texts = base_t + [vt[i] for i in keep]
        y, w = np.concatenate([base_y, vy[keep]]), np.concatenate([base_w, np.ones(len(keep))])
        transformer, chars = fit_features(texts, INJ_FEATURES, INJ_NGRAM)
        model = _fit_injection(design(chars, np.vstack([base_e, val_e[keep]])), y, w)
        screen = _fit_injection(chars, y, w)
        held_chars = transformer.transform(vec.transform([vt[i] for i in held]))
        oof[held] = model.predict_proba(design(held_chars, val_e[held]))[:, 1]
        oof_screen[held] = screen.predict_proba(held_chars)[:, 1]
    thr = threshold_at_fpr(oof, vy, 0.01)
    skip = min(float(np.quantile(oof_screen[vy == 1], SCREEN_MISS["injection"])), thr)
    cascade = np.where(oof_screen < skip, oof_screen, oof)
    print(
        f"injection: validation (out-of-fold) recall {np.mean(oof[vy == 1] >= thr):.3f} "
        f"at fpr {np.mean(oof[vy == 0] >= thr):.4f}, thr {thr:.3f}; with the screen (skip {skip:.3f}) "
        f"recall {np.mean(cascade[vy == 1] >= thr):.3f}, "
        f"benign skipping the embedding {np.mean(oof_screen[vy == 0] < skip):.3f}"
    )
    transformer, chars = fit_features(base_t + vt, INJ_FEATURES, INJ_NGRAM)
    y, w = np.concatenate([base_y, vy]), np.concatenate([base_w, np.ones(len(vt))])
    model = _fit_injection(design(chars, np.vstack([base_e, val_e])), y, w)
    screen = _fit_injection(chars, y, w)
    block = thr
    calibration = benign_sources.load(benign_sources.CALIBRATION_SOURCES, data)
    embed_cached(embedder, [t for texts in calibration.values() for t in texts])
    for name, texts in calibration.items():
        c = transformer.transform(vec.transform(texts))
        full = model.predict_proba(design(c, embed_cached(embedder, texts)))[:, 1]
        s = np.where(screen.predict_proba(c)[:, 1] < skip, 0.0, full)
        cut = float(np.sort(s)[::-1][int(np.floor(BLOCK_FPR * len(s)))] + 1e-6)
        print(f"  calibration {name}: flagged at flag cut {np.mean(s >= thr):.4f}; {BLOCK_FPR:.0%} cut {cut:.3f}")
        block = max(block, cut)
    print(f"  block threshold {block:.3f}: validation recall {np.mean(cascade[vy == 1] >= block):.3f}")
    meta = {
        "version": "injection_v3",
        "ngram": list(INJ_NGRAM),
        "n_features": INJ_FEATURES,
        "embedder": "minilm-int8",
        "view_chars": VIEW_CHARS,
        "trained_on": [
            "injection_slabs/train.csv",
            "injection_neuralchemy/train.jsonl",
            "injection_slabs/validation.csv",
            *(f"benign:{name}" for name in benign_sources.TRAIN_SOURCES),
            f"benign:templates x{N_TEMPLATES}",
        ],
        "threshold_from": "injection_slabs/validation.csv, 5-fold out-of-fold scores, 1% FPR",
        "block_threshold_from": f"<= {BLOCK_FPR:.0%} of each of {', '.join(benign_sources.CALIBRATION_SOURCES)}",
        "screen": f"skip lets through {SCREEN_MISS['injection']:.1%} of validation positives (out-of-fold)",
    }
    save(INJECTION_MODEL, ["injection"], [model], transformer.idf_, [thr], meta, [block], [screen], [skip])


def _fit_injection(x: sparse.csr_matrix, y: np.ndarray, w: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=0.5, max_iter=3000, class_weight="balanced").fit(x, y, sample_weight=w)


def content_corpus(data: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The moderation set plus benign negatives: the benign prompts of the injection train
    splits and the benign training sources (the moderation set is long forum text; without
    everyday short prompts the model flags a third of XSTest's safe prompts). Returns
    texts, labels, moderation mask."""
    texts, y = read_moderation(data / "safety/openai_moderation_1680.jsonl")
    t1, y1 = read_slabs(data / "safety/injection_slabs/train.csv")
    t2, y2 = read_neuralchemy(data / "safety/injection_neuralchemy/train.jsonl")
    benign = [t for t, label in zip(t1 + t2, np.concatenate([y1, y2]), strict=True) if label == 0]
    benign += benign_training_text(data)
    labels = np.vstack([y, np.zeros((len(benign), y.shape[1]), dtype=y.dtype)])
    mask = np.concatenate([np.ones(len(texts), dtype=bool), np.zeros(len(benign), dtype=bool)])
    return texts + benign, labels, mask


def train_content(data: Path, embedder: MiniLMEmbedder) -> None:
    texts, y, _ = content_corpus(data)
    emb = embed_cached(embedder, texts)
    transformer, chars = fit_features(texts, CONTENT_FEATURES, CONTENT_NGRAM)
    x = design(chars, emb)
    models, screens, thresholds, skips = [], [], [], []
    for j, name in enumerate(CONTENT_LABELS):
        oof, oof_screen = np.zeros(len(texts)), np.zeros(len(texts))
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y[:, j]):
            m = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(x[tr], y[tr, j])
            oof[te] = m.predict_proba(x[te])[:, 1]
            sm = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(chars[tr], y[tr, j])
            oof_screen[te] = sm.predict_proba(chars[te])[:, 1]
        grid = np.linspace(0.2, 0.95, 31)
        f1 = [_f1(oof >= t, y[:, j]) for t in grid]
        thr = float(grid[int(np.argmax(f1))])
        skip = min(float(np.quantile(oof_screen[y[:, j] == 1], SCREEN_MISS["content"])), thr)
        cascade = np.where(oof_screen < skip, oof_screen, oof)
        print(
            f"content {name}: positives {int(y[:, j].sum())}, oof F1 {max(f1):.3f} at {thr:.2f}; "
            f"with the screen (skip {skip:.3f}) F1 {_f1(cascade >= thr, y[:, j]):.3f}, "
            f"negatives skipping the embedding {np.mean(oof_screen[y[:, j] == 0] < skip):.3f}"
        )
        models.append(LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(x, y[:, j]))
        screens.append(LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(chars, y[:, j]))
        thresholds.append(thr)
        skips.append(skip)
    meta = {
        "version": "content_v3",
        "ngram": list(CONTENT_NGRAM),
        "n_features": CONTENT_FEATURES,
        "embedder": "minilm-int8",
        "view_chars": VIEW_CHARS,
        "trained_on": [
            "openai_moderation_1680.jsonl",
            "benign rows of injection_slabs/train.csv and injection_neuralchemy/train.jsonl",
            *(f"benign:{name}" for name in benign_sources.TRAIN_SOURCES),
            f"benign:templates x{N_TEMPLATES}",
        ],
        "threshold_from": "5-fold out-of-fold F1",
        "screen": f"skip lets through {SCREEN_MISS['content']:.0%} of each category's positives (out-of-fold)",
    }
    save(CONTENT_MODEL, list(CONTENT_LABELS), models, transformer.idf_, thresholds, meta, thresholds, screens, skips)


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
