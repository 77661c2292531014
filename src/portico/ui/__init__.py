"""The admin web UI served at /ui (keys and teams, spend, live requests, health)."""

from __future__ import annotations

from portico.ui.wiring import ui_feature

__all__ = ["ui_feature"]
