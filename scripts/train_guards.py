"""Train the shipped guard classifiers (injection, content) on the train splits only.

    .venv/bin/python scripts/train_guards.py [--data ../shared/data]

Features (both classifiers): hashed char 2-5-gram TF-IDF plus a static token embedding
distilled from the packaged int8 MiniLM, model2vec's recipe: each WordPiece vocabulary
token is run through the model on its own (``[CLS] token [SEP]``, mean-pooled) and a
text's vector is the mean of its tokens' rows, standardised per dimension on the training
texts. (Centring the table and SIF down-weighting of frequent tokens, as model2vec does,
scored lower on the out-of-fold validation recall: 0.955 against 0.968.) The table is
derived here from the PyPI model (about a minute, cached under /tmp/portico-cache/) and
never shipped: the classifiers are linear, so it is folded into one weight per token and
label (``w_tok``).

Injection: logistic regression trained on injection_slabs/train.csv +
injection_neuralchemy/train.jsonl + injection_slabs/validation.csv + benign text of
everyday shapes from the *training* sources of scripts/benign_sources.py (GSM8K, MMLU,
CLINC150, QQP and hand-written instruction / role-play / quoted-document templates), at
EXTRA_WEIGHT, plus the train part of the authored instruction corpus
(scripts/data/benign_instructions_v1.jsonl.gz) at EXTRA_WEIGHT x AUTHORED_WEIGHT and, when
CONTRAST, the authored contrast attacks (the same framings carrying injection payloads) as
positives. Thresholds:
- flag: the lowest score giving <= 1% false positives on out-of-fold scores of the s-labs
  validation rows (never on test);
- block: at least the flag cut, and flagging at most BLOCK_FPR of *each* calibration
  source (ARC, Winogrande, Banking77, the authored corpus's calibration part: never
  trained on). The shipped cascade has its own cuts (scripts/select_guard_cascade.py).
The held-out benign sources (MT-Bench, MBPP, SQuAD) are read by nothing here.
Content: one-vs-rest heads for hate, harassment, self-harm, sexual, violence, trained on
openai_moderation_1680.jsonl (all of it: the set is small; quality is reported by 5-fold
cross-validation in bench/guards_quality.py) plus the benign prompts of the injection train
splits and the benign training sources as negatives; thresholds maximise F1 on out-of-fold
scores; the same n-gram setup as injection so the gateway counts n-grams once per text.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
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

from portico.guards.classifier import CONTENT_MODEL, INJECTION_MODEL, char_vectorizer  # noqa: E402
from portico.guards.tokens import token_ids  # noqa: E402

CACHE = Path("/tmp/portico-cache")
INJ_FEATURES, INJ_NGRAM = 1 << 17, (2, 5)
CONTENT_FEATURES, CONTENT_NGRAM = INJ_FEATURES, INJ_NGRAM
# Chosen on s-labs validation (out-of-fold recall at 1% FPR), neuralchemy validation and the
# calibration sources' share flagged at the flag cut, never on a test split or held-out source:
# weight 0.5 / C 0.5: 0.968 / 0.938 / Banking77 3.6%; 0.5 / 1: 0.975 / 0.949 / 3.4%;
# 0.5 / 2: 0.983 / 0.957 / 4.4%; 1 / 1: 0.967 / 0.935 / 1.1%; 1 / 2: 0.976 / 0.948 / 1.5%.
EXTRA_WEIGHT = 1.0  # weight of the benign training sources beside the injection sets' rows
# Weight of the authored instruction corpus's train part, relative to the other benign text
# (both stages of the cascade). Chosen by scripts/select_authored_weight.py on s-labs
# validation (out-of-fold), neuralchemy *validation* and the calibration sources, never on a
# test split or a held-out source (its table is in the script's docstring).
AUTHORED_WEIGHT = 0.25
# Whether the authored contrast attacks (scripts/data/contrast_attacks_v1.jsonl.gz: the benign
# corpus's framings carrying injection payloads) join the injection rows; chosen with the weight.
CONTRAST = True
CONTRAST_ATTACKS = Path(__file__).resolve().parent / "data" / "contrast_attacks_v1.jsonl.gz"
INJECTION_C = 2.0
PRIOR_TOKENS = 4.0  # pseudo-tokens at the average that a text's token mean is shrunk with
CONTENT_C = 4.0
N_TEMPLATES = 3500
BLOCK_FPR = 0.01
TOKEN_RECIPE = "minilm-int8-static-v1: [CLS] t [SEP] mean-pooled; text = mean of its tokens, standardised"
TOKEN_SCALE = 1.0  # weight of the token block beside the n-gram block (chosen on s-labs validation, out-of-fold)
CONTENT_LABELS = {
    "hate": ("H", "H2"),
    "harassment": ("HR",),
    "self_harm": ("SH",),
    "sexual": ("S", "S3"),
    "violence": ("V", "V2"),
}


def distilled_token_vectors() -> np.ndarray:
    """(vocabulary, 384): each WordPiece token alone through the int8 MiniLM, mean-pooled
    over ``[CLS] t [SEP]``. Cached by the model file's hash (about a minute on one core)."""
    import onnxruntime as ort

    from portico.embeddings import MiniLMEmbedder

    model_path = MiniLMEmbedder(quantized=True).model_path
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:16]
    path = CACHE / f"minilm_static_{digest}.npy"
    if path.exists():
        return np.load(path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    vocab = len(json.loads((ROOT / "src/portico/embeddings/data/minilm_tokenizer.json").read_text())["model"]["vocab"])
    ids = np.stack([np.full(vocab, 101), np.arange(vocab), np.full(vocab, 102)], axis=1).astype(np.int64)
    out = np.zeros((vocab, 384), dtype=np.float32)
    for start in range(0, vocab, 1024):
        batch = ids[start : start + 1024]
        (hidden,) = session.run(
            ["last_hidden_state"],
            {"input_ids": batch, "attention_mask": np.ones_like(batch), "token_type_ids": np.zeros_like(batch)},
        )
        out[start : start + 1024] = hidden.mean(axis=1)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


class TokenSpace:
    """The token term's features: the mean of a text's token rows, shrunk towards the
    training texts' average by ``prior`` pseudo-tokens ((sum + prior * mu) / (n + prior)),
    standardised per dimension and scaled by TOKEN_SCALE / sqrt(384), so the block has about
    the weight of the unit-norm n-gram block under one regularisation constant. The
    shrinkage keeps a two-word text from being judged by one word's vector alone ("I love
    sunny days" scored 0.96 *sexual* without it). Every step is linear in the token rows,
    so :meth:`fold` turns weights on these features into one weight per token."""

    def __init__(self, table: np.ndarray, training_texts: list[str], prior: float) -> None:
        self.table = table
        self.prior = prior
        sums, counts = self._sums(training_texts)
        means = sums / np.maximum(counts, 1)[:, None]
        self.mu, self.sd = means.mean(axis=0), means.std(axis=0) + 1e-6
        self.scale = TOKEN_SCALE / np.sqrt(table.shape[1])

    def _sums(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        sums = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        counts = np.zeros(len(texts), dtype=np.float32)
        for i, ids in enumerate(token_ids(texts)):
            sums[i] = self.table[ids].sum(axis=0)
            counts[i] = len(ids)
        return sums, counts

    def features(self, texts: list[str]) -> np.ndarray:
        sums, counts = self._sums(texts)
        centred = (sums - counts[:, None] * self.mu) / (counts + self.prior)[:, None]
        return (centred / self.sd * self.scale).astype(np.float32)

    def fold(self, w: np.ndarray) -> np.ndarray:
        """(k, vocabulary) token weights for weights ``w`` (k, 384): a text's token term is
        their sum over its ids divided by (n + prior)."""
        per_dim = w / self.sd * self.scale
        folded: np.ndarray = ((self.table - self.mu) @ per_dim.T).T
        return folded


def benign_training_text(data: Path, authored: bool = True) -> list[str]:
    """The benign training sources plus hand-written instruction templates and (injection
    only; content_v4 was fitted before it existed) the train part of the authored
    instruction corpus, scripts/data/benign_instructions_v1.jsonl.gz."""
    sources = benign_sources.load(benign_sources.TRAIN_SOURCES, data)
    templates = benign_sources.templated_instructions(benign_sources.training_documents(data), N_TEMPLATES)
    extra = benign_sources.authored("train") if authored else []
    return [t for texts in sources.values() for t in texts] + templates + extra


def extra_weights(n_extra: int, base: float) -> np.ndarray:
    """Weights of ``benign_training_text``'s rows (injection): ``base``, times
    AUTHORED_WEIGHT on its last rows, the authored corpus's train part."""
    w = np.full(n_extra, base)
    w[n_extra - len(benign_sources.authored("train")) :] *= AUTHORED_WEIGHT
    return w


def with_contrast(texts: list[str], y: np.ndarray) -> tuple[list[str], np.ndarray]:
    """``texts`` / ``y`` (an injection set's training rows) plus, when CONTRAST, the authored
    contrast attacks as positives."""
    if not CONTRAST:
        return texts, y
    with gzip.open(CONTRAST_ATTACKS, "rt", encoding="utf-8") as f:
        attacks = [json.loads(line)["text"] for line in f if line.strip()]
    return texts + attacks, np.concatenate([y, np.ones(len(attacks), dtype=y.dtype)])


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
    tokens: TokenSpace,
) -> None:
    n = idf.shape[0]
    w = np.vstack([m.coef_[0] for m in models])
    meta = {**meta, "prior_tokens": tokens.prior}
    np.savez_compressed(
        path,
        labels=np.array(labels),
        w_char=w[:, :n].astype(np.float16),
        w_tok=tokens.fold(w[:, n:]).astype(np.float16),
        bias=np.array([m.intercept_[0] for m in models], dtype=np.float32),
        idf=idf.astype(np.float32),
        thresholds=np.array(thresholds, dtype=np.float32),
        block_thresholds=np.array(block_thresholds, dtype=np.float32),
        meta=np.array(json.dumps(meta)),
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


def threshold_at_fpr(scores: np.ndarray, y: np.ndarray, max_fpr: float) -> float:
    negatives = np.sort(scores[y == 0])[::-1]
    allowed = int(np.floor(max_fpr * len(negatives)))
    return float(negatives[allowed] + 1e-6) if allowed < len(negatives) else 0.5


def train_injection(data: Path) -> None:
    """Fit on train (+ neuralchemy train + benign training sources) + s-labs validation.
    The flag threshold comes from out-of-fold scores of the validation rows (each scored
    by a model fitted without it, 5 folds); the block threshold from the calibration
    sources, which no model here is fitted on."""
    t1, y1 = read_slabs(data / "safety/injection_slabs/train.csv")
    t2, y2 = with_contrast(*read_neuralchemy(data / "safety/injection_neuralchemy/train.jsonl"))
    extra = benign_training_text(data)
    vt, vy = read_slabs(data / "safety/injection_slabs/validation.csv")
    base_t = t1 + t2 + extra
    base_y = np.concatenate([y1, y2, np.zeros(len(extra), dtype=int)])
    base_w = np.concatenate([np.ones(len(t1) + len(t2)), extra_weights(len(extra), EXTRA_WEIGHT)])
    tokens = TokenSpace(distilled_token_vectors(), base_t, PRIOR_TOKENS)
    base_e, val_e = tokens.features(base_t), tokens.features(vt)
    vec = char_vectorizer(INJ_FEATURES, INJ_NGRAM)
    oof = np.zeros(len(vt))
    for keep, held in StratifiedKFold(5, shuffle=True, random_state=0).split(vt, vy):
        texts = base_t + [vt[i] for i in keep]
        y, w = np.concatenate([base_y, vy[keep]]), np.concatenate([base_w, np.ones(len(keep))])
        transformer, chars = fit_features(texts, INJ_FEATURES, INJ_NGRAM)
        model = _fit_injection(design(chars, np.vstack([base_e, val_e[keep]])), y, w)
        held_chars = transformer.transform(vec.transform([vt[i] for i in held]))
        oof[held] = model.predict_proba(design(held_chars, val_e[held]))[:, 1]
    thr = threshold_at_fpr(oof, vy, 0.01)
    print(
        f"injection: validation (out-of-fold) recall {np.mean(oof[vy == 1] >= thr):.3f} "
        f"at fpr {np.mean(oof[vy == 0] >= thr):.4f}, thr {thr:.3f}"
    )
    transformer, chars = fit_features(base_t + vt, INJ_FEATURES, INJ_NGRAM)
    y, w = np.concatenate([base_y, vy]), np.concatenate([base_w, np.ones(len(vt))])
    model = _fit_injection(design(chars, np.vstack([base_e, val_e])), y, w)
    block = thr
    for name, texts in benign_sources.load(benign_sources.CALIBRATION_SOURCES, data).items():
        c = transformer.transform(vec.transform(texts))
        s = model.predict_proba(design(c, tokens.features(texts)))[:, 1]
        cut = float(np.sort(s)[::-1][int(np.floor(BLOCK_FPR * len(s)))] + 1e-6)
        print(f"  calibration {name}: flagged at flag cut {np.mean(s >= thr):.4f}; {BLOCK_FPR:.0%} cut {cut:.3f}")
        block = max(block, cut)
    print(f"  block threshold {block:.3f}: validation recall {np.mean(oof[vy == 1] >= block):.3f}")
    meta = {
        "version": INJECTION_MODEL.stem,
        "ngram": list(INJ_NGRAM),
        "n_features": INJ_FEATURES,
        "tokens": TOKEN_RECIPE,
        "trained_on": [
            "injection_slabs/train.csv",
            "injection_neuralchemy/train.jsonl",
            "injection_slabs/validation.csv",
            *(f"benign:{name}" for name in benign_sources.TRAIN_SOURCES),
            f"benign:templates x{N_TEMPLATES}",
            "benign:benign_instructions_v1.jsonl.gz (train part)",
        ],
        "threshold_from": "injection_slabs/validation.csv, 5-fold out-of-fold scores, 1% FPR",
        "block_threshold_from": f"<= {BLOCK_FPR:.0%} of each of {', '.join(benign_sources.CALIBRATION_SOURCES)}",
    }
    save(INJECTION_MODEL, ["injection"], [model], transformer.idf_, [thr], meta, [block], tokens)


def _fit_injection(x: sparse.csr_matrix, y: np.ndarray, w: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=INJECTION_C, max_iter=3000, class_weight="balanced").fit(x, y, sample_weight=w)


def content_corpus(data: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The moderation set plus benign negatives: the benign prompts of the injection train
    splits and the benign training sources (the moderation set is long forum text; without
    everyday short prompts the model flags a third of XSTest's safe prompts). Returns
    texts, labels, moderation mask."""
    texts, y = read_moderation(data / "safety/openai_moderation_1680.jsonl")
    t1, y1 = read_slabs(data / "safety/injection_slabs/train.csv")
    t2, y2 = read_neuralchemy(data / "safety/injection_neuralchemy/train.jsonl")
    benign = [t for t, label in zip(t1 + t2, np.concatenate([y1, y2]), strict=True) if label == 0]
    benign += benign_training_text(data, authored=False)
    labels = np.vstack([y, np.zeros((len(benign), y.shape[1]), dtype=y.dtype)])
    mask = np.concatenate([np.ones(len(texts), dtype=bool), np.zeros(len(benign), dtype=bool)])
    return texts + benign, labels, mask


def train_content(data: Path) -> None:
    texts, y, _ = content_corpus(data)
    transformer, chars = fit_features(texts, CONTENT_FEATURES, CONTENT_NGRAM)
    tokens = TokenSpace(distilled_token_vectors(), texts, PRIOR_TOKENS)
    x = design(chars, tokens.features(texts))
    models, thresholds, f1s = [], [], []
    for j, name in enumerate(CONTENT_LABELS):
        oof = np.zeros(len(texts))
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y[:, j]):
            m = LogisticRegression(C=CONTENT_C, max_iter=3000, class_weight="balanced").fit(x[tr], y[tr, j])
            oof[te] = m.predict_proba(x[te])[:, 1]
        grid = np.linspace(0.2, 0.95, 31)
        f1 = [_f1(oof >= t, y[:, j]) for t in grid]
        thr = float(grid[int(np.argmax(f1))])
        print(f"content {name}: positives {int(y[:, j].sum())}, oof F1 {max(f1):.3f} at {thr:.2f}")
        models.append(LogisticRegression(C=CONTENT_C, max_iter=3000, class_weight="balanced").fit(x, y[:, j]))
        thresholds.append(thr)
        f1s.append(max(f1))
    print(f"content: macro oof F1 {np.mean(f1s):.3f}")
    meta = {
        "version": CONTENT_MODEL.stem,
        "ngram": list(CONTENT_NGRAM),
        "n_features": CONTENT_FEATURES,
        "tokens": TOKEN_RECIPE,
        "trained_on": [
            "openai_moderation_1680.jsonl",
            "benign rows of injection_slabs/train.csv and injection_neuralchemy/train.jsonl",
            *(f"benign:{name}" for name in benign_sources.TRAIN_SOURCES),
            f"benign:templates x{N_TEMPLATES}",
        ],
        "threshold_from": "5-fold out-of-fold F1",
    }
    save(CONTENT_MODEL, list(CONTENT_LABELS), models, transformer.idf_, thresholds, meta, thresholds, tokens)


def _f1(pred: np.ndarray, y: np.ndarray) -> float:
    tp = float(np.sum(pred & (y == 1)))
    return 2 * tp / max(float(pred.sum() + y.sum()), 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--only", choices=["injection", "content"])
    args = parser.parse_args()
    if args.only != "content":
        train_injection(args.data)
    if args.only != "injection":
        train_content(args.data)


if __name__ == "__main__":
    main()
