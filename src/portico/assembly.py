"""Assembles a Gateway and its stage chain from Settings: the one place features plug in.

Order (outermost first): auth -> admission -> input guards -> cache -> router -> call.
Each feature package contributes its stage here when its settings enable it.
"""

from __future__ import annotations

from portico.config import Settings
from portico.gateway import Gateway
from portico.pipeline import Stage


def assemble(settings: Settings) -> Gateway:
    gateway = Gateway(settings)
    stages: list[Stage] = []
    gateway.stages = stages
    return gateway
