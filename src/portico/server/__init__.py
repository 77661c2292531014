"""HTTP only: the ASGI app, one module per endpoint family."""

from portico.server.app import PorticoApp, create_app

__all__ = ["PorticoApp", "create_app"]
