"""What every stage sees about one request while it flows through the chain."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from portico.types import ChatRequest, Usage


def is_cache_hit(cache_status: str) -> bool:
    """Whether a request (or an audit row) with this ``x-portico-cache`` value was served from cache."""
    return cache_status.startswith(("exact", "semantic"))


@dataclass(slots=True)
class Caller:
    """Who is calling: filled by authentication (``key_id`` None in open dev mode)."""

    key_id: str | None = None
    team_id: str | None = None
    owner: str | None = None
    allowed_models: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    is_master: bool = False


@dataclass(slots=True)
class GuardFinding:
    guard: str
    action: str  # allow | flag | redact | pseudonymize | block
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RequestContext:
    """Mutable per-request state. Stages read and write their own fields; ``state`` is for
    stage-private data keyed by the stage's name."""

    request_id: str
    request: ChatRequest
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased request headers
    caller: Caller = field(default_factory=Caller)
    model_requested: str = ""
    model: str = ""  # the model that serves the request (after routing / fallback)
    deployment: str = ""  # the deployment that served it
    route_reason: str = "direct"
    cache_status: str = "off"  # off | bypass | miss | exact | semantic; similarity=0.97
    attempts: int = 0
    usage: Usage | None = None
    cost_usd: float = 0.0
    saved_usd: float = 0.0
    status: int = 200
    error_code: str | None = None
    findings: list[GuardFinding] = field(default_factory=list)
    response_headers: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    upstream_seconds: float = 0.0
    first_token_seconds: float | None = None
    client_disconnected: bool = False
    # time.monotonic() by which the whole request must be answered (None: no request deadline);
    # bounds every attempt, retry, hedge and fallback of the model calls together.
    deadline: float | None = None
    deadline_source: str = ""  # what set it, for the 504's message: config, key, header
    deadline_seconds: float = 0.0

    def __post_init__(self) -> None:
        if not self.model_requested:
            self.model_requested = self.request.model
        if not self.model:
            self.model = self.request.model

    @property
    def stream(self) -> bool:
        return self.request.stream

    def overhead_seconds(self) -> float:
        return max(0.0, time.perf_counter() - self.started - self.upstream_seconds)
