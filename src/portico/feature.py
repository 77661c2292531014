"""How a feature plugs into the gateway: a value listing its stages, hooks and routes.

A feature never mutates the gateway. It is a :class:`Feature` built from its settings (and
the core services it needs: the caller, the embedder, prices), and ``portico.assembly``
composes every feature in one visible, ordered list. The gateway is frozen when it starts
(or when the ASGI app is built around it): adding a feature afterwards raises
:class:`GatewayFrozen`, the way Starlette refuses middleware added after its stack is built.

Registering a feature, e.g. a files API with its own FastAPI router::

    from fastapi import APIRouter, Request
    from portico.feature import Access, Feature, Mount, grant_of

    def files_feature(service: FileService) -> Feature:
        router = APIRouter()

        @router.post("/v1/files")
        async def upload(request: Request) -> dict[str, Any]:
            key_id = grant_of(request.scope).key_id   # who the door let in
            ...

        return Feature(
            "files",
            mounts=(Mount(router, Access.KEY),),      # every route of the router is "key"
            on_start=(service.start,), on_stop=(service.stop,),
        )

and one line in ``assembly.py``'s list. The rules the gateway enforces:

- Every route declares an :class:`Access` level; there is no default. ``Route`` refuses a
  value that is not an ``Access``, and freezing refuses a FastAPI route that did not arrive
  through a ``Mount`` (so nothing can be served without a level).
- ``public``: anyone (``/healthz``, ``/readyz``). ``key``: a virtual key or the master key
  (every ``/v1/*`` route). ``admin``: the master key only (every ``/admin/*`` route).
  ``metrics``: whatever ``metrics.access`` says (public by default).
- The door (``portico.server.app``) runs the one access check (``portico.auth.access``)
  before any handler, so handlers never compare keys. It leaves the outcome in the ASGI
  scope: :func:`grant_of` gives the caller (key id, team, owner, allowed models, master?).
- Every ``/v1/...`` route also answers without the ``/v1`` prefix.
- Hot-path routes (``Route``) are plain ASGI handlers ``(gateway, scope, receive, send)``
  dispatched by one dict lookup; anything else is a FastAPI router (``Mount``).
- ``metering`` stages (key permission, limits, ledger and audit) wrap every metered request,
  chat and embeddings alike, outermost and in feature order; ``stages`` then form the chat
  chain in feature order (outermost first). ``on_start`` hooks run in feature order at
  start, ``on_stop`` hooks in reverse order at stop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portico.auth.principal import Principal
    from portico.pipeline import Caller, Stage

Hook = Callable[[], Awaitable[None]]
Scope = MutableMapping[str, Any]
# (gateway, scope, receive, send): the gateway is typed Any here so that this module stays
# import-light (portico.gateway imports it).
Handler = Callable[[Any, Scope, Any, Any], Awaitable[None]]
GRANT_KEY = "portico.grant"  # the door's verdict, in the ASGI scope
REQUEST_ID_KEY = "portico.request_id"  # the request's id (the client's x-request-id or a new one)
HEADERS_KEY = "portico.headers"  # lower-cased request headers, parsed once by the door


class Access(StrEnum):
    """Who may call a route; checked by the door before any handler runs."""

    PUBLIC = "public"
    KEY = "key"
    ADMIN = "admin"
    METRICS = "metrics"


class GatewayFrozen(RuntimeError):
    """A feature, stage or route was added after the gateway was frozen (started)."""


@dataclass(frozen=True, slots=True)
class Route:
    """One hot-path endpoint: ``method path`` served by ``handler`` behind ``access``."""

    method: str
    path: str
    handler: Handler
    access: Access
    body: Any = None  # the pydantic model of the JSON body, for /openapi.json (None: any object)

    def __post_init__(self) -> None:
        if not isinstance(self.access, Access):
            raise TypeError(f"route {self.method} {self.path}: access must be an Access level, not {self.access!r}")
        if not self.path.startswith("/"):
            raise ValueError(f"route path {self.path!r} must start with '/'")


@dataclass(frozen=True, slots=True)
class Mount:
    """A FastAPI ``APIRouter`` whose every route has the access level ``access``; or, with
    ``prefix``, any ASGI app (static files, ...) served under that path prefix."""

    router: Any
    access: Access
    prefix: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.access, Access):
            raise TypeError(f"mount: access must be an Access level, not {self.access!r}")


@dataclass(frozen=True, slots=True)
class Feature:
    """A feature as a value: what it adds to the chain, to start/stop, and to the routes."""

    name: str
    stages: tuple[Stage, ...] = ()
    metering: tuple[Stage, ...] = ()  # also around embeddings (and any metered non-chat work)
    routes: tuple[Route, ...] = ()
    mounts: tuple[Mount, ...] = ()
    on_start: tuple[Hook, ...] = ()
    on_stop: tuple[Hook, ...] = ()
    virtual_models: frozenset[str] = field(default_factory=frozenset)  # model names a stage answers
    model_prefixes: frozenset[str] = field(default_factory=frozenset)  # families a stage answers ("rag/")


@dataclass(frozen=True, slots=True)
class Grant:
    """The door's verdict on one request: who is calling (``caller``) and, for a virtual key,
    its key and team records with their limits (``principal``)."""

    caller: Caller
    principal: Principal | None = None

    @property
    def key_id(self) -> str | None:
        return self.caller.key_id

    @property
    def is_master(self) -> bool:
        return self.caller.is_master


def grant_of(scope: Scope) -> Grant:
    """The caller the door admitted for this request (anonymous on public routes)."""
    grant: Grant = scope[GRANT_KEY]
    return grant


def request_id_of(scope: Scope) -> str:
    """The request's id: echoed from the client's ``x-request-id`` or generated by the door."""
    rid: str = scope[REQUEST_ID_KEY]
    return rid
