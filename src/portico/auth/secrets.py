"""Virtual key secrets: generated here, shown once, stored as a SHA-256 hash.

A plain SHA-256 is enough (no bcrypt/argon2) because the secret is 256 random bits: nobody
can brute-force a preimage, so a slow hash would only add CPU to every request.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "sk-pt-"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hint(secret: str) -> str:
    """Enough to recognise a key in a list, far too little to use it."""
    return secret[: len(PREFIX) + 4] + "…"
