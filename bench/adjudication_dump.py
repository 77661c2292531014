"""Draw the QQP test pairs to label by hand for bench/cache_quality.py, blind, and merge the labels.

    .venv/bin/python bench/adjudication_dump.py dump WORKDIR [--served-25 N] [--served-50 N] [--unserved 300] [--reader]
    .venv/bin/python bench/adjudication_dump.py merge WORKDIR
    .venv/bin/python bench/adjudication_dump.py dump-train WORKDIR [--floor 0.5]  (then merge-train)

``dump`` scores the test part with the shipped judge at the operating points
bench/cache_quality.py picks on the tune part, draws a uniform sample (fixed seed; the
whole frame when N is at least its size) from each frame of ``_adjudicated.FRAMES``, and
writes ``WORKDIR/blind.txt``: the pairs in shuffled order with an id and the two texts
only, neither QQP's label nor whether the cache served them, so the annotator cannot lean
on either. ``WORKDIR/key.jsonl`` keeps what the annotator must not see until ``merge``.
A later ``--round`` draws larger samples (prefixes of the same shuffles) and writes only
the pairs not drawn before (``blind_rN.txt``, ``key_rN.jsonl``); after the judge has moved,
``--round N --unserved 0`` labels every newly served pair and keeps the first round's
unserved sample (see ``_adjudicated``; the earlier draws stay in the meta as ``previous``). The annotator writes
``WORKDIR/labels*.txt``: ``id label [reason] [| note]`` per line,
under bench/data/cache_labels_guidelines.md. ``merge`` joins both into
bench/data/qqp_adjudicated_v1.jsonl and records the thresholds in its ``.meta.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _adjudicated
import _qqp
from cache_quality import frames_for, load_reader, operating_thresholds, score_parts

from portico.cache.reader import READER_FILE
from portico.cache.settings import SemanticSettings
from portico.cache.verifier import VERIFIER_FILE

SEED = 19
TRAIN_LABELS = _adjudicated.DATA / "qqp_train_adjudicated_v1.jsonl"
REASONS = frozenset(["direction", "qualifier", "polarity", "entity", "scope", "other", ""])


def dump(workdir: Path, sizes: dict[str, int], round_no: int, reader: bool = False) -> None:
    rows = _qqp.load_pairs()
    parts, _ = score_parts(rows, load_reader() if reader else None)
    te = parts["test"]
    eligible = te.eligible(SemanticSettings().min_similarity)
    thresholds = {f"{t:.0%}": thr for t, (thr, _) in operating_thresholds(parts["tune"]).items()}
    thresholds["default"] = SemanticSettings().verifier_threshold
    served = {name: eligible & (te.p >= thr) for name, thr in thresholds.items()}
    frame_of = frames_for(served, te.y)
    rng = random.Random(SEED)
    chosen: list[tuple[int, str]] = []
    drawn: dict[str, int] = {}
    for f, name in enumerate(_adjudicated.FRAMES):
        members = [int(k) for k in np.flatnonzero(frame_of == f)]
        rng.shuffle(members)  # a prefix of one shuffle: a larger N later only adds pairs
        take = sorted(members[: sizes[name]])
        print(f"frame {name}: {len(members)} pairs, {len(take)} drawn")
        drawn[name] = len(take)
        chosen += [(k, name) for k in take]
    # Later rounds draw larger prefixes of the same shuffles and leave out what is labelled.
    done = {(r["text_a"], r["text_b"]) for r in _keys(workdir).values()}
    chosen = [(k, f) for k, f in chosen if (rows[te.idx[k]]["text_a"], rows[te.idx[k]]["text_b"]) not in done]
    rng.shuffle(chosen)
    workdir.mkdir(parents=True, exist_ok=True)
    suffix, prefix = ("", "p") if round_no == 1 else (f"_r{round_no}", f"r{round_no}p")
    blind_path = workdir / f"blind{suffix}.txt"
    with blind_path.open("w") as blind, (workdir / f"key{suffix}.jsonl").open("w") as key:
        for n, (k, frame) in enumerate(chosen):
            row = rows[te.idx[k]]
            pid = f"{prefix}{n:04d}"
            blind.write(f"{pid}\n  A: {row['text_a']}\n  B: {row['text_b']}\n")
            key.write(json.dumps({"id": pid, "text_a": row["text_a"], "text_b": row["text_b"],
                                  "raw_label": int(row["label"]), "frame": frame}) + "\n")  # fmt: skip
    meta = {
        "thresholds": thresholds,
        "frame_sizes": {name: int((frame_of == f).sum()) for f, name in enumerate(_adjudicated.FRAMES)},
        "drawn": drawn,
        "seed": SEED,
        "verifier_sha256": hashlib.sha256(VERIFIER_FILE.read_bytes()).hexdigest(),
    }
    if reader:  # the served sets of the experimental pair reader (cache_quality.py --reader)
        meta["reader_sha256"] = hashlib.sha256(READER_FILE.read_bytes()).hexdigest()
    if round_no > 1 and (workdir / "meta.json").exists():  # keep the draws of earlier rounds on record
        meta["previous"] = json.loads((workdir / "meta.json").read_text())
    (workdir / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{len(chosen)} pairs -> {blind_path}")


def dump_train(workdir: Path, floor: float) -> None:
    """Train pairs the shipped judge would consider (similarity floor, no veto) with a verifier
    score >= ``floor``: the region where QQP's label noise shapes the verifier most. Labelled the
    same way, for bench/train_cache_verifier.py; never read by the quality bench."""
    from train_cache_verifier import features_for, interactions_for

    from portico.cache.verifier import PairVerifier

    rows = _qqp.load_pairs()
    train, _, _ = _qqp.split_pairs(rows)
    vecs = _qqp.embed_cached([str(r[k]) for r in rows for k in ("text_a", "text_b")])
    verifier = PairVerifier()
    x, _, cos, vetoed = features_for(rows, train, vecs, verifier.rarity)
    p = verifier.probability(x, interactions_for(rows, train, vecs))
    chosen = [
        (train[k], "train") for k in np.flatnonzero((cos >= SemanticSettings().min_similarity) & ~vetoed & (p >= floor))
    ]
    random.Random(SEED).shuffle(chosen)
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / "blind.txt").open("w") as blind, (workdir / "key.jsonl").open("w") as key:
        for n, (i, frame) in enumerate(chosen):
            row = rows[i]
            blind.write(f"t{n:04d}\n  A: {row['text_a']}\n  B: {row['text_b']}\n")
            key.write(json.dumps({"id": f"t{n:04d}", "text_a": row["text_a"], "text_b": row["text_b"],
                                  "raw_label": int(row["label"]), "frame": frame}) + "\n")  # fmt: skip
    (workdir / "meta.json").write_text(json.dumps({"part": "train", "floor": floor, "seed": SEED}, indent=1) + "\n")
    print(f"{len(chosen)} train pairs -> {workdir / 'blind.txt'}")


def _keys(workdir: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(workdir.glob("key*.jsonl")):
        out.update({r["id"]: r for r in map(json.loads, path.read_text().splitlines())})
    return out


def merge(workdir: Path, target: Path = _adjudicated.LABELS) -> None:
    keys = _keys(workdir)
    out = []
    lines = [line for path in sorted(workdir.glob("labels*.txt")) for line in path.read_text().splitlines()]
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        head, _, note = line.partition("|")
        pid, label, reason = [*head.split(), ""][:3]
        if label not in ("0", "1") or reason not in REASONS or (label == "0") != bool(reason):
            raise SystemExit(f"bad label line: {line!r}")
        r = keys.pop(pid)
        hand = {"adjudicated_label": int(label), "reason": reason, "note": note.strip()}
        texts = {"text_a": r["text_a"], "text_b": r["text_b"], "raw_label": r["raw_label"]}
        out.append({**texts, **hand, "frame": r["frame"]})
    if keys:
        raise SystemExit(f"{len(keys)} pairs have no label, e.g. {sorted(keys)[:5]}")
    out.sort(key=lambda r: (r["frame"], r["text_a"], r["text_b"]))
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), encoding="utf-8")
    target.with_suffix(".meta.json").write_text((workdir / "meta.json").read_text())
    print(f"{len(out)} labels -> {target}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["dump", "merge", "dump-train", "merge-train"])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--served-25", type=int, default=10**9)
    parser.add_argument("--served-50", type=int, default=10**9)
    parser.add_argument("--unserved", type=int, default=300)
    parser.add_argument("--round", type=int, default=1, help="a later round adds pairs not labelled yet")
    parser.add_argument("--floor", type=float, default=0.5, help="dump-train: lowest verifier score drawn")
    parser.add_argument("--reader", action="store_true", help="dump: the served sets with the pair reader on")
    args = parser.parse_args()
    if args.command == "dump":
        sizes = {"served_25": args.served_25, "served_50": args.served_50, "unserved_dup": args.unserved}
        dump(args.workdir, sizes, args.round, args.reader)
    elif args.command == "dump-train":
        dump_train(args.workdir, args.floor)
    elif args.command == "merge-train":
        merge(args.workdir, TRAIN_LABELS)
    else:
        merge(args.workdir)


if __name__ == "__main__":
    main()
