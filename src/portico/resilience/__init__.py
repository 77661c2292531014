"""Calling models: deployments, balancing, retries, circuit breakers, hedging, fallbacks.

Names are loaded on first use so that ``portico.config`` can import
``portico.resilience.settings`` without importing the call path (which imports config).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portico.resilience.admin import attach, circuits_router
    from portico.resilience.breaker import CircuitBreaker, CircuitState
    from portico.resilience.caller import ModelCaller
    from portico.resilience.deployments import Deployment, build_deployments
    from portico.resilience.settings import ResilienceSettings
    from portico.resilience.shared import BreakerStore, BreakerSync, MemoryBreakerStore, RedisBreakerStore

_HOME = {
    "attach": "admin",
    "circuits_router": "admin",
    "CircuitBreaker": "breaker",
    "CircuitState": "breaker",
    "ModelCaller": "caller",
    "Deployment": "deployments",
    "build_deployments": "deployments",
    "ResilienceSettings": "settings",
    "BreakerStore": "shared",
    "BreakerSync": "shared",
    "MemoryBreakerStore": "shared",
    "RedisBreakerStore": "shared",
}

__all__ = [
    "BreakerStore",
    "BreakerSync",
    "CircuitBreaker",
    "CircuitState",
    "Deployment",
    "MemoryBreakerStore",
    "ModelCaller",
    "RedisBreakerStore",
    "ResilienceSettings",
    "attach",
    "build_deployments",
    "circuits_router",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'portico.resilience' has no attribute {name!r}")
    return getattr(importlib.import_module(f"portico.resilience.{home}"), name)
