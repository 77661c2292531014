"""The one access check: a route's level + the request's headers -> a Grant, or 401 / 403.

Every route the gateway serves declares an :class:`~portico.feature.Access` level and the
door calls :meth:`AccessCheck.check` before the route's handler; nothing else in Portico
compares keys. The rules:

- ``public``: everyone.
- ``key``: the master key, or an active virtual key (revoked / expired -> 401). Without a
  master key Portico runs in open dev mode: no key or an unknown key passes anonymously,
  a known virtual key is still enforced. With a master key and no key store
  (``storage.enabled: false``) the master key is the only key there is.
- ``admin``: the master key only (403 when none is configured: there is nobody to trust).
- ``metrics``: resolved to one of the above by ``metrics.access``.

A refusal is reported to ``on_refused`` (the audit log, when storage is on) before it is raised.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Mapping

from pydantic import SecretStr

from portico.auth.resolver import KeyResolver
from portico.errors import AuthenticationFailed, PermissionDenied, PorticoError
from portico.feature import Access, Grant
from portico.pipeline import Caller

RefusalSink = Callable[[str, str, PorticoError], Awaitable[None]]  # (request id, "METHOD /path", error)
ANONYMOUS = Grant(Caller())
MASTER = Grant(Caller(is_master=True))


def presented_secret(headers: Mapping[str, str]) -> str | None:
    """The key a client sent: ``Authorization: Bearer <key>`` or (Anthropic style) ``x-api-key``."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


class AccessCheck:
    def __init__(
        self,
        master_key: SecretStr | None,
        resolver: KeyResolver | None = None,
        *,
        metrics: Access = Access.PUBLIC,
        on_refused: RefusalSink | None = None,
    ) -> None:
        if metrics is Access.METRICS:
            raise ValueError("metrics access must be public, key or admin")
        self._master = master_key.get_secret_value().encode() if master_key else None
        self.resolver = resolver
        self.metrics = metrics
        self.on_refused = on_refused
        # Open dev mode without a key store: every key route lets everyone in, anonymously.
        self._anyone = self._master is None and resolver is None

    @property
    def open_dev_mode(self) -> bool:
        return self._master is None

    def is_master(self, secret: str) -> bool:
        return self._master is not None and hmac.compare_digest(secret.encode(), self._master)

    def without_key(self, level: Access) -> Grant | None:
        """The grant when ``level`` needs no look at the request (public, or a key route in open
        dev mode without a key store); None when ``check`` must run. Synchronous: the hot path."""
        if level is Access.METRICS:
            level = self.metrics
        if level is Access.PUBLIC or (self._anyone and level is Access.KEY):
            return ANONYMOUS
        return None

    async def check(self, level: Access, headers: Mapping[str, str], request_id: str = "", where: str = "") -> Grant:
        """The grant for a request to a route of ``level``; raises 401 / 403 (after reporting it)."""
        if level is Access.METRICS:
            level = self.metrics
        if level is Access.PUBLIC or (self._anyone and level is Access.KEY):
            return ANONYMOUS
        try:
            return await (self._key(headers) if level is Access.KEY else self._admin(headers))
        except PorticoError as exc:
            if self.on_refused is not None:
                await self.on_refused(request_id, where, exc)
            raise

    async def _admin(self, headers: Mapping[str, str]) -> Grant:
        if self._master is None:
            raise PermissionDenied("The admin API needs auth.master_key in the configuration.")
        secret = presented_secret(headers)
        if secret is None:
            raise AuthenticationFailed("Missing master key: send 'Authorization: Bearer <master key>'.")
        if not self.is_master(secret):
            raise AuthenticationFailed("This endpoint requires the master key.")
        return MASTER

    async def _key(self, headers: Mapping[str, str]) -> Grant:
        secret = presented_secret(headers)
        if secret is None:
            if self._master is None:
                return ANONYMOUS  # open dev mode
            raise AuthenticationFailed("Missing API key: send 'Authorization: Bearer <key>' (or 'x-api-key: <key>').")
        if self.is_master(secret):
            return MASTER
        principal = await self.resolver.resolve(secret) if self.resolver is not None else None
        if principal is None:
            if self._master is None:  # open dev mode: unknown secrets pass anonymously
                return ANONYMOUS
            raise AuthenticationFailed("Invalid API key.")
        key = principal.key
        if key.revoked_at is not None:
            raise AuthenticationFailed("This API key has been revoked.", code="key_revoked")
        if key.expires_at is not None and key.expires_at <= time.time():
            raise AuthenticationFailed("This API key has expired.", code="key_expired")
        c = principal.caller
        return Grant(Caller(c.key_id, c.team_id, c.owner, c.allowed_models, dict(c.metadata)), principal)
