"""Virtual keys: the one access check, the model permission stage, key resolution (cached), key administration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.auth.access import AccessCheck, presented_secret
    from portico.auth.controls import Controls, build_limiter
    from portico.auth.keys import KeyManager
    from portico.auth.principal import Principal
    from portico.auth.resolver import KeyResolver
    from portico.auth.secrets import hash_secret, new_secret
    from portico.auth.stage import ModelPermissionStage

_HOMES = {
    "AccessCheck": "access",
    "ModelPermissionStage": "stage",
    "presented_secret": "access",
    "Controls": "controls",
    "KeyManager": "keys",
    "KeyResolver": "resolver",
    "Principal": "principal",
    "build_limiter": "controls",
    "hash_secret": "secrets",
    "new_secret": "secrets",
}
__all__ = [
    "AccessCheck",
    "Controls",
    "KeyManager",
    "KeyResolver",
    "ModelPermissionStage",
    "Principal",
    "build_limiter",
    "hash_secret",
    "new_secret",
    "presented_secret",
]
__getattr__ = lazy_exports(__name__, _HOMES)
