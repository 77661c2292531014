"""AuthStage: the virtual key (Bearer or x-api-key) -> ctx.caller, or 401 / 403."""

from __future__ import annotations

import hmac
import time

from pydantic import SecretStr

from portico.auth.principal import STATE_KEY, Principal
from portico.auth.resolver import KeyResolver
from portico.errors import AuthenticationFailed, PermissionDenied
from portico.pipeline import Caller, Next, Reply, RequestContext

# ctx.state: the identity of an in-process request (a Principal, "master" or "anonymous").
# Only code inside the gateway can set it: HTTP clients reach ctx.headers, never ctx.state.
PRESET_KEY = "portico.auth.preset"


def presented_secret(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


class AuthStage:
    """Authenticates every request. With no master key configured, Portico runs in open dev
    mode: requests without a key or with an unknown one pass anonymously; a known virtual key
    is still enforced (revoked/expired -> 401, its models, limits and budget)."""

    def __init__(self, resolver: KeyResolver | None, master_key: SecretStr | None) -> None:
        self.resolver = resolver
        self._master = master_key.get_secret_value().encode() if master_key else None

    @property
    def has_master(self) -> bool:
        return self._master is not None

    def is_master(self, secret: str) -> bool:
        return self._master is not None and hmac.compare_digest(secret.encode(), self._master)

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        preset = ctx.state.get(PRESET_KEY)
        if preset is not None:
            return await self._as(ctx, preset, call_next)
        secret = presented_secret(ctx.headers)
        if secret is None:
            if self._master is not None:
                raise AuthenticationFailed(
                    "Missing API key: send 'Authorization: Bearer <key>' (or 'x-api-key: <key>')."
                )
            return await call_next(ctx)  # open dev mode
        if self.is_master(secret):
            ctx.caller = Caller(is_master=True)
            return await call_next(ctx)
        principal = await self.resolver.resolve(secret) if self.resolver is not None else None
        if principal is None:
            if self._master is None:  # open dev mode: unknown secrets pass anonymously
                return await call_next(ctx)
            raise AuthenticationFailed("Invalid API key.")
        return await self._enforce(ctx, principal, call_next)

    async def _as(self, ctx: RequestContext, preset: Principal | str, call_next: Next) -> Reply:
        """An in-process request on behalf of an identity authenticated earlier (a batch line
        runs as the key that created the batch): the key is re-checked, no secret is needed."""
        if preset == "master":
            ctx.caller = Caller(is_master=True)
            return await call_next(ctx)
        if isinstance(preset, Principal):
            return await self._enforce(ctx, preset, call_next)
        if self._master is not None:  # an anonymous identity exists only in open dev mode
            raise AuthenticationFailed("This request has no API key.")
        return await call_next(ctx)

    async def _enforce(self, ctx: RequestContext, principal: Principal, call_next: Next) -> Reply:
        key = principal.key
        if key.revoked_at is not None:
            raise AuthenticationFailed("This API key has been revoked.", code="key_revoked")
        if key.expires_at is not None and key.expires_at <= time.time():
            raise AuthenticationFailed("This API key has expired.", code="key_expired")
        c = principal.caller
        ctx.caller = Caller(c.key_id, c.team_id, c.owner, c.allowed_models, dict(c.metadata))
        ctx.state[STATE_KEY] = principal
        if not principal.allows(ctx.model_requested):
            raise PermissionDenied(
                f"This key may not use model '{ctx.model_requested}'.",
                code="model_not_allowed",
                param="model",
            )
        return await call_next(ctx)
