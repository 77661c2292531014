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
at the 25% and 50% points under each annotator. Which pairs are served is scored as
bench/cache_quality.py scores them (same judge, thresholds picked on the tune part); that
needs the QQP vectors under /tmp/portico-cache (the first run embeds ~105k texts: 11 min
at load average ~7 on 2 cores), then the report takes ~20 s.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _adjudicated
import numpy as np
import numpy.typing as npt

from portico.evals.agreement import cohen_kappa, stratified_bootstrap

SEED = 1919
N_PER_STRATUM = 300
SECOND = _adjudicated.DATA / "qqp_adjudicated_v1_second.jsonl"
POINTS = ("25%", "50%", "default")
N_BOOT = 2000
EXAMPLES = 12
Index = npt.NDArray[np.int64]
REASONS = frozenset(["direction", "qualifier", "polarity", "entity", "scope", "other"])


def first_rows() -> list[dict[str, Any]]:
    text = _adjudicated.LABELS.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def draw(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Sample id -> row of the first annotator's file: ``N_PER_STRATUM`` per first label, shuffled."""
    rng = random.Random(SEED)
    chosen: list[int] = []
    for label in (0, 1):
        members = [i for i, r in enumerate(rows) if int(r["adjudicated_label"]) == label]
        chosen += rng.sample(members, N_PER_STRATUM)
    rng.shuffle(chosen)
    return {f"s{n:03d}": i for n, i in enumerate(chosen)}


def sample(workdir: Path) -> None:
    """Write the blind work file; print nothing that depends on a label."""
    rows = first_rows()
    ids = draw(rows)
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / "blind.txt").open("w", encoding="utf-8") as blind:
        for pid, i in ids.items():
            blind.write(f"{pid}\n  A: {rows[i]['text_a']}\n  B: {rows[i]['text_b']}\n")
    (workdir / "key.json").write_text(json.dumps({"seed": SEED, "rows": ids}) + "\n")
    print(f"{len(ids)} pairs -> {workdir / 'blind.txt'}")


def build(workdir: Path) -> None:
    """Join the second annotator's label lines to the texts of the blind file; nothing of the first."""
    blind = (workdir / "blind.txt").read_text(encoding="utf-8").splitlines()
    texts = {
        blind[n]: (blind[n + 1].removeprefix("  A: "), blind[n + 2].removeprefix("  B: "))
        for n in range(0, len(blind), 3)
    }
    out = []
    for line in (
        ln for path in sorted(workdir.glob("labels*.txt")) for ln in path.read_text(encoding="utf-8").splitlines()
    ):
        if not line.strip() or line.startswith("#"):
            continue
        head, _, note = line.partition("|")
        pid, label, reason = [*head.split(), ""][:3]
        if label not in ("0", "1") or (label == "0") != (reason in REASONS) or (label == "1" and reason):
            raise SystemExit(f"bad label line: {line!r}")
        text_a, text_b = texts.pop(pid)
        out.append(
            {"id": pid, "text_a": text_a, "text_b": text_b, "label": int(label), "reason": reason, "note": note.strip()}
        )
    if texts:
        raise SystemExit(f"{len(texts)} pairs have no label, e.g. {sorted(texts)[:5]}")
    out.sort(key=lambda r: str(r["id"]))
    SECOND.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), encoding="utf-8")
    print(f"{len(out)} labels -> {SECOND}")


@dataclass(frozen=True, slots=True)
class Joined:
    """The sample with both annotators' labels; ``weight`` is the pair's design weight."""

    first: npt.NDArray[np.int64]
    second: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    served: dict[str, npt.NDArray[np.bool_]]
    rows: list[dict[str, Any]]  # first annotator's rows
    seconds: list[dict[str, Any]]  # second annotator's rows, same order


