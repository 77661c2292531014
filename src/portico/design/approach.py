"""The customisation tree: prompt engineering first, RAG for changing knowledge, fine-tuning
for formats a prompt cannot describe or latency that needs a small model."""

from __future__ import annotations

from dataclasses import dataclass

from portico.design.decision import Decision
from portico.design.requirements import FAST_CHANGING, Requirements

# Above this many documents the knowledge no longer fits in a prompt (at ~500 tokens/doc
# a 64-doc corpus is already ~32k tokens, a large share of most context windows).
MAX_DOCS_IN_PROMPT = 64
ORDER = ("rag", "fine_tuning", "prompt_engineering")


@dataclass(frozen=True, slots=True)
class Approach:
    primary: str
    components: tuple[str, ...]
    decisions: tuple[Decision, ...]


def choose_approach(req: Requirements, *, latency_needs_small_model: bool) -> Approach:
    """Walk the tree in a fixed order; every branch taken leaves a Decision."""
    chosen: set[str] = {"prompt_engineering"}
    out: list[Decision] = [
        Decision(
            "CUST-PE",
            "approach",
            "prompt_engineering",
            "Start with prompt engineering: system prompt, few-shot examples and output "
            "instructions are the cheapest lever and the baseline every other approach must beat.",
        )
    ]
    k = req.knowledge
    if k.changes in FAST_CHANGING:
        chosen.add("rag")
        out.append(
            Decision(
                "CUST-RAG",
                "approach",
                "rag",
                f"Knowledge changes '{k.changes}': retrieval keeps answers current without "
                "retraining; fine-tuned weights would go stale.",
                {"knowledge.changes": k.changes, "knowledge.size_docs": k.size_docs},
            )
        )
    elif k.domain_specific and k.size_docs > MAX_DOCS_IN_PROMPT:
        chosen.add("rag")
        out.append(
            Decision(
                "CUST-RAG-SIZE",
                "approach",
                "rag",
                f"{k.size_docs} domain documents do not fit in a prompt (> {MAX_DOCS_IN_PROMPT}); "
                "retrieve the relevant ones per query.",
                {"knowledge.size_docs": k.size_docs, "max_docs_in_prompt": MAX_DOCS_IN_PROMPT},
            )
        )
    if not req.output.describable_in_prompt:
        chosen.add("fine_tuning")
        out.append(
            Decision(
                "CUST-FT-FORMAT",
                "approach",
                "fine_tuning",
                f"The '{req.output.format}' output format cannot be described in a prompt: "
                "fine-tune on examples of it.",
                {"output.describable_in_prompt": False},
            )
        )
    if latency_needs_small_model:
        chosen.add("fine_tuning")
        out.append(
            Decision(
                "CUST-FT-LATENCY",
                "approach",
                "fine_tuning",
                "Latency under 100 ms needs a small self-hosted model (seed, RAG vs Fine-Tuning tree: latency "
                "< 100 ms -> fine-tuned small model, 7B-13B): fine-tune it to reach the quality a larger model "
                "would give; its MMLU proxy understates a fine-tuned model on a narrow task.",
                {"latency_p95_ms": req.latency_target_ms, "ttft_ms": req.ttft_ms},
            )
        )
    if k.domain_specific and "rag" not in chosen and "fine_tuning" not in chosen:
        out.append(
            Decision(
                "CUST-FT-LATER",
                "approach",
                "prompt_engineering",
                "Domain-specific but static and small knowledge: put it in the prompt; consider "
                f"fine-tuning only if `portico eval` stays below {req.quality.min_accuracy:.0%}.",
                {"quality.min_accuracy": req.quality.min_accuracy},
            )
        )
    components = tuple(c for c in ORDER if c in chosen)
    return Approach(primary=components[0], components=components, decisions=tuple(out))
