"""Admin UI sessions: a signed, expiring cookie carrying a CSRF token, issued for the master key.

The cookie is ``HttpOnly`` (scripts cannot read it), ``SameSite=Strict`` (other sites cannot
send it) and ``Secure`` behind HTTPS. Its signing key is derived from the master key, so
every replica accepts every replica's sessions and changing the master key ends them all.
Every state-changing form carries the session's CSRF token, checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import orjson

COOKIE = "portico_ui"
CSRF_FIELD = "csrf"


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    expires: float


class SessionSigner:
    def __init__(self, master_key: str, *, ttl_s: float = 8 * 3600) -> None:
        self._key = hmac.new(master_key.encode(), b"portico-ui-session-v1", hashlib.sha256).digest()
        self._master = master_key.encode()
        self.ttl_s = ttl_s

    def check_master(self, presented: str) -> bool:
        return hmac.compare_digest(presented.encode(), self._master)

    def issue(self, now: float | None = None) -> tuple[str, Session]:
        session = Session(csrf=secrets.token_urlsafe(24), expires=(now or time.time()) + self.ttl_s)
        body = base64.urlsafe_b64encode(orjson.dumps({"c": session.csrf, "e": session.expires})).decode()
        return f"{body}.{self._sign(body)}", session

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        body, _, sig = cookie.rpartition(".")
        if not hmac.compare_digest(sig, self._sign(body)):
            return None
        try:
            data = orjson.loads(base64.urlsafe_b64decode(body.encode()))
            session = Session(csrf=str(data["c"]), expires=float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > (now or time.time()) else None

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


def csrf_ok(session: Session, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), session.csrf.encode())
