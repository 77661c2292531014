"""Train the PII name/place tagger (src/portico/guards/data/pii_ner_v1.crfsuite).

    .venv/bin/python scripts/train_pii_ner.py [--data ../shared/data/safety/presidio_synth_v2.json]

Trains on the even template ids of presidio_synth_v2 (the "dev" half) plus sentences from
our own generic templates (scripts/pii_synth.py); the odd template ids are the held-out half
that bench/guards_quality.py reports on, so no sentence pattern of the test half is seen in
training. The regularisation is chosen by 2-fold cross-validation over templates inside the
dev half.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from pii_synth import Synth, read_word_lists  # noqa: E402

from portico.guards.ner import (  # noqa: E402
    MODEL_PATH,
    Gazetteer,
    NameTagger,
    Token,
    sentence_features,
    tokenize,
)

GOLD_LABEL = {"PERSON": "PER", "STREET_ADDRESS": "ADDR", "GPE": "LOC", "ZIP_CODE": "ADDR", "ORGANIZATION": "ORG"}


def bio(tokens: list[Token], spans: list[dict]) -> list[str]:
    labels = ["O"] * len(tokens)
    for s in sorted(spans, key=lambda s: s["start_position"]):
        kind = GOLD_LABEL.get(s["entity_type"])
        if kind is None:
            continue
        inside = [i for i, t in enumerate(tokens) if t.start < s["end_position"] and s["start_position"] < t.end]
        for n, i in enumerate(inside):
            labels[i] = ("B-" if n == 0 else "I-") + kind
    return labels


Hints = dict[str, list[tuple[int, int, str]]]


def spacy_hints(samples: list[dict]) -> Hints:
    if not os.environ.get("PII_SPACY_HINTS"):
        return {}
    from portico.guards.presidio_engine import build_nlp_engine

    nlp = build_nlp_engine().nlp["en"]
    return {x["full_text"]: [(e.start_char, e.end_char, e.label_) for e in nlp(x["full_text"]).ents] for x in samples}


def train(samples: list[dict], gaz: Gazetteer, path: Path, c1: float, c2: float, hints: Hints) -> None:
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for x in samples:
        tokens = tokenize(x["full_text"])
        if tokens:
            trainer.append(sentence_features(tokens, gaz, hints.get(x["full_text"], ())), bio(tokens, x["spans"]))
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": 200, "feature.possible_transitions": True})
    trainer.train(str(path))


def span_f1(samples: list[dict], tagger: NameTagger, hints: Hints) -> float:
    want = {"PERSON": "PERSON", "STREET_ADDRESS": "LOCATION", "GPE": "LOCATION", "ZIP_CODE": "LOCATION"}
    tp_p = n_p = tp_g = n_g = 0
    for x in samples:
        gold = [
            (s["start_position"], s["end_position"], want[s["entity_type"]])
            for s in x["spans"]
            if s["entity_type"] in want
        ]
        pred = [
            (s.start, s.end, want.get(s.type, s.type))
            for s in tagger.tag(x["full_text"], hints.get(x["full_text"], ()))
        ]
        n_p += len(pred)
        n_g += len(gold)
        tp_p += sum(any(g[2] == p[2] and g[0] < p[1] and p[0] < g[1] for g in gold) for p in pred)
        tp_g += sum(any(g[2] == p[2] and g[0] < p[1] and p[0] < g[1] for p in pred) for g in gold)
    p, r = tp_p / max(n_p, 1), tp_g / max(n_g, 1)
    return 2 * p * r / max(p + r, 1e-9)


def main() -> None:
    shared = Path(os.environ.get("PORTICO_SHARED_DATA", ROOT.parent / "shared" / "data"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=shared / "safety" / "presidio_synth_v2.json")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--synthetic", type=int, default=1500, help="template sentences added to the training set")
    args = ap.parse_args()
    samples = json.loads(args.data.read_text(encoding="utf-8"))
    dev = [x for x in samples if x["template_id"] % 2 == 0]
    gaz = Gazetteer.load()
    synth = Synth(read_word_lists(), seed=0).sentences(args.synthetic)
    hints = spacy_hints(dev + synth)
    best = (-1.0, 0.0, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for c1, c2 in ((0.1, 0.05), (0.3, 0.05), (1.0, 0.1)):
            scores = []
            for fold_id in (0, 1):
                fit = [x for x in dev if (x["template_id"] // 2) % 2 != fold_id]
                held = [x for x in dev if (x["template_id"] // 2) % 2 == fold_id]
                path = Path(tmp) / f"m{fold_id}.crfsuite"
                train(fit + synth, gaz, path, c1, c2, hints)
                scores.append(span_f1(held, NameTagger(path, gaz), hints))
            f1 = sum(scores) / len(scores)
            print(f"c1={c1} c2={c2}: template-held-out F1 {f1:.4f} ({scores[0]:.4f}, {scores[1]:.4f})")
            if f1 > best[0]:
                best = (f1, c1, c2)
    _, c1, c2 = best
    train(dev + synth, gaz, args.out, c1, c2, hints)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB) with c1={c1} c2={c2}")


if __name__ == "__main__":
    main()
