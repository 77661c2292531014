"""The admin web UI served at /ui (keys and teams, spend, live requests, health)."""

from __future__ import annotations

from portico.ui.wiring import install_ui

__all__ = ["install_ui"]
