"""Run an ASGI app (a Portico gateway) on a real loopback port from a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serve_in_thread(app: Any, *, host: str = "127.0.0.1", timeout: float = 60.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn (lifespan on) and yield its base URL, e.g. ``http://127.0.0.1:41234``."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", access_log=False, log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="portico-test-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)  # readiness poll: uvicorn offers no start-up event to wait on
        if not server.started:
            raise RuntimeError("the test server did not start")
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


def post_json(base: str, path: str, body: dict[str, Any], *, key: str) -> dict[str, Any]:
    """POST ``body`` as JSON to a served gateway with ``key`` as the bearer token and return
    the decoded JSON answer (an HTTP error status raises ``urllib.error.HTTPError``)."""
    import json
    import urllib.request

    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        return dict(json.loads(resp.read()))
