"""Virtual keys: authentication stage, key resolution (cached), key administration."""

from portico.auth.controls import Controls, build_limiter
from portico.auth.keys import KeyManager
from portico.auth.principal import Principal
from portico.auth.resolver import KeyResolver
from portico.auth.secrets import hash_secret, new_secret
from portico.auth.stage import AuthStage

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
