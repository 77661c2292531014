"""The Responses API as a dialect of the shared pipeline (see ``portico.server.dialect``).

One instance per request: the request was parsed and its conversation rebuilt before the
pipeline runs (that needs the store), so ``parse`` only validates the chat request made
from it, and ``response`` / the stream encoder keep the finished response object in
``final`` for the service to store.
"""

from __future__ import annotations

from typing import Any

import orjson

from portico.errors import PorticoError
from portico.pipeline import RequestContext
from portico.responses.events import ResponsesStream
from portico.responses.render import Exchange, reply_response
from portico.server.dialect import StreamEncoder
from portico.server.validation import validate_body
from portico.types import ChatRequest, ChatResponse


class ResponsesDialect:
    def __init__(self, exchange: Exchange, chat: dict[str, Any]) -> None:
        self.exchange = exchange
        self.chat = chat
        self.stream: ResponsesStream | None = None
        self._final: dict[str, Any] | None = None

    @property
    def final(self) -> dict[str, Any] | None:
        """The finished response object (also a failed stream's), once rendered."""
        if self.stream is not None:
            return self.stream.final
        return self._final

    def parse(self, data: dict[str, Any]) -> ChatRequest:
        return validate_body(ChatRequest, self.chat)

    def response(self, ctx: RequestContext, reply: ChatResponse) -> bytes:
        self._final = reply_response(self.exchange, reply)
        return orjson.dumps(self._final)

    def error_body(self, error: PorticoError) -> dict[str, Any]:
        return error.payload()

    def encoder(self, ctx: RequestContext) -> StreamEncoder:
        self.stream = ResponsesStream(ctx, self.exchange)
        return self.stream
