"""The admin web UI at /ui: server-rendered pages, a little vendored JavaScript, no CDN.

Pages: login, keys and teams, spend, live requests (with each request's explanation), health.
Every page but the login page and the static files needs a session (``session.py``); an
anonymous visitor is redirected to the login page. Forms post with the session's CSRF token.
A key's secret is rendered once, in the answer to the form that created it, never again.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from portico.auth.keys import KeyManager
from portico.errors import PorticoError
from portico.resilience.deployments import Deployment
from portico.storage.records import KeySpec, LimitsUpdate, TeamSpec
from portico.storage.store import Store
from portico.ui.session import COOKIE, CSRF_FIELD, Session, SessionSigner, csrf_ok
from portico.ui.views import explain, health_page, spend_page

HERE = Path(__file__).parent
STATIC = {p.name: p for p in (HERE / "static").iterdir() if p.is_file()}
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
# Pages only load what Portico serves; inline SVG charts are markup, not scripts.
HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@dataclass(frozen=True, slots=True)
class UiDeps:
    store: Store
    keys: KeyManager
    master_key: str
    deployments: Callable[[], Iterable[Deployment]]
    registry: CollectorRegistry
    batches: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None  # the batch API's summary, when on
    vector_stores: Callable[[], Awaitable[dict[str, Any]]] | None = None  # the vector stores' summary, when on
    clock: Callable[[], float] = time.monotonic


def _form(body: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _limits(form: Mapping[str, str]) -> dict[str, Any]:
    """The limit fields of a form; an empty box means unlimited."""
    out: dict[str, Any] = {}
    for name in ("rpm", "tpm", "max_concurrency", "budget_usd"):
        if name in form:
            raw = form[name].strip()
            out[name] = None if raw == "" else raw
    if form.get("budget_period"):
        out["budget_period"] = form["budget_period"]
    if "allowed_models" in form:
        out["allowed_models"] = [m.strip() for m in form["allowed_models"].replace("\n", ",").split(",") if m.strip()]
    return out


def _problem(exc: ValidationError | PorticoError) -> str:
    if isinstance(exc, PorticoError):
        return str(exc)
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def ui_router(deps: UiDeps) -> APIRouter:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["usd"] = lambda v: f"${v:,.4f}" if v < 1 else f"${v:,.2f}"
    signer = SessionSigner(deps.master_key)
    router = APIRouter(prefix="/ui", include_in_schema=False)

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def session_of(request: Request) -> Session | None:
        return signer.read(request.cookies.get(COOKIE))

    def to_login() -> RedirectResponse:
        return RedirectResponse("/ui/login", status_code=303, headers=HEADERS)

    async def posted(request: Request) -> tuple[Session | None, dict[str, str]]:
        """The session and the form of a POST, or (None, {}) unless both the session and its CSRF token hold."""
        session = session_of(request)
        form = _form(await request.body())
        if session is None or not csrf_ok(session, form.get(CSRF_FIELD)):
            return None, {}
        return session, form

    async def keys_page(session: Session, status: int = 200, **extra: Any) -> HTMLResponse:
        keys, teams = await deps.store.list_keys(), await deps.store.list_teams()
        return page("keys.html", status, s=session, nav="keys", keys=keys, teams=teams, now=time.time(), **extra)

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        path = STATIC.get(name)
        if path is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(path.read_bytes(), media_type=TYPES.get(path.suffix, "application/octet-stream"))

    @router.get("")
    @router.get("/")
    async def home(request: Request) -> Response:
        return RedirectResponse("/ui/requests" if session_of(request) else "/ui/login", status_code=303)

    @router.get("/login")
    async def login_form(request: Request) -> Response:
        if session_of(request) is not None:
            return RedirectResponse("/ui/requests", status_code=303)
        return page("login.html", s=None)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = _form(await request.body())
        if not signer.check_master(form.get("master_key", "")):
            # 400, not 401: the form was answered (a 401 would ask for HTTP authentication)
            return page("login.html", 400, s=None, error="That is not the master key.")
        cookie, _ = signer.issue()
        response = RedirectResponse("/ui/requests", status_code=303, headers=HEADERS)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(signer.ttl_s),
            path="/ui",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session, _ = await posted(request)
        response = to_login()
        if session is not None:
            response.delete_cookie(COOKIE, path="/ui")
        return response

    # ---- keys and teams

    @router.get("/keys")
    async def keys(request: Request) -> Response:
        session = session_of(request)
        return to_login() if session is None else await keys_page(session)

    @router.post("/keys")
    async def create_key(request: Request) -> Response:
        session, form = await posted(request)
        if session is None:
            return to_login()
        try:
            spec = KeySpec.model_validate(
                {"name": form.get("name", ""), "team_id": form.get("team_id") or None, **_limits(form)}
            )
            record, secret = await deps.keys.create(spec)
        except (ValidationError, PorticoError) as exc:
            return await keys_page(session, 400, error=_problem(exc))
        # The only response that ever carries the secret; not a redirect, so it is in no URL or history.
        return await keys_page(session, created=record, secret=secret)

    @router.post("/keys/{key_id}/revoke")
    async def revoke_key(key_id: str, request: Request) -> Response:
        session, _ = await posted(request)
        if session is None:
            return to_login()
        if await deps.keys.revoke(key_id) is None:
            return await keys_page(session, 404, error=f"No key '{key_id}'.")
        return RedirectResponse("/ui/keys", status_code=303, headers=HEADERS)

    async def edit_limits(
        request: Request, update: Callable[[LimitsUpdate], Awaitable[object | None]], missing: str
    ) -> Response:
        """The edit form of a key or a team: the same limits, the same answers."""
        session, form = await posted(request)
        if session is None:
            return to_login()
        try:
            record = await update(LimitsUpdate.model_validate(_limits(form)))
        except ValidationError as exc:
            return await keys_page(session, 400, error=_problem(exc))
        if record is None:
            return await keys_page(session, 404, error=missing)
        return RedirectResponse("/ui/keys", status_code=303, headers=HEADERS)

    @router.post("/keys/{key_id}/edit")
    async def edit_key(key_id: str, request: Request) -> Response:
        return await edit_limits(request, lambda u: deps.keys.update(key_id, u), f"No key '{key_id}'.")

    @router.post("/teams")
    async def create_team(request: Request) -> Response:
        session, form = await posted(request)
        if session is None:
            return to_login()
        try:
            await deps.store.create_team(TeamSpec.model_validate({"name": form.get("name", ""), **_limits(form)}))
        except ValidationError as exc:
            return await keys_page(session, 400, error=_problem(exc))
        return RedirectResponse("/ui/keys", status_code=303, headers=HEADERS)

    @router.post("/teams/{team_id}/edit")
    async def edit_team(team_id: str, request: Request) -> Response:
        return await edit_limits(request, lambda u: deps.keys.update_team(team_id, u), f"No team '{team_id}'.")

    # ---- spend, requests, health

    @router.get("/spend")
    async def spend(request: Request, days: int = 30) -> Response:
        session = session_of(request)
        if session is None:
            return to_login()
        data = await spend_page(deps.store, max(1, min(days, 3660)))
        return page("spend.html", s=session, nav="spend", **data)

    async def recent(q: str) -> list[dict[str, Any]]:
        q = q.strip()
        rows = await deps.store.audit(limit=50, request_id=q) if q else await deps.store.audit(limit=50)
        return [explain(r) for r in rows]

    @router.get("/requests")
    async def requests_page(request: Request, q: str = "") -> Response:
        session = session_of(request)
        if session is None:
            return to_login()
        return page("requests.html", s=session, nav="requests", q=q, rows=await recent(q))

    @router.get("/requests/rows")
    async def request_rows(request: Request, q: str = "") -> Response:
        session = session_of(request)
        if session is None:  # the page's script follows the redirect and goes to the login page
            return to_login()
        return page("request_rows.html", s=session, rows=await recent(q))

    @router.get("/health")
    async def health(request: Request) -> Response:
        session = session_of(request)
        if session is None:
            return to_login()
        data = health_page(deps.deployments(), deps.registry, deps.clock())
        n_ledger, n_audit = await deps.store.count_records()
        batches = await deps.batches() if deps.batches is not None else None
        stores = await deps.vector_stores() if deps.vector_stores is not None else None
        return page(
            "health.html",
            s=session,
            nav="health",
            stored=n_audit,
            billable=n_ledger,
            batches=batches,
            vector_stores=stores,
            **data,
        )

    return router
