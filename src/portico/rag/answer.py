"""Grounded answers: the ``rag/<store>`` model alias and the ``file_search`` tool in chat.

For such a request the stage retrieves passages from the named vector stores (each must be
visible to the caller: an unknown or foreign store is a 404, never an empty answer), packs
as many as fit the answer model's context window into a numbered source list, and asks the
model to answer only from them, citing ``[n]``. When retrieval is weak (best score below
``rag.abstain_threshold``) it abstains without calling the model. Every answer sentence is
checked against the packed sources; the verdicts, the sources and the citations travel in
the reply's ``portico_rag`` field, the ``x-portico-rag`` header and the metric
``portico_rag_ungrounded_sentences_total``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from portico.errors import InvalidRequest
from portico.files import ANONYMOUS, Owner
from portico.files.access import MASTER
from portico.pipeline import ChunkStream, Next, Reply, RequestContext
from portico.rag.chunk import wordpiece_counter
from portico.rag.grounding import GroundednessChecker, SentenceSupport
from portico.rag.service import Passage, VectorStoreService
from portico.rag.settings import RagSettings
from portico.types import ChatChunk, ChatMessage, ChatResponse, Choice, ResponseMessage, Usage

PREFIX = "rag/"
STATE_KEY = "portico.rag"
_MARKER = re.compile(r"\[(\d+)(?:\s*,\s*\d+)*\]")
_INSTRUCTIONS = (
    "Answer the question using only the numbered sources below. Cite the sources you use with "
    "their numbers in square brackets, like [1]. If the sources do not contain the answer, say "
    "that you don't know. Do not use outside knowledge.\n\nSources:\n"
)


@dataclass(slots=True)
class RagRequest:
    store_ids: list[str]
    k: int
    filters: Any = None
    tool: bool = False  # asked through the file_search tool (else the rag/ alias)


@dataclass(slots=True)
class RagOutcome:
    stores: list[str]
    query: str
    sources: list[Passage] = field(default_factory=list)
    abstained: bool = False
    verdicts: list[SentenceSupport] = field(default_factory=list)

    def citations(self, text: str) -> list[dict[str, Any]]:
        out = []
        for m in _MARKER.finditer(text):
            for number in re.findall(r"\d+", m.group(0)):
                i = int(number)
                if 1 <= i <= len(self.sources):
                    src = self.sources[i - 1]
                    out.append(
                        {
                            "marker": f"[{i}]",
                            "index": m.start(),
                            "source": i,
                            "file_id": src.file_id,
                            "filename": src.filename,
                        }
                    )
        return out

    def metadata(self, text: str) -> dict[str, Any]:
        ungrounded = [v.text for v in self.verdicts if not v.grounded]
        return {
            "vector_store_ids": self.stores,
            "query": self.query,
            "abstained": self.abstained,
            "sources": [
                {
                    "index": i,
                    "file_id": s.file_id,
                    "filename": s.filename,
                    "vector_store_id": s.store_id,
                    "score": round(s.score, 6),
                    "quote": s.text,
                }
                for i, s in enumerate(self.sources, 1)
            ],
            "citations": self.citations(text),
            "sentences": [
                {"text": v.text, "support": round(v.support, 4), "grounded": v.grounded, "source": v.source}
                for v in self.verdicts
            ],
            "ungrounded_sentences": ungrounded,
            "grounded": not ungrounded,
        }

    def header(self) -> str:
        ungrounded = sum(1 for v in self.verdicts if not v.grounded)
        state = "abstained" if self.abstained else f"ungrounded={ungrounded}"
        return f"sources={len(self.sources)}; {state}"


def file_search_tool(spec: dict[str, Any]) -> dict[str, Any]:
    """The Responses API's ``file_search`` tool -> the chat extension this stage serves."""
    out: dict[str, Any] = {"type": "file_search"}
    for field_name in ("vector_store_ids", "max_num_results", "filters"):
        if spec.get(field_name) is not None:
            out[field_name] = spec[field_name]
    if "vector_store_ids" not in out:
        raise InvalidRequest("file_search needs 'vector_store_ids'.", param="tools.vector_store_ids")
    return out


