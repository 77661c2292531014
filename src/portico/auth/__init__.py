"""Virtual keys: authentication stage, key resolution (cached), key administration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.auth.controls import Controls, build_limiter
    from portico.auth.keys import KeyManager
    from portico.auth.principal import Principal
    from portico.auth.resolver import KeyResolver
    from portico.auth.secrets import hash_secret, new_secret
    from portico.auth.stage import AuthStage

_HOMES = {
    "AuthStage": "stage",
    "Controls": "controls",
    "KeyManager": "keys",
    "KeyResolver": "resolver",
    "Principal": "principal",
    "build_limiter": "controls",
    "hash_secret": "secrets",
    "new_secret": "secrets",
}
__all__ = [
    "AuthStage",
    "Controls",
    "KeyManager",
    "KeyResolver",
    "Principal",
    "build_limiter",
    "hash_secret",
    "new_secret",
]
__getattr__ = lazy_exports(__name__, _HOMES)
