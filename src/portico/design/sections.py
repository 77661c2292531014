"""The parts of architecture.md an architect writes around the plan: RAG design, eval plan,
rollout with gates, failure modes with runbook entries, human handoff, compliance statements.
Each is derived from the requirements and the chosen plan, never boilerplate for all."""

from __future__ import annotations

from portico.design.levers import available_sections
from portico.design.plan import CACHE_CRITICAL, COST_CRITICAL_X, ERROR_CRITICAL, P95_CRITICAL_X, Design
from portico.design.requirements import FAST_CHANGING

REINDEX = {
    "realtime": "on every change (event-driven upsert)", "daily": "daily, plus on-change upserts",
    "frequently": "hourly incremental", "weekly": "weekly", "monthly": "monthly", "rarely": "on release",
    "never": "once",
}  # fmt: skip
# Share of the prompt left for retrieved context after the system prompt and the question.
CONTEXT_SHARE = 0.7
# MiniLM reads at most 256 word pieces: 200-token chunks with 40 overlap stay whole inside the
# embedder (Portico's RAG ingestion default, measured in docs/rag.md).
CHUNK_TOKENS, CHUNK_OVERLAP, MAX_K = 200, 40, 8


def context_plan(avg_input_tokens: float) -> tuple[int, int, int]:
    """(chunk tokens, top k, context tokens) that fit the prompt size the cost model assumes."""
    context = int(avg_input_tokens * CONTEXT_SHARE)
    return CHUNK_TOKENS, max(1, min(MAX_K, context // CHUNK_TOKENS)), context


def rag_design(d: Design) -> list[str]:
    req = d.requirements
    k = req.knowledge
    chunk, top_k, context = context_plan(req.traffic.avg_input_tokens)
    store = (
        "pgvector on the shared PostgreSQL (the extension must be installed)"
        if d.gateway.postgres
        else "the gateway's embedded index (SQLite + usearch + bm25s)"
    )
    return [
        "## RAG design",
        "",
        f"- **Chunking**: ~{chunk}-token chunks with {CHUNK_OVERLAP}-token overlap (whole inside MiniLM's 256 "
        "word pieces), split on sentences and headings, deduplicated by content hash; "
        "paragraphs; each chunk keeps its document id, title, section and updated-at for citations and deletes.",
        "- **Embedding model**: all-MiniLM-L6-v2 (int8 ONNX, the gateway's local embedder; "
        f"{d.measurements.v('embed_p95_ms'):g} ms p95 per query, measured), so no text leaves for embedding.",
        f"- **Store**: {store}; hybrid retrieval (dense + BM25, reciprocal rank fusion), top {top_k}.",
        f"- **Re-index cadence**: {REINDEX[k.changes]} (knowledge changes '{k.changes}', {k.size_docs:,} docs); "
        "a deleted document's chunks are removed in the same run.",
        f"- **Context budget**: {top_k} x {chunk} tokens (<= {context:,}, {CONTEXT_SHARE:.0%} of the "
        f"{req.traffic.avg_input_tokens:g}-token average prompt the cost model assumes; the rest is system prompt "
        "and question); answers cite chunk ids. If your prompt size excludes the context, add it to "
        "traffic.avg_input_tokens and re-run the design.",
        *(
            [
                "- **Serving**: ingest with `portico rag ingest` into a vector store; clients send "
                "`model: rag/<store>` (or the file_search tool); answers carry [n] citations, abstain when the "
                "best retrieval score is below the calibrated threshold, and report per-sentence groundedness "
                "(metric `portico_rag_ungrounded_sentences_total`)."
            ]
            if "rag" in available_sections()
            else ["- **Serving**: retrieve in the application until this Portico has vector stores."]
        ),
        "- **Cache and freshness**: cache TTL "
        f"{d.cache.ttl_seconds:g} s"
        + ("; re-indexing flushes the cache scope of changed documents." if k.changes in FAST_CHANGING else "."),
        "",
    ]


def eval_plan(d: Design) -> list[str]:
    req = d.requirements
    q = req.quality
    dataset = q.eval_dataset or "an eval set of >= 500 real, labelled requests (held out: never used to tune prompts)"
    free_text = req.output.format in ("text", "markdown")
    o = ["## Eval plan", "", f"- **Dataset**: {dataset}; refresh it from production samples monthly."]
    if d.rag:
        o.append(
            "- **Retrieval**: recall@5 and MRR of the gold passage per question (target recall@5 >= 0.9), on a "
            "set where each question names its source document"
            + (" (`portico rag eval`)." if "rag" in available_sections() else ".")
        )
        o.append(
            "- **Answers**: groundedness (every claim supported by a cited chunk, judged per claim; target >= 0.9, "
            "critical 0.8) and hallucination rate (<= 5%, the seed's red flag)"
            + (
                "; free-text answers are judged against references (LLM judge + a human-rated sample), not by "
                "exact match."
                if free_text
                else "; structured answers by field-level exact match."
            )
        )
    elif free_text and q.metric.startswith("exact match"):
        o.append(
            f"- **Metric**: '{q.metric}' does not fit free-text answers; use reference-based judging (LLM judge "
            "calibrated on a human-rated sample) for accuracy."
        )
    else:
        o.append(
            f"- **Metric**: {q.metric}; target >= {q.min_accuracy:g}, critical {max(0.0, q.min_accuracy - 0.1):g}."
        )
    if req.output.format == "json":
        o.append("- **Format**: schema-valid rate 100% after the gateway's one repair attempt.")
    if req.agent.tool_use:
        o.append("- **Agents**: task success rate end to end and tool-call argument validity, per step count.")
    o.append(
        "- **Safety**: injection and content suites (adversarial examples, seed checklist), PII leak rate 0 in "
        "upstream logs of the fake provider; run `portico eval` with `--targets targets.yaml` in CI."
    )
    c = d.chosen
    if c is not None and c.plan.kind in ("route", "cascade"):
        assert c.plan.fast is not None
        o.append(
            f"- **Router**: replay your traffic through `portico eval router` to measure the strong share that "
            f"keeps quality >= {q.min_accuracy:g}; the plan assumes {c.plan.strong_share:.1%} (from the measured "
            "MMLU curve)."
        )
    o.append("")
    return o


def rollout(d: Design) -> list[str]:
    req = d.requirements
    lat = req.latency_target_ms
    gate = (
        f"p95 <= {lat:g} ms" if lat is not None else "batch turnaround within the provider window"
    ) + f", accuracy >= {req.quality.min_accuracy:g} on the eval set, error rate < 1%"
    if req.budget.usd_per_month is not None:
        gate += ", projected spend within budget"
    return [
        "## Rollout plan",
        "",
        f"1. **Offline gate**: `portico eval` on the eval set meets targets.yaml ({gate}).",
        "2. **Shadow** (1 week): mirror production requests to the new path, answers discarded; compare quality "
        "on a sampled, judged subset, latency and cost per request. Gate: the same targets on real traffic.",
        "3. **Canary** 5% -> 25% -> 50%: by key or team (a dedicated virtual key per cohort). Gate per step "
        "(>= 24 h each): no critical alert, error rate < 1%, p95 within 2x the requirement, spend on track, "
        "no safety incidents. Roll back by pointing the cohort's key back to the old path.",
        "4. **Full**: 100%, the old path kept warm for one week; alerts from alerts.yml deployed before step 2.",
        "",
    ]


def failure_modes(d: Design) -> list[str]:
    req = d.requirements
    fb = d.fallback.name if d.fallback is not None else "none"
    o = ["## Failure modes and runbook", "", "| failure | detect | runbook |", "|---|---|---|"]
    o.append(
        f"| Provider outage | error rate > {ERROR_CRITICAL:.0%} (critical), breaker open, `x-portico-route` shows "
        f"fallbacks | Breakers open in seconds and traffic fails over to {fb}; confirm on the provider status page; "
        "if it lasts, pin the fallback via resilience.models and tell users quality is degraded. |"
    )
    o.append(
        f"| Failover cost blow-up | spend > {COST_CRITICAL_X:.0%} of budget (critical), cost per request jumps | "
        "The fallback was chosen at <= 2x the primary's price; if spend still spikes, lower per-key budgets, "
        "cap the retry deadline, or route the fallback only for premium keys. |"
    )
    if d.cache.enabled:
        o.append(
            f"| Cache serving the wrong tenant | a user reports another's data; audit shows a `semantic` hit across "
            f"keys | The cache is scoped per {d.cache.partition}; if a leak is suspected set cache.enabled: false "
            "(restart), flush the Redis/memory scope, audit hits by key from the audit log, notify per the "
            "incident policy. |"
        )
        o.append(
            f"| Cache hit rate collapse | hit rate < {CACHE_CRITICAL:.0%} (critical) | Check TTL vs traffic shape, "
            "a new system prompt (changes keys) or a model rename; costs rise to the no-cache step of the cost table. |"
        )
    if d.rag:
        o.append(
            "| Stale index | answers cite outdated chunks; groundedness drops; index age > re-index cadence | "
            "Re-run ingestion, verify chunk counts per source, flush the cache for changed documents, add the "
            "failing questions to the eval set. |"
        )
    lat = req.latency_target_ms
    if lat is not None:
        o.append(
            f"| Latency regression | p95 > {P95_CRITICAL_X:g}x the requirement (critical) | `portico doctor` shows "
            "gateway overhead vs upstream; shed load with rate limits, enable hedging, or move traffic to the "
            "fast tier. |"
        )
    o.append(
        "| Safety bypass | spike in guard blocks, a jailbreak report | Immediate security review (seed red flag); "
        "add the prompt to the injection suite, tighten guard thresholds, rotate the canary. |"
    )
    o.append("")
    return o


def handoff(d: Design) -> list[str]:
    req = d.requirements
    if not req.needs_handoff:
        return []
    why = []
    if req.agent.takes_actions:
        why.append("the agent acts in the world")
    if req.data.health or "hipaa" in req.compliance:
        why.append("health questions")
    if req.human_handoff:
        why.append("requested")
    return [
        "## Human handoff",
        "",
        f"Needed because: {', '.join(why) or 'requested'}. Hand the conversation to a person when the answer's "
        "confidence is low (cascade check fails on the strong model too, or no retrieved source supports it), "
        "when a guard blocks, before any irreversible action (payments, sending, booking: the agent proposes, a "
        "person approves), and whenever the user asks. The handoff carries the conversation with pseudonyms "
        "restored only in the agent's console.",
        "",
    ]


def compliance_statements(d: Design) -> list[str]:
    req = d.requirements
    out: list[str] = []
    if "gdpr" in req.compliance:
        out.append(
            f"- **GDPR**: retention is a *maximum* (storage limitation): audit rows are deleted after "
            f"{d.retention_days} days and hold no prompt or answer text; "
            + (
                "only EU-hosted or self-hosted models are used."
                if req.residency == "eu"
                else "non-EU providers need SCCs and a DPA."
            )
        )
    if "hipaa" in req.compliance:
        out.append(
            "- **HIPAA**: PHI goes only to providers that signed a BAA, or stays on self-hosted models; PHI is "
            "pseudonymized before upstreams regardless."
        )
    if "pci" in req.compliance:
        out.append(
            "- **PCI DSS**: card numbers never reach a model or a log: the PII guard redacts CREDIT_CARD on input "
            "(irreversibly, not pseudonymized) and output, and audit rows store no prompt text."
        )
    if "soc2" in req.compliance:
        out.append("- **SOC 2**: audit records commit before responses are released (storage.durability: commit).")
    return ["", *out] if out else []
