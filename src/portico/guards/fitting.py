"""``portico guard fit``: the injection guard's block cut calibrated on the operator's own
benign traffic.

Why: the shipped block cut is set so that at most 1% of each of our calibration sources
(ARC, Winogrande, Banking77, authored instructions) is blocked; a deployment's own traffic
(a support bot's tickets, a coding assistant's requests) has shapes none of them has. Given
logged prompts the operator knows to be benign, this finds the lowest cut that blocks at
most ``max_share`` of them, never below the shipped block cut (it only ever makes blocking
rarer), and reads what the cut costs in recall off the curve ``select_guard_cascade.py``
stored with the cascade (s-labs validation attacks, out-of-fold). The answer is a number
for ``threshold:`` in the injection guard's config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from portico.guards.injection_rules import match_rules
from portico.guards.runtime import GuardRuntime


@dataclass(frozen=True)
class BlockFit:
    """The fitted cut and what the shipped and fitted cuts do on the operator's texts."""

    n: int
    max_share: float
    shipped_flag: float
    shipped_block: float
    cut: float
    flagged_at_shipped_flag: float
    blocked_at_shipped_block: float
    blocked_at_cut: float
    rule_matches: int  # texts a rule blocks whatever the cut (a rule match takes the action)
    recall_at_shipped_block: float | None  # s-labs validation recall (out-of-fold), from the curve
    recall_at_cut: float | None


def validation_recall(curve: Sequence[Sequence[float]], cut: float) -> float | None:
    """Recall at ``cut`` on the stored curve (pairs of cut and recall, cuts increasing): the
    value at the lowest stored cut at or above ``cut``, a lower bound (recall falls as the
    cut rises); None past the curve's end."""
    above = [float(r) for c, r in curve if float(c) >= cut - 1e-9]
    return above[0] if above else None


def fit_block_cut(runtime: GuardRuntime, texts: Sequence[str], max_share: float = 0.01) -> BlockFit:
    """The lowest cut, at or above the shipped block cut, that blocks at most ``max_share``
    of ``texts`` (the cascade's scores; texts a rule matches are counted apart, since no cut
    lets them through)."""
    if not texts:
        raise ValueError("no texts to fit on")
    if not 0.0 <= max_share < 1.0:
        raise ValueError("max_share must be in [0, 1)")
    cascade = runtime.injection_cascade
    flag, block = cascade.thresholds["injection"], cascade.block_thresholds["injection"]
    scores, _ = runtime.injection_cascade_scores(list(texts))
    ruled = np.array([bool(match_rules(t)) for t in texts])
    free = np.sort(scores[~ruled])[::-1]
    allowed = int(np.floor(max_share * len(texts))) - int(ruled.sum())
    if allowed < 0:
        cut = 1.0  # the rules alone already exceed the share: no score cut can help
    elif allowed >= len(free):
        cut = block
    else:
        cut = max(block, float(free[allowed]) + 1e-6)
    cut = min(cut, 1.0)
    curve = cascade.meta.get("recall_curve", [])
    return BlockFit(
        n=len(texts),
        max_share=max_share,
        shipped_flag=flag,
        shipped_block=block,
        cut=cut,
        flagged_at_shipped_flag=float(np.mean((scores >= flag) | ruled)),
        blocked_at_shipped_block=float(np.mean((scores >= block) | ruled)),
        blocked_at_cut=float(np.mean((scores >= cut) | ruled)),
        rule_matches=int(ruled.sum()),
        recall_at_shipped_block=validation_recall(curve, block),
        recall_at_cut=validation_recall(curve, cut),
    )
