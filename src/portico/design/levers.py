"""The levers every candidate plan shares: the response cache (tier, scope, TTL, expected hit
rate), the guards' latency, and which optional gateway features this Portico's config
grammar has. Each comes with the decision that set it and the source of its figures."""

from __future__ import annotations

from dataclasses import dataclass

from portico.config import Settings
from portico.design.catalog import Catalog
from portico.design.decision import Decision, r
from portico.design.measurements import Measurements
from portico.design.requirements import FAST_CHANGING, Requirements

# Below this repeat share a cache costs more CPU than it saves (OPT-CACHE-SKIP).
MIN_REPEAT_SHARE_FOR_CACHE = 0.05
TTL_SECONDS: dict[str, float] = {
    "realtime": 300.0, "daily": 3600.0, "frequently": 3600.0, "weekly": 6 * 3600.0,
    "monthly": 86_400.0, "rarely": 86_400.0, "never": 7 * 86_400.0,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CachePlan:
    tier: str  # off | exact | semantic
    partition: str  # key | team | global
    ttl_seconds: float
    hit_rate: float
    decisions: tuple[Decision, ...]

    @property
    def enabled(self) -> bool:
        return self.tier != "off"


def available_sections() -> frozenset[str]:
    """Top-level sections the config grammar of this Portico accepts (the plan emits only these)."""
    return frozenset(Settings.model_fields)


def plan_cache(req: Requirements, catalog: Catalog, meas: Measurements) -> CachePlan:
    share = req.traffic.repeat_query_share
    ttl = TTL_SECONDS[req.knowledge.changes]
    if share < MIN_REPEAT_SHARE_FOR_CACHE:
        why = Decision(
            "OPT-CACHE-SKIP",
            "cost",
            "no response cache",
            f"Only {share:.0%} of queries repeat (< {MIN_REPEAT_SHARE_FOR_CACHE:.0%}): a cache would cost more "
            "CPU than it saves (seed, Cost Optimization: semantic caching pays at 60%+ similar queries).",
            {"traffic.repeat_query_share": share},
        )
        return CachePlan("off", "key", ttl, 0.0, (why,))
    exact_share = req.traffic.exact_repeat_share
    exact_src = "traffic.exact_repeat_share (yours)"
    if exact_share is None:
        exact_share = share * catalog.a("exact_share_of_repeats")
        exact_src = f"assumption: {catalog.assumptions['exact_share_of_repeats'].source}"
    exact_share = min(exact_share, share)
    ttl_capture = 1.0
    if req.knowledge.changes in FAST_CHANGING:
        ttl_capture = catalog.a("cache_ttl_capture_fast_changing_knowledge")
    sens = req.sensitivity
    decisions: list[Decision] = []
    # Health data: a semantic neighbour may be another patient's case; never share it, and
    # do not serve paraphrases at all (an approximate match on clinical detail is a wrong answer).
    if req.data.health or "hipaa" in req.compliance:
        tier, partition = "exact", "key"
        decisions.append(
            Decision(
                "CACHE-HEALTH",
                "safety",
                "exact cache, per key; no semantic cache",
                f"{share:.0%} of queries repeat, but the data is health data: a shared or semantic cache could "
                "serve one patient's answer to another. Only byte-identical repeats by the same key are served "
                "(seed, Safety Checklist: PII detection; Red Flags: safety bypass -> review).",
                {"traffic.repeat_query_share": share, "data.health": True},
            )
        )
    elif sens == "high" or req.data.personal:
        tier, partition = "semantic", "key"
        decisions.append(
            Decision(
                "CACHE-SCOPE-KEY",
                "safety",
                "cache scoped per key",
                f"Data sensitivity {sens}{' with personal data' if req.data.personal else ''}: entries are visible "
                "only to the key that stored them, so no tenant is served another's answer.",
                {"data.sensitivity": sens},
            )
        )
    elif sens == "medium":
        tier, partition = "semantic", "team"
        decisions.append(
            Decision(
                "CACHE-SCOPE-TEAM",
                "safety",
                "cache scoped per team",
                "Medium sensitivity: a team shares answers, teams never see each other's.",
                {"data.sensitivity": sens},
            )
        )
    else:
        tier, partition = "semantic", "global"
        decisions.append(
            Decision(
                "CACHE-SCOPE-GLOBAL",
                "safety",
                "cache shared by every key",
                "Low sensitivity: answers are public, so one shared cache maximises hits.",
                {"data.sensitivity": sens},
            )
        )
    recall = meas.v("semantic_cache_recall") if tier == "semantic" else 0.0
    # A per-key scope only serves repeats by the same caller; count them all (the requirement
    # states the repeat share as seen by the service) but say so in the caveat below.
    hit = ttl_capture * (exact_share + (share - exact_share) * recall)
    if "cache_hit_rate" in meas.figures:
        replayed = meas.v("cache_hit_rate")
        decisions.append(
            Decision(
                "OPT-CACHE",
                "cost",
                f"{tier} response cache ({partition} scope, TTL {ttl:g} s)",
                f"Hit rate {replayed:.1%} measured on your traffic ({meas.source('cache_hit_rate')}); the "
                f"estimate from the repeat share would be {hit:.1%}.",
                {"traffic.repeat_query_share": share, "expected_hit_rate": r(replayed, 4), "estimate": r(hit, 4)},
            )
        )
        return CachePlan(tier, partition, ttl, replayed, tuple(decisions))
    decisions.append(
        Decision(
            "OPT-CACHE",
            "cost",
            f"{tier} response cache ({partition} scope, TTL {ttl:g} s)",
            f"{share:.0%} of queries repeat; exact repeats {exact_share:.0%} ({exact_src}) are all served"
            + (
                f", paraphrases {share - exact_share:.0%} at the measured semantic recall {recall:.1%} "
                f"({meas.source('semantic_cache_recall')})"
                if tier == "semantic"
                else ""
            )
            + (f"; x{ttl_capture:g} for the short TTL fast-changing knowledge needs" if ttl_capture < 1 else "")
            + f": expected hit rate {hit:.1%}."
            + (
                " A per-key scope serves only a caller's own repeats: check the hit rate per key."
                if partition == "key"
                else ""
            ),
            {
                "traffic.repeat_query_share": share,
                "exact_repeat_share": r(exact_share, 4),
                "semantic_recall": recall,
                "expected_hit_rate": r(hit, 4),
            },
        )
    )
    return CachePlan(tier, partition, ttl, hit, tuple(decisions))


def guard_added_p95_ms(req: Requirements, meas: Measurements, *, parallel: bool) -> float:
    """Latency the input guards add at p95 for this prompt size (measured)."""
    full = meas.get("guard_p95_ms").at(req.traffic.avg_input_tokens)
    if not parallel:
        return full
    # parallel hides the block/flag guards behind the upstream call; scale the 300-token figure
    ratio = meas.v("guard_parallel_added_p95_ms") / meas.v("guard_sequential_added_p95_ms")
    return full * ratio


def guards_parallel(req: Requirements) -> bool:
    """Block/flag guards may overlap the upstream call unless an attack must never reach it."""
    return req.sensitivity != "high" and not req.compliance
