"""Train the injection cascade's second stage (``injection_v5m``) on the train splits only.

    PORTICO_SHARED_DATA=../shared/data .venv/bin/python scripts/train_guard_second_stage.py

The recipe of ``injection_v3`` (fac46d4's scripts/train_guards.py, without its character
screen, which the fast model replaced): logistic regression (C 0.5, class-balanced) over
sklearn-hashed ``char_wb`` 2-5-gram TF-IDF plus the int8 MiniLM embedding of a 600-char
head+tail view, fitted on s-labs train + neuralchemy train + s-labs validation + the benign
training text of ``train_guards.benign_training_text`` (now with the train part of the
authored instruction corpus) at weight 0.5. What changed against v3 is only the benign
training text. The cascade's cuts are not set here: scripts/select_guard_cascade.py sets
them from out-of-fold validation scores and the calibration sources. Test splits, the
calibration sources and the held-out sources (MT-Bench, MBPP, SQuAD) are read by nothing here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import select_guard_cascade as sel  # noqa: E402
import train_guards as tg  # noqa: E402

from portico.embeddings import MiniLMEmbedder  # noqa: E402
from portico.guards.embedding_classifier import INJECTION_EMBEDDING_MODEL, char_wb_vectorizer  # noqa: E402


def main() -> None:
    data = sel.DATA
    t1, y1 = tg.read_slabs(data / "safety/injection_slabs/train.csv")
    t2, y2 = tg.with_contrast(*tg.read_neuralchemy(data / "safety/injection_neuralchemy/train.jsonl"))
    extra = tg.benign_training_text(data)
    vt, vy = tg.read_slabs(data / "safety/injection_slabs/validation.csv")
    texts = t1 + t2 + extra + vt
    y = np.concatenate([y1, y2, np.zeros(len(extra), dtype=int), vy])
    w_extra = tg.extra_weights(len(extra), sel.V3_EXTRA_WEIGHT)
    w = np.concatenate([np.ones(len(t1) + len(t2)), w_extra, np.ones(len(vt))])
    embedder = MiniLMEmbedder(quantized=True)
    emb = np.vstack([sel.embed_cached(embedder, t1 + t2 + extra), sel.embed_cached(embedder, vt)])
    counts = char_wb_vectorizer(tg.INJ_FEATURES, tg.INJ_NGRAM).transform(texts)
    transformer = TfidfTransformer(sublinear_tf=True).fit(counts)
    model = LogisticRegression(C=sel.V3_C, max_iter=3000, class_weight="balanced").fit(
        tg.design(transformer.transform(counts), emb), y, sample_weight=w
    )
    n = transformer.idf_.shape[0]
    meta = {
        "version": INJECTION_EMBEDDING_MODEL.stem,
        "ngram": list(tg.INJ_NGRAM),
        "n_features": tg.INJ_FEATURES,
        "embedder": "minilm-int8",
        "view_chars": sel.V3_VIEW,
        "recipe": "injection_v3 (fac46d4) without the screen; C 0.5, benign weight 0.5",
        "trained_on": [
            "injection_slabs/train.csv",
            "injection_neuralchemy/train.jsonl",
            "injection_slabs/validation.csv",
            "benign: train_guards.benign_training_text (training sources, templates, "
            "benign_instructions_v1.jsonl.gz train part)",
        ],
        "cuts": "none of its own: data/injection_cascade.json",
    }
    np.savez_compressed(
        INJECTION_EMBEDDING_MODEL,
        labels=np.array(["injection"]),
        w_char=model.coef_[:, :n].astype(np.float16),
        w_emb=model.coef_[:, n:].astype(np.float32),
        bias=model.intercept_.astype(np.float32),
        idf=transformer.idf_.astype(np.float32),
        meta=np.array(json.dumps(meta)),
    )
    print(f"wrote {INJECTION_EMBEDDING_MODEL} ({INJECTION_EMBEDDING_MODEL.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
