"""The Responses endpoints: create (through the shared pipeline), retrieve, delete, input items.

``POST /v1/responses`` reads and translates the request, rebuilds the conversation of
``previous_response_id`` from the store (only the caller's own responses: another key's id
is a 404), then runs the chat pipeline with a per-request dialect. The finished response
is stored before its last byte is sent, so a client that reads it back right after the
answer (or after ``response.completed``) finds it.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from portico.errors import InvalidRequest, NotFound, PorticoError
from portico.feature import HEADERS_KEY, grant_of
from portico.responses.dialect import ResponsesDialect
from portico.responses.render import Exchange, output_as_messages
from portico.responses.request import parse_request
from portico.responses.settings import ResponsesSettings
from portico.responses.store import ResponseStore, StoredResponse
from portico.responses.tools import ToolKinds
from portico.responses.translate import chat_body, items_to_messages, normalize_items
from portico.server.asgi import Message, Receive, Scope, Send, parse_json_object, read_body
from portico.server.chat import serve_chat

log = logging.getLogger("portico.responses")
PURGE_EVERY = 1000  # saves between purges of expired responses


def owner_of(scope: MutableMapping[str, Any]) -> str:
    """Whose responses these are (the door's grant): a virtual key, the master key, or, in open
    dev mode without a key, one shared anonymous owner."""
    caller = grant_of(scope).caller
    if caller.key_id:
        return "key:" + caller.key_id
    return "master" if caller.is_master else "anonymous"


class ResponsesService:
    """Holds the store and the tool kinds; its methods are the route handlers."""

    def __init__(self, settings: ResponsesSettings, store: ResponseStore, tools: ToolKinds | None = None) -> None:
        self.settings = settings
        self.store = store
        self.tools = tools or ToolKinds()
        self._saves = 0

    async def start(self) -> None:
        await self.store.start()
        await self.store.purge_expired()

    async def stop(self) -> None:
        await self.store.close()

    # ---- POST /v1/responses -------------------------------------------------------------------
    async def create(self, gateway: Any, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            data, dialect = await self._prepare(gateway, scope, receive)
        except PorticoError as exc:  # refused before the pipeline: counted like chat's parse errors
            gateway.metrics.requests.labels("-", str(exc.status)).inc()
            raise
        await serve_chat(gateway, scope, receive, self._storing(send, dialect), dialect, data=data)

    async def _prepare(self, gateway: Any, scope: Scope, receive: Receive) -> tuple[dict[str, Any], ResponsesDialect]:
        headers = scope[HEADERS_KEY]
        data = parse_json_object(await read_body(receive, headers, gateway.settings.server.max_body_bytes))
        req = parse_request(data)
        owner = owner_of(scope)
        history: list[dict[str, Any]] = []
        if req.previous_response_id:
            previous = await self.store.get(owner, req.previous_response_id)
            if previous is None:
                raise NotFound(
                    f"Previous response with id '{req.previous_response_id}' not found.",
                    param="previous_response_id",
                    code="previous_response_not_found",
                )
            history = previous.conversation
        items = normalize_items(req)
        exchange = Exchange(req, items, history, items_to_messages(items), owner)
        return data, ResponsesDialect(exchange, chat_body(req, history, exchange.messages, self.tools))

    def _storing(self, send: Send, dialect: ResponsesDialect) -> Send:
        """Store the response before the message that completes it leaves (the JSON answer's
        start, or a stream's last event)."""
        saved = False

        async def wrapped(message: Message) -> None:
            nonlocal saved
            final = dialect.final
            if not saved and final is not None and dialect.exchange.request.store:
                last = message["type"] == "http.response.start" or not message.get("more_body", False)
                if last:
                    saved = True
                    try:
                        await self.save(dialect.exchange, final)
                    except Exception as exc:
                        if dialect.stream is None:
                            raise  # nothing sent yet: the client gets a 500 with the request id
                        # A stream's headers are out: end it with response.failed, not a cut.
                        log.exception("storing response %s failed", dialect.exchange.id)
                        failure = PorticoError(f"The response could not be stored: {type(exc).__name__}.")
                        message = {**message, "body": dialect.stream.error(failure)}
            await send(message)

        return wrapped

    async def save(self, ex: Exchange, final: dict[str, Any]) -> None:
        self._saves += 1
        if self._saves % PURGE_EVERY == 0:  # expired rows are invisible already; this frees their space
            await self.store.purge_expired()
        conversation = [*ex.history, *ex.messages, *output_as_messages(final["output"])]
        await self.store.save(
            StoredResponse(
                id=ex.id,
                owner=ex.owner,
                created_at=ex.created_at,
                expires_at=ex.created_at + self.settings.retention_days * 86400,
                body=final,
                input_items=ex.items,
                conversation=conversation,
            )
        )

    # ---- GET / DELETE /v1/responses/{id} ----------------------------------------------------
    async def _get(self, scope: Scope, response_id: str) -> StoredResponse:
        record = await self.store.get(owner_of(scope), response_id)
        if record is None:
            raise NotFound(f"Response with id '{response_id}' not found.", param="response_id")
        return record

    async def retrieve(self, scope: Scope, response_id: str, query: dict[str, str]) -> dict[str, Any]:
        if query.get("stream", "false").lower() == "true":
            raise InvalidRequest(
                "Streaming a stored response back is not supported; retrieve it without 'stream'.", param="stream"
            )
        return (await self._get(scope, response_id)).body

    async def delete(self, scope: Scope, response_id: str) -> dict[str, Any]:
        if not await self.store.delete(owner_of(scope), response_id):
            raise NotFound(f"Response with id '{response_id}' not found.", param="response_id")
        return {"id": response_id, "object": "response", "deleted": True}

    async def input_items(self, scope: Scope, response_id: str, query: dict[str, str]) -> dict[str, Any]:
        items = list((await self._get(scope, response_id)).input_items)
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise InvalidRequest("'order' must be 'asc' or 'desc'.", param="order")
        try:
            limit = int(query.get("limit", "20"))
        except ValueError:
            raise InvalidRequest("'limit' must be an integer between 1 and 100.", param="limit") from None
        if not 1 <= limit <= 100:
            raise InvalidRequest("'limit' must be an integer between 1 and 100.", param="limit")
        if order == "desc":
            items.reverse()
        after = query.get("after")
        if after:
            ids = [it.get("id") for it in items]
            if after not in ids:
                raise InvalidRequest(f"No input item with id '{after}' in this response.", param="after")
            items = items[ids.index(after) + 1 :]
        page = items[:limit]
        return {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        }