def owner_from(ctx: RequestContext) -> Owner:
    caller = ctx.caller
    if caller.is_master:
        return Owner(MASTER)
    if caller.key_id is None:
        return Owner(ANONYMOUS)
    return Owner(caller.key_id, caller.team_id)


def parse_rag_request(ctx: RequestContext, default_k: int) -> RagRequest | None:
    """The RAG part of a chat request: a ``rag/<store>`` model, or a ``file_search`` tool."""
    model = ctx.model_requested
    tools = ctx.request.tools or []
    searches = [t for t in tools if isinstance(t, dict) and t.get("type") == "file_search"]
    if model.startswith(PREFIX):
        return RagRequest([model[len(PREFIX) :]], default_k)
    if not searches:
        return None
    if len(searches) > 1:
        raise InvalidRequest("Send at most one file_search tool.", param="tools")
    nested = searches[0].get("file_search")
    spec: dict[str, Any] = nested if isinstance(nested, dict) else searches[0]
    ids = spec.get("vector_store_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise InvalidRequest("file_search needs a non-empty 'vector_store_ids' list.", param="tools.vector_store_ids")
    k = spec.get("max_num_results", default_k)
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 50:
        raise InvalidRequest("file_search max_num_results must be 1 to 50.", param="tools.max_num_results")
    return RagRequest(list(ids), k, spec.get("filters"), tool=True)


class RagAnswerStage:
    """Pipeline stage; a no-op for requests that name no vector store."""

    def __init__(
        self,
        service: VectorStoreService,
        settings: RagSettings,
        *,
        answer_model: Callable[[], str],
        context_window: Callable[[str], int],
        registry: CollectorRegistry | None = None,
        checker: GroundednessChecker | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.answer_model = answer_model
        self.context_window = context_window
        self.checker = checker or GroundednessChecker(settings.grounded_threshold)
        self.ungrounded = Counter(
            "portico_rag_ungrounded_sentences",
            "Answer sentences of grounded (RAG) answers not supported by the retrieved sources.",
            ["model"],
            registry=registry if registry is not None else CollectorRegistry(),
        )
        self.answers = Counter(
            "portico_rag_answers",
            "RAG answers, by outcome (answered or abstained).",
            ["outcome"],
            registry=registry if registry is not None else CollectorRegistry(),
        )

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        spec = parse_rag_request(ctx, self.settings.answer_k)
        if spec is None:
            return await call_next(ctx)
        query = ctx.request.last_user_text().strip()
        if not query:
            raise InvalidRequest("A grounded answer needs a user message to search for.", param="messages")
        owner = owner_from(ctx)
        passages = await self.service.passages(owner, spec.store_ids, query, k=spec.k, filters=spec.filters)
        model = self.settings.answer_model or self.answer_model()
        outcome = RagOutcome(spec.store_ids, query)
        ctx.state[STATE_KEY] = outcome
        if not passages or passages[0].score < self.settings.abstain_threshold:
            outcome.abstained = True
            outcome.sources = passages[:0]
            self.answers.labels("abstained").inc()
            ctx.response_headers["x-portico-rag"] = outcome.header()
            ctx.usage = Usage()
            abstention = ChatResponse(
                model=ctx.model_requested,
                choices=[Choice(message=ResponseMessage(content=self.settings.abstain_text))],
            )
            if ctx.stream:
                return ChunkStream(_one_chunk(abstention, outcome.metadata(self.settings.abstain_text)))
            return _with_metadata(abstention, outcome.metadata(self.settings.abstain_text))
        outcome.sources = self._pack(passages, ctx, model)
        self.answers.labels("answered").inc()
        tools = [t for t in ctx.request.tools or [] if not (isinstance(t, dict) and t.get("type") == "file_search")]
        messages = [ChatMessage(role="system", content=self._prompt(outcome.sources)), *ctx.request.messages]
        ctx.request = ctx.request.model_copy(
            update={
                "model": model,
                "messages": messages,
                "tools": tools or None,
                "tool_choice": None if not tools else ctx.request.tool_choice,
            }
        )
        ctx.model = model
        reply = await call_next(ctx)
        if isinstance(reply, ChunkStream):
            return reply.wrap(lambda chunks: self._stream(chunks, ctx, outcome))
        text = reply.text
        self._check(ctx, outcome, text)
        return _with_metadata(reply, outcome.metadata(text))

    def _prompt(self, sources: Sequence[Passage]) -> str:
        return _INSTRUCTIONS + "\n\n".join(f"[{i}] ({s.filename}) {s.text}" for i, s in enumerate(sources, 1))

    def _pack(self, passages: list[Passage], ctx: RequestContext, model: str) -> list[Passage]:
        """As many passages, best first, as fit the window next to the prompt and the answer."""
        window = self.context_window(model)
        reserve = ctx.request.max_tokens or ctx.request.max_completion_tokens or self.settings.answer_reserve_tokens
        used = sum(wordpiece_counter([m.text() for m in ctx.request.messages])) + len(
            wordpiece_counter([_INSTRUCTIONS])
        )
        budget = window - reserve - used - 64  # chat template and numbering overhead
        sizes = wordpiece_counter([p.text for p in passages])
        out = []
        for passage, size in zip(passages, sizes, strict=True):
            if size + 8 > budget:
                break
            out.append(passage)
            budget -= size + 8
        if not out:
            raise InvalidRequest(
                f"The prompt leaves no room for sources in the context window of '{model}' ({window} tokens).",
                code="context_length_exceeded",
            )
        return out

    def _check(self, ctx: RequestContext, outcome: RagOutcome, text: str) -> None:
        outcome.verdicts = self.checker.check(text, [s.text for s in outcome.sources], outcome.query)
        ungrounded = sum(1 for v in outcome.verdicts if not v.grounded)
        if ungrounded:
            self.ungrounded.labels(ctx.model).inc(ungrounded)
        ctx.response_headers["x-portico-rag"] = outcome.header()

    async def _stream(
        self, chunks: AsyncIterator[ChatChunk], ctx: RequestContext, outcome: RagOutcome
    ) -> AsyncIterator[ChatChunk]:
        parts: list[str] = []
        last_id, last_model = "chatcmpl-rag", ctx.model
        async for chunk in chunks:
            parts.append(chunk.text)
            last_id, last_model = chunk.id, chunk.model
            yield chunk
        text = "".join(parts)
        self._check(ctx, outcome, text)
        # Headers left with the first byte: the verdicts come as one last chunk, no choices.
        yield ChatChunk(id=last_id, model=last_model, choices=[], portico_rag=outcome.metadata(text))  # type: ignore[call-arg]


def _with_metadata(reply: ChatResponse, meta: dict[str, Any]) -> ChatResponse:
    """The reply with ``portico_rag`` (extra field) and file_citation annotations on its message."""
    choices = reply.choices
    if choices:
        annotations = [
            {"type": "file_citation", "file_id": c["file_id"], "filename": c["filename"], "index": c["index"]}
            for c in meta["citations"]
        ]
        message = choices[0].message.model_copy(update={"annotations": annotations})
        choices = [choices[0].model_copy(update={"message": message}), *choices[1:]]
    return reply.model_copy(update={"portico_rag": meta, "choices": choices})


async def _one_chunk(reply: ChatResponse, meta: dict[str, Any]) -> AsyncIterator[ChatChunk]:
    from portico.types import ChunkChoice, Delta

    yield ChatChunk(
        id=reply.id, model=reply.model, choices=[ChunkChoice(delta=Delta(role="assistant", content=reply.text))]
    )
    yield ChatChunk(id=reply.id, model=reply.model, choices=[ChunkChoice(delta=Delta(), finish_reason="stop")])
    yield ChatChunk(id=reply.id, model=reply.model, choices=[], portico_rag=meta)  # type: ignore[call-arg]
