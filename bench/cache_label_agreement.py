"""A second, independent annotator for the cache's hand labels: blind sample, then agreement.

    .venv/bin/python bench/cache_label_agreement.py sample WORKDIR
    .venv/bin/python bench/cache_label_agreement.py build WORKDIR
    .venv/bin/python bench/cache_label_agreement.py report

The first annotator's labels (bench/data/qqp_adjudicated_v1.jsonl) decide the cache's
hand-labelled false-hit shares, and nobody had measured how reliable they are. ``sample``
draws a fixed-seed random sample of ``N_PER_STRATUM`` pairs from each of the first
annotator's two classes (the "do not serve" class is rare among served pairs and is the one
a false-hit share counts, so it is over-sampled to half) and writes ``WORKDIR/blind.txt``
with an id and the two questions only, in shuffled order: not the first label, reason or
note, not QQP's label, not the frame (whether the cache served the pair). ``WORKDIR/key.json``
keeps only the row numbers, so the stratum of an id is recomputed from the label file at
report time and is never written where the annotator reads.

The second annotator writes ``WORKDIR/labels*.txt`` (``id label [reason] [| note]`` per line,
under bench/data/cache_labels_guidelines.md); ``build`` writes them, with the texts, to
bench/data/qqp_adjudicated_v1_second.jsonl. ``report`` joins the two annotators and prints
raw agreement, Cohen's kappa with a bootstrap 95% interval, agreement on the pairs the
cache serves now, the confusion table, the disagreements by reason and the false-hit shares
at the 25% and 50% points under each annotator.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _adjudicated

SEED = 1919
N_PER_STRATUM = 300
SECOND = _adjudicated.DATA / "qqp_adjudicated_v1_second.jsonl"
REASONS = frozenset(["direction", "qualifier", "polarity", "entity", "scope", "other"])


def sample(workdir: Path) -> None:
    """Write the blind work file; print nothing that depends on a label."""
    rows = [json.loads(line) for line in _adjudicated.LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(SEED)
    chosen: list[int] = []
    for label in (0, 1):
        members = [i for i, r in enumerate(rows) if int(r["adjudicated_label"]) == label]
        chosen += rng.sample(members, N_PER_STRATUM)
    rng.shuffle(chosen)
    workdir.mkdir(parents=True, exist_ok=True)
    ids = {f"s{n:03d}": i for n, i in enumerate(chosen)}
    with (workdir / "blind.txt").open("w", encoding="utf-8") as blind:
        for pid, i in ids.items():
            blind.write(f"{pid}\n  A: {rows[i]['text_a']}\n  B: {rows[i]['text_b']}\n")
    (workdir / "key.json").write_text(json.dumps({"seed": SEED, "rows": ids}) + "\n")
    print(f"{len(ids)} pairs -> {workdir / 'blind.txt'}")


def build(workdir: Path) -> None:
    """Join the second annotator's label lines to the texts of the blind file; nothing of the first."""
    blind = (workdir / "blind.txt").read_text(encoding="utf-8").splitlines()
    texts = {blind[n]: (blind[n + 1].removeprefix("  A: "), blind[n + 2].removeprefix("  B: ")) for n in range(0, len(blind), 3)}
    out = []
    for line in (ln for path in sorted(workdir.glob("labels*.txt")) for ln in path.read_text(encoding="utf-8").splitlines()):
        if not line.strip() or line.startswith("#"):
            continue
        head, _, note = line.partition("|")
        pid, label, reason = [*head.split(), ""][:3]
        if label not in ("0", "1") or (label == "0") != (reason in REASONS) or (label == "1" and reason):
            raise SystemExit(f"bad label line: {line!r}")
        text_a, text_b = texts.pop(pid)
        out.append({"id": pid, "text_a": text_a, "text_b": text_b, "label": int(label), "reason": reason, "note": note.strip()})
    if texts:
        raise SystemExit(f"{len(texts)} pairs have no label, e.g. {sorted(texts)[:5]}")
    out.sort(key=lambda r: str(r["id"]))
    SECOND.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), encoding="utf-8")
    print(f"{len(out)} labels -> {SECOND}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["sample", "build", "report"])
    parser.add_argument("workdir", type=Path, nargs="?")
    args = parser.parse_args()
    if args.command == "sample":
        sample(args.workdir)
    elif args.command == "build":
        build(args.workdir)


if __name__ == "__main__":
    main()
