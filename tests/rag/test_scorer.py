"""The ``grounded`` eval scorer and the groundedness / hallucination figures of an eval summary."""

from __future__ import annotations

from portico.evals.dataset import Assertion, EvalCase
from portico.evals.metrics import summarise
from portico.evals.records import RowResult
from portico.evals.scoring import ScorerSet

CONTEXT = "The Normans were descendants of Norse raiders who settled in Normandy, in France, in the 10th century."


def _case(asserts: tuple[Assertion, ...] = (), metadata: dict[str, object] | None = None) -> EvalCase:
    return EvalCase(
        id="c1",
        line=1,
        messages=({"role": "user", "content": "Where did the Normans settle?"},),
        asserts=asserts,
        metadata=metadata or {},
    )


async def test_grounded_scorer_and_summary() -> None:
    scorers = ScorerSet()
    good = await scorers.check("They settled in Normandy, in France [1].", _case(), Assertion("grounded", CONTEXT))
    assert good[0].type == "grounded" and good[0].passed and good[0].value == 1.0
    mixed = await scorers.check(
        "They settled in Normandy. Their king was Barack Obama in 1999.",
        _case(metadata={"context": [CONTEXT]}),
        Assertion("faithfulness"),
    )
    assert not mixed[0].passed and mixed[0].value == 0.5 and "Obama" in mixed[0].reason
    missing = await scorers.check("Normandy.", _case(), Assertion("grounded"))
    assert not missing[0].passed and "no context" in missing[0].reason
    rows = [RowResult("t", "c", 1, "p", (), "o", c[0].passed, tuple(c), 10.0) for c in (good, mixed, missing)]
    summary = summarise("t", "model", rows, 3)
    assert summary.groundedness is not None and abs(summary.groundedness - 0.5) < 1e-9
    assert summary.hallucination_rate is not None and abs(summary.hallucination_rate - 2 / 3) < 1e-9
    plain = summarise("t", "model", [RowResult("t", "c", 1, "p", (), "o", True, (), 1.0)], 1)
    assert plain.groundedness is None and plain.hallucination_rate is None
