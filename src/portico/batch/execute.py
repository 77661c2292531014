"""Run one batch line as a real request through the gateway's pipeline.

The line runs as the key that created the batch (re-checked at each run: a key revoked
meanwhile fails its remaining lines), priced at the batch tier, marked so interactive traffic goes first;
auth, the model allow-list, limits, budget, guards, cache, router, ledger and audit all
apply as to any request. Its outcome becomes one line of the output or error file, in
OpenAI's shape.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from portico.auth.principal import STATE_KEY, Principal
from portico.batch.lane import BATCH_LINE
from portico.batch.records import Line, LineResult
from portico.errors import InvalidRequest, ModelNotFound, PorticoError, internal_error
from portico.feature import Grant
from portico.limits.prices import BATCH_TIER
from portico.pipeline import Caller, ChunkStream, RequestContext
from portico.server.completions import COMPLETIONS
from portico.server.dialect import Dialect, OpenAIDialect

log = logging.getLogger("portico.batch")
# The wire formats a line can speak: each parses to the shared request and renders the reply,
# exactly as the HTTP endpoint of the same path does.
DIALECTS: dict[str, Dialect] = {"/v1/chat/completions": OpenAIDialect(), "/v1/completions": COMPLETIONS}
# A key's Principal, "master", "anonymous", or why the creating key may no longer call.
Identity = Principal | str | PorticoError
EmbedLine = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(slots=True, frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    request_id: str
    cost_usd: float = 0.0


def output_line(line: Line, outcome: Outcome) -> LineResult:
    """OpenAI's batch output line; a failed request also carries ``error`` (code, message)."""
    ok = outcome.status == 200
    error = None
    if not ok:
        found = outcome.body.get("error")
        inner: dict[str, Any] = found if isinstance(found, dict) else {}
        error = {"code": inner.get("code") or inner.get("type"), "message": inner.get("message", "")}
    data = {
        "id": "batch_req_" + uuid.uuid4().hex[:24],
        "custom_id": line.custom_id,
        "response": {"status_code": outcome.status, "request_id": outcome.request_id, "body": outcome.body},
        "error": error,
    }
    return LineResult(line.line_no, ok, orjson.dumps(data).decode(), outcome.cost_usd)


def unrun_line(line: Line, code: str, message: str) -> LineResult:
    """A line that never ran (the window expired, the batch was cancelled)."""
    data = {
        "id": "batch_req_" + uuid.uuid4().hex[:24],
        "custom_id": line.custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }
    return LineResult(line.line_no, False, orjson.dumps(data).decode(), 0.0)


EMBEDDINGS = "/v1/embeddings"


def grant_for(identity: Identity) -> Grant:
    """The grant the door would have given the creating key (re-checked per run: ``identity``)."""
    if isinstance(identity, PorticoError):
        raise identity
    if isinstance(identity, Principal):
        c = identity.caller
        return Grant(Caller(c.key_id, c.team_id, c.owner, c.allowed_models, dict(c.metadata)), identity)
    return Grant(Caller(is_master=identity == "master"))


class LineExecutor:
    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def endpoints(self) -> tuple[str, ...]:
        """What a batch can call here: the chat dialects, and embeddings when the embedder is on."""
        return (*DIALECTS, EMBEDDINGS) if self.gateway.settings.embeddings.enabled else tuple(DIALECTS)

    async def run(self, batch_id: str, endpoint: str, line: Line, identity: Identity) -> Outcome:
        request_id = f"{batch_id}-{line.line_no}"
        try:
            body = orjson.loads(line.body)
            if endpoint == EMBEDDINGS:
                return await self._embed(body, identity, request_id)
            dialect = DIALECTS.get(endpoint)
            if dialect is None:
                raise InvalidRequest(f"The endpoint {endpoint} is not served by batches here.", param="endpoint")
            return await self._call(dialect, body, identity, request_id)
        except PorticoError as exc:
            return Outcome(exc.status, exc.payload(), request_id)
        except Exception:
            log.exception("batch %s line %d failed", batch_id, line.line_no)
            failure = internal_error(request_id)
            return Outcome(failure.status, failure.payload(), request_id)

    async def _call(self, dialect: Dialect, body: dict[str, Any], identity: Identity, request_id: str) -> Outcome:
        if body.get("stream"):
            raise InvalidRequest("Batch requests cannot stream; remove 'stream'.", param="stream")
        req = dialect.parse(body)
        if not self.gateway.knows_model(req.model):
            raise ModelNotFound(f"The model '{req.model}' does not exist.", param="model")
        grant = grant_for(identity)
        ctx = RequestContext(request_id=request_id, request=req, caller=grant.caller)
        if grant.principal is not None:
            ctx.state[STATE_KEY] = grant.principal
        ctx.state[BATCH_TIER] = True
        ctx.state[BATCH_LINE] = True
        try:
            reply = await self.gateway.handle(ctx)
        except PorticoError as exc:
            return Outcome(exc.status, dialect.error_body(exc), request_id, ctx.cost_usd)
        if isinstance(reply, ChunkStream):  # a stage answered with a stream anyway: drain it
            await reply.close(ctx, None)
            raise InvalidRequest("Batch requests cannot stream.", param="stream")
        return Outcome(200, orjson.loads(dialect.response(ctx, reply)), request_id, ctx.cost_usd)

    async def _embed(self, body: dict[str, Any], identity: Identity, request_id: str) -> Outcome:
        from portico.server.embeddings import prepare_embeddings, run_embeddings

        req, texts, ctx = prepare_embeddings(self.gateway, body, request_id, {}, grant_for(identity))
        ctx.state[BATCH_TIER] = True
        ctx.state[BATCH_LINE] = True
        try:
            answer = await run_embeddings(self.gateway, req, texts, ctx)
        except PorticoError as exc:
            return Outcome(exc.status, exc.payload(), request_id, ctx.cost_usd)
        return Outcome(200, answer, request_id, ctx.cost_usd)
