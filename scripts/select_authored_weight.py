"""Choose the weight of the authored instruction corpus (train_guards.AUTHORED_WEIGHT) for
both cascade stages, on validation and calibration data only.

    PORTICO_SHARED_DATA=../shared/data .venv/bin/python scripts/select_authored_weight.py 1.0 0.5 0.25 1.0c 0.5c 0.25c

(a trailing ``c``: with the authored contrast attacks, train_guards.CONTRAST).

For each weight: train injection_v5 (train_guards), the second stage
(train_guard_second_stage) and the cascade's cuts (select_guard_cascade), then report
s-labs validation recall at the block cut (out-of-fold), neuralchemy *validation* recall and
FPR at the flag cut (a split no model is fitted on), and the share of each calibration
source flagged at the flag cut. Artifacts of each weight are kept under
/tmp/portico-cache/authored_weight/<w>/; the rule below picks one and copies it back.

Rule, fixed before the first run: the weight with the lowest share of the authored
calibration part (instructions_v1) flagged at the flag cut among those whose neuralchemy
validation recall at the flag cut is at least the previous cascade's (0.9457, main at
8284485, the same script's scoring) and whose s-labs validation recall at the block cut is
at least 0.97; if none qualifies, the highest neuralchemy validation recall.

Why it exists: with the authored corpus at full weight (the first run, 1.0 without
contrast attacks) the bench's cross-dataset recall fell from 0.949 to 0.926; the weight and
the contrast attacks were then chosen here, on validation only.

Run 2026-12-08 02:02-02:19 UTC (load 2-5), out-of-fold s-labs validation recall at the block
cut, neuralchemy validation recall / FPR at the flag cut, share flagged at the flag cut:

    setting  s-labs val@block  neuralchemy val@flag  instructions_v1  banking77
    1.0      0.9705            0.9288 / 0.0369       0.0027           0.0053
    0.5      0.9715            0.9363 / 0.0393       0.0047           0.0060
    0.25     0.9724            0.9401 / 0.0393       0.0080           0.0073
    1.0c     0.9753            0.9363 / 0.0393       0.0033           0.0073
    0.5c     0.9772            0.9401 / 0.0418       0.0107           0.0080
    0.25c    0.9648            0.9476 / 0.0418       0.0233           0.0113

No setting met both conditions (0.25c reaches the neuralchemy bar, but its block cut, which
instructions_v1 sets at 0.648 above the 0.563 flag cut, keeps 0.965 of the validation
attacks); the fallback chose 0.25c (shipped).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import benign_sources  # noqa: E402
import select_guard_cascade as sel  # noqa: E402
import train_guard_second_stage as second  # noqa: E402
import train_guards as tg  # noqa: E402

from portico.embeddings import MiniLMEmbedder  # noqa: E402
from portico.embeddings.disk_cache import embed_with_disk_cache  # noqa: E402
from portico.guards.cascade import CASCADE_CONFIG, CascadeConfig, combine  # noqa: E402
from portico.guards.classifier import INJECTION_MODEL, LinearTextClassifier  # noqa: E402
from portico.guards.embedding_classifier import INJECTION_EMBEDDING_MODEL, EmbeddingTextClassifier  # noqa: E402
from portico.guards.injection_rules import match_rules  # noqa: E402

OUT = sel.CACHE / "authored_weight"
PREVIOUS_NEURALCHEMY_VAL = 0.9457
MIN_VAL_RECALL = 0.97
ARTIFACTS = (INJECTION_MODEL, INJECTION_EMBEDDING_MODEL, CASCADE_CONFIG)


def cascade_scores(texts: list[str]) -> tuple[np.ndarray, CascadeConfig]:
    """Rules, then the shipped cascade (as the gateway scores)."""
    fast, slow = LinearTextClassifier(INJECTION_MODEL), EmbeddingTextClassifier(INJECTION_EMBEDDING_MODEL)
    config = CascadeConfig(json.loads(CASCADE_CONFIG.read_text(encoding="utf-8")))
    f = fast.scores(texts)[:, 0]
    s = slow.scores(texts, embed_with_disk_cache(MiniLMEmbedder(quantized=True), slow.views(texts), sel.CACHE))[:, 0]
    out = np.where(f >= config.escalate, combine(config.rule, f, s), f)
    return np.where([bool(match_rules(t)) for t in texts], 1.0, out), config


def evaluate(weight: float, contrast: bool) -> dict[str, float]:
    tg.AUTHORED_WEIGHT, tg.CONTRAST = weight, contrast
    target = OUT / f"{weight}_c{int(contrast)}"
    if not all((target / a.name).exists() for a in ARTIFACTS):
        tg.train_injection(sel.DATA)
        second.main()
        sel.main()
        target.mkdir(parents=True, exist_ok=True)
        for a in ARTIFACTS:
            shutil.copy(a, target / a.name)
    for a in ARTIFACTS:
        shutil.copy(target / a.name, a)
    v4, v3, y = sel.oof_scores()
    nt, ny = tg.read_neuralchemy(sel.DATA / "safety/injection_neuralchemy/validation.jsonl")
    ns, config = cascade_scores(nt)
    flag, block = config.thresholds["injection"], config.block_thresholds["injection"]
    val = np.where(v4 >= config.escalate, combine(config.rule, v4, v3), v4)
    row = {
        "weight": weight,
        "contrast": float(contrast),
        "slabs_val_recall_block": float(np.mean(val[y == 1] >= block)),
        "neuralchemy_val_recall_flag": float(np.mean(ns[ny == 1] >= flag)),
        "neuralchemy_val_fpr_flag": float(np.mean(ns[ny == 0] >= flag)),
    }
    for name, texts in benign_sources.load(benign_sources.CALIBRATION_SOURCES, sel.DATA).items():
        row[f"{name}_flag"] = float(np.mean(cascade_scores(texts)[0] >= flag))
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    settings = [(float(w.rstrip("c")), w.endswith("c")) for w in sys.argv[1:]] or [(1.0, False), (1.0, True)]
    rows = [evaluate(w, c) for w, c in settings]
    ok = [r for r in rows if r["neuralchemy_val_recall_flag"] >= PREVIOUS_NEURALCHEMY_VAL]
    ok = [r for r in ok if r["slabs_val_recall_block"] >= MIN_VAL_RECALL]
    best = (
        min(ok, key=lambda r: r["instructions_v1_flag"])
        if ok
        else max(rows, key=lambda r: r["neuralchemy_val_recall_flag"])
    )
    chosen = f"{best['weight']}_c{int(best['contrast'])}"
    print(f"chosen {chosen} ({'meets the rule' if ok else 'none met the rule: best neuralchemy recall'})")
    for a in ARTIFACTS:
        shutil.copy(OUT / chosen / a.name, a)
    print("set train_guards.AUTHORED_WEIGHT / CONTRAST to the chosen setting so a rebuild reproduces the artifacts")


if __name__ == "__main__":
    main()