def served_now() -> tuple[dict[str, set[_adjudicated.Key]], dict[str, float]]:
    """Pair keys the shipped judge serves on the QQP test part at each point, as bench/cache_quality.py does."""
    import _qqp
    from cache_quality import operating_thresholds, score_parts

    from portico.cache.settings import SemanticSettings

    pairs = _qqp.load_pairs()
    parts, _ = score_parts(pairs)
    te = parts["test"]
    eligible = te.eligible(SemanticSettings().min_similarity)
    thresholds = {f"{t:.0%}": thr for t, (thr, _) in operating_thresholds(parts["tune"]).items()}
    thresholds["default"] = SemanticSettings().verifier_threshold
    keys = [_adjudicated.pair_key(str(pairs[i]["text_a"]), str(pairs[i]["text_b"])) for i in te.idx]
    out = {}
    for name in POINTS:
        hit = eligible & (te.p >= thresholds[name])
        out[name] = {k for k, h in zip(keys, hit, strict=True) if h}
    return out, thresholds


def join(served_keys: dict[str, set[_adjudicated.Key]]) -> Joined:
    rows = first_rows()
    ids = draw(rows)
    seconds = [json.loads(line) for line in SECOND.read_text(encoding="utf-8").splitlines() if line.strip()]
    if sorted(r["id"] for r in seconds) != sorted(ids):
        raise SystemExit(f"{SECOND} does not hold exactly the drawn sample")
    firsts = [rows[ids[r["id"]]] for r in seconds]
    for a, b in zip(firsts, seconds, strict=True):
        if (a["text_a"], a["text_b"]) != (b["text_a"], b["text_b"]):
            raise SystemExit(f"texts of {b['id']} differ between the two files")
    first = np.asarray([int(r["adjudicated_label"]) for r in firsts])
    population = {c: sum(int(r["adjudicated_label"]) == c for r in rows) for c in (0, 1)}
    weight = np.asarray([population[int(c)] / N_PER_STRATUM for c in first], dtype=np.float64)
    keys = [_adjudicated.pair_key(r["text_a"], r["text_b"]) for r in firsts]
    served = {name: np.asarray([k in s for k in keys]) for name, s in served_keys.items()}
    return Joined(first, np.asarray([int(r["label"]) for r in seconds]), weight, served, firsts, seconds)


def _agreement(j: Joined, idx: Index, weighted: bool) -> float:
    w = j.weight[idx] if weighted else np.ones(len(idx))
    return float((w * (j.first[idx] == j.second[idx])).sum() / w.sum())


def _kappa(j: Joined, idx: Index, weighted: bool) -> float:
    return cohen_kappa(j.first[idx], j.second[idx], j.weight[idx] if weighted else None)


def _subset_stat(
    j: Joined, mask: npt.NDArray[np.bool_], f: Callable[[Joined, Index, bool], float], weighted: bool
) -> Callable[[Index], float]:
    def stat(idx: Index) -> float:
        keep = idx[mask[idx]]
        return f(j, keep, weighted) if len(keep) else float("nan")

    return stat


def false_hit_share(
    j: Joined, hit: npt.NDArray[np.bool_], served_counts: dict[int, int], idx: Index, of_second: bool
) -> float:
    """The share of served pairs labelled 0, from the sampled served pairs of each first-annotator
    class weighted by how many served pairs that class holds (all served pairs carry a first label)."""
    total = sum(served_counts.values())
    labels = j.second if of_second else j.first
    share = 0.0
    for c, n_c in served_counts.items():
        keep = idx[hit[idx] & (j.first[idx] == c)]
        if len(keep) == 0:
            return float("nan")
        share += n_c / total * float((labels[keep] == 0).mean())
    return share


