"""Hand labels for the cache benchmark: load them, and estimate false-hit shares and recall on them.

The labels (``bench/data/qqp_adjudicated_v1.jsonl``, written under
``bench/data/cache_labels_guidelines.md``) cover the QQP *test* part in three sampling
frames, fixed when the pairs were drawn (``bench/adjudication_dump.py``):

- ``served_25``: pairs served at the 25% operating point or at the shipped default,
- ``served_50``: pairs served at the 50% point and not in ``served_25``,
- ``unserved_dup``: pairs served at neither, with QQP label 1.

Inside a frame the labelled pairs are a uniform random sample (or all of it), so a served
set's wrong share is estimated frame by frame (the labelled pairs of that frame inside the
served set are a uniform sample of the served pairs in that frame) and the frame estimates
are weighted by how many served pairs each frame holds. ``meta`` records the thresholds the
frames were drawn with; when the judge has moved since, the frames no longer match and the
bench says so instead of trusting the estimate.

Later rounds (after the judge moved) label every newly served pair and draw no new unserved
ones. A pair that was served in an earlier round, and so labelled in full, may now be an
unserved duplicate: those pairs form a stratum of their own (``STRATA[3]``, every pair
labelled), so that the rest of ``unserved_dup`` is still sampled uniformly (by the first
round's draw, restricted to the pairs still in the frame).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from portico.cache.normalize import normalize_turn

DATA = Path(__file__).resolve().parent / "data"
LABELS = DATA / "qqp_adjudicated_v1.jsonl"
META = DATA / "qqp_adjudicated_v1.meta.json"
# Pairs only the experimental pair reader serves (bench/cache_quality.py --reader), labelled the
# same way in a round of their own; kept apart so the shipped judge's figures never see them.
READER_LABELS = DATA / "qqp_adjudicated_v1_reader.jsonl"
READER_META = DATA / "qqp_adjudicated_v1_reader.meta.json"
FRAMES = ("served_25", "served_50", "unserved_dup")
STRATA = (*FRAMES, "unserved_dup labelled when served earlier")
Z = 1.96

Mask = npt.NDArray[np.bool_]
Key = tuple[str, str]


def pair_key(text_a: str, text_b: str) -> Key:
    return normalize_turn(text_a), normalize_turn(text_b)


def load_labels(path: Path = LABELS) -> dict[Key, dict[str, Any]]:
    out: dict[Key, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out[pair_key(row["text_a"], row["text_b"])] = row
    return out


def load_meta(path: Path = META) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return meta


def meta_rounds(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The labelling rounds on record, newest first (each round keeps the one before as ``previous``)."""
    out = []
    node: dict[str, Any] | None = meta
    while node is not None:
        out.append(node)
        node = node.get("previous")
    return out


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval for k successes in n draws."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A share among ``population`` pairs from ``labelled`` hand labels; ``lo``/``hi`` 95%."""

    share: float
    lo: float
    hi: float
    population: int
    labelled: int
    complete: bool  # every pair of the population was labelled: the share is exact


def stratified_share(population: Mask, frame_of: npt.NDArray[np.int64], labelled: Mask, positive: Mask) -> Estimate:
    """The share of ``positive`` among ``population`` pairs, estimated from the labelled ones.

    ``frame_of`` numbers each pair's sampling frame (-1: in none). Per frame the labelled
    share is scaled to the frame's population; the interval adds the frames' Wilson bounds
    with the same weights (conservative: frame errors are not all at one extreme at once).
    A population pair outside every frame cannot be estimated: it raises.
    """
    total = int(population.sum())
    if total == 0:
        return Estimate(0.0, 0.0, 0.0, 0, 0, True)
    if (population & (frame_of < 0)).any():
        raise ValueError("some pairs of the population are in no labelling frame")
    share = lo = hi = 0.0
    n_labelled = 0
    complete = True
    for f in np.unique(frame_of[population]):
        in_f = population & (frame_of == f)
        n_f, lab = int(in_f.sum()), in_f & labelled
        n = int(lab.sum())
        if n == 0:
            raise ValueError(f"no labelled pair among the {n_f} served pairs of stratum {STRATA[f]}")
        k = int((lab & positive).sum())
        w = n_f / total
        f_lo, f_hi = (k / n, k / n) if n == n_f else wilson(k, n)
        share, lo, hi = share + w * k / n, lo + w * f_lo, hi + w * f_hi
        n_labelled += n
        complete = complete and n == n_f
    return Estimate(share, lo, hi, total, n_labelled, complete)