def report(served_keys: dict[str, set[_adjudicated.Key]], thresholds: dict[str, float]) -> None:
    started = time.perf_counter()
    j = join(served_keys)
    n = len(j.first)
    everything = np.arange(n, dtype=np.int64)
    strata = [int(c) for c in j.first]
    pop = {c: round(float(j.weight[j.first == c][0]) * N_PER_STRATUM) for c in (0, 1)}
    print(
        f"sample: {n} pairs, {N_PER_STRATUM} from each first-annotator class "
        f"(population: {pop[0]} labelled 0, {pop[1]} labelled 1, {sum(pop.values())} in all); seed {SEED}"
    )
    print(
        f"served at the current points (thresholds {thresholds}): "
        + ", ".join(f"{k} {int(v.sum())} of the sample" for k, v in j.served.items())
    )

    print("\nconfusion (rows: first annotator, columns: second annotator), sample counts")
    print(f"{'':>10} {'second 0':>9} {'second 1':>9}")
    for c in (0, 1):
        print(
            f"{'first ' + str(c):>10} {int(((j.first == c) & (j.second == 0)).sum()):>9} "
            f"{int(((j.first == c) & (j.second == 1)).sum()):>9}"
        )
    for c in (0, 1):
        same = j.first == c
        share = float((j.second[same] == c).mean())
        lo, hi = _adjudicated.wilson(int((j.second[same] == c).sum()), int(same.sum()))
        print(f"  second annotator agrees with first-annotator label {c} on {share:.1%} (95% CI {lo:.1%}-{hi:.1%})")

    def line(name: str, mask: npt.NDArray[np.bool_]) -> dict[str, float]:
        out: dict[str, float] = {"n": float(mask.sum())}
        for weighted in (False, True):
            tag = "w_" if weighted else ""
            ag = _agreement(j, everything[mask], weighted)
            kp = _kappa(j, everything[mask], weighted)
            ag_ci = stratified_bootstrap(_subset_stat(j, mask, _agreement, weighted), strata, n_boot=N_BOOT, seed=1)
            kp_ci = stratified_bootstrap(_subset_stat(j, mask, _kappa, weighted), strata, n_boot=N_BOOT, seed=2)
            out |= {f"{tag}agreement": ag, f"{tag}agreement_lo": ag_ci[0], f"{tag}agreement_hi": ag_ci[1],
                    f"{tag}kappa": kp, f"{tag}kappa_lo": kp_ci[0], f"{tag}kappa_hi": kp_ci[1]}  # fmt: skip
        print(f"{name:>22} {int(mask.sum()):>5} {out['agreement']:>7.3f} "
              f"({out['agreement_lo']:.3f}-{out['agreement_hi']:.3f}) "
              f"{out['kappa']:>6.3f} ({out['kappa_lo']:.3f}-{out['kappa_hi']:.3f}) | "
              f"{out['w_agreement']:>6.3f} ({out['w_agreement_lo']:.3f}-{out['w_agreement_hi']:.3f}) "
              f"{out['w_kappa']:>6.3f} ({out['w_kappa_lo']:.3f}-{out['w_kappa_hi']:.3f})")  # fmt: skip
        return out

    print(
        f"\nagreement and Cohen's kappa, 95% stratified bootstrap ({N_BOOT} resamples); left: the sample as drawn "
        "(half each first class), right: weighted back to all labelled pairs"
    )
    print(f"{'pairs':>22} {'n':>5} {'agreement':>21} {'kappa':>21} | {'agreement':>20} {'kappa':>20}")
    figures = {"all": line("all sampled", np.ones(n, dtype=bool))}
    for name in POINTS:
        figures[name] = line(f"served at {name}", j.served[name])
    figures["unserved"] = line("served at none", ~j.served["50%"])

    # Why they disagree: the first annotator's reason where it said 0, the second's where it said 0.
    print("\ndisagreements by reason")
    for c, who in (
        (0, "first 0 / second 1 (first annotator's reason)"),
        (1, "first 1 / second 0 (second annotator's reason)"),
    ):
        rows = [k for k in range(n) if j.first[k] == c and j.second[k] != c]
        reasons = Counter(j.rows[k]["reason"] if c == 0 else j.seconds[k]["reason"] for k in rows)
        print(f"  {who}: {len(rows)}: {dict(reasons.most_common())}")
    both = [k for k in range(n) if j.first[k] == 0 and j.second[k] == 0]
    same_reason = sum(j.rows[k]["reason"] == j.seconds[k]["reason"] for k in both)
    pairs = Counter(
        (j.rows[k]["reason"], j.seconds[k]["reason"]) for k in both if j.rows[k]["reason"] != j.seconds[k]["reason"]
    )
    print(
        f"  both 0: {len(both)}, same reason on {same_reason} ({same_reason / max(len(both), 1):.0%}); "
        f"differing (first, second): {dict(pairs.most_common(8))}"
    )
    print("\nexamples (every k-th disagreement, ids of the second annotator's file)")
    dis = [k for k in range(n) if j.first[k] != j.second[k]]
    for k in dis[:: max(len(dis) // EXAMPLES, 1)][:EXAMPLES]:
        a, b = j.rows[k], j.seconds[k]
        print(f"  {b['id']} first {a['adjudicated_label']} [{a['reason']}] {a['note']!r} / second {b['label']} "
              f"[{b['reason']}] {b['note']!r}\n      {a['text_a']!r} / {a['text_b']!r}")  # fmt: skip

    # False-hit shares at the operating points: every served pair carries a first label, so the
    # first annotator's share is exact; the second's is estimated per first-annotator class.
    print(
        "\nfalse-hit share among served pairs (first: exact over every served pair; second: the sampled served "
        "pairs of each first class, weighted by that class's served count; 95% stratified bootstrap)"
    )
    all_rows = first_rows()
    all_keys = {_adjudicated.pair_key(r["text_a"], r["text_b"]): int(r["adjudicated_label"]) for r in all_rows}
    shares: dict[str, tuple[float, float, float, float]] = {}
    for name in POINTS:
        labelled = [all_keys[k] for k in served_keys[name] if k in all_keys]
        counts = {c: sum(x == c for x in labelled) for c in (0, 1)}
        missing = len(served_keys[name]) - len(labelled)
        hit = j.served[name]
        first_exact = counts[0] / max(sum(counts.values()), 1)
        first_est = false_hit_share(j, hit, counts, everything, of_second=False)
        second = false_hit_share(j, hit, counts, everything, of_second=True)
        lo, hi = stratified_bootstrap(
            lambda i, h=hit, c=counts: false_hit_share(j, h, c, i, True), strata, n_boot=N_BOOT, seed=3
        )
        raw_first = float((j.first[hit] == 0).mean())
        raw_second = float((j.second[hit] == 0).mean())
        print(f"  {name:>7}: served {len(served_keys[name])} ({missing} without a first label), "
              f"first 0 on {counts[0]}: first {first_exact:.4f} (estimator on the sample {first_est:.4f}), "
              f"second {second:.4f} (95% CI {lo:.4f}-{hi:.4f}); sampled served pairs {int(hit.sum())} "
              f"(first 0: {int((j.first[hit] == 0).sum())}), "
              f"unweighted 0-share first {raw_first:.3f} / second {raw_second:.3f}")  # fmt: skip
        shares[name] = (first_exact, second, lo, hi)
    print(f"({time.perf_counter() - started:.0f} s)")
    a, f25, f50 = figures["all"], figures["25%"], figures["50%"]
    print(
        f"RESULT label_agreement={a['agreement']:.4f} cohen_kappa={a['kappa']:.4f} "
        f"cohen_kappa_lo={a['kappa_lo']:.4f} cohen_kappa_hi={a['kappa_hi']:.4f} "
        f"weighted_label_agreement={a['w_agreement']:.4f} weighted_cohen_kappa={a['w_kappa']:.4f} "
        f"agreement_served_25={f25['agreement']:.4f} kappa_served_25={f25['kappa']:.4f} "
        f"agreement_served_50={f50['agreement']:.4f} kappa_served_50={f50['kappa']:.4f} "
        f"first_false_hit_share_at_25={shares['25%'][0]:.4f} second_false_hit_share_at_25={shares['25%'][1]:.4f} "
        f"second_false_hit_share_at_25_lo={shares['25%'][2]:.4f} "
        f"second_false_hit_share_at_25_hi={shares['25%'][3]:.4f} "
        f"first_false_hit_share_at_50={shares['50%'][0]:.4f} second_false_hit_share_at_50={shares['50%'][1]:.4f} "
        f"second_false_hit_share_at_50_lo={shares['50%'][2]:.4f} "
        f"second_false_hit_share_at_50_hi={shares['50%'][3]:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["sample", "build", "report"])
    parser.add_argument("workdir", type=Path, nargs="?")
    args = parser.parse_args()
    if args.command == "sample":
        sample(args.workdir)
    elif args.command == "build":
        build(args.workdir)
    else:
        report(*served_now())


if __name__ == "__main__":
    main()
