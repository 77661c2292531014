"""Calling models: deployments, balancing, retries, circuit breakers, hedging, fallbacks.

Names are loaded on first use so that ``portico.config`` can import
``portico.resilience.settings`` without importing the call path (which imports config).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.resilience.admin import circuits_router, resilience_feature
    from portico.resilience.breaker import CircuitBreaker, CircuitState
    from portico.resilience.caller import ModelCaller
    from portico.resilience.deployments import Deployment, build_deployments
    from portico.resilience.settings import ResilienceSettings
    from portico.resilience.shared import BreakerStore, BreakerSync, MemoryBreakerStore, RedisBreakerStore

_HOMES = {
    "BreakerStore": "shared",
    "BreakerSync": "shared",
    "CircuitBreaker": "breaker",
    "CircuitState": "breaker",
    "Deployment": "deployments",
    "MemoryBreakerStore": "shared",
    "ModelCaller": "caller",
    "RedisBreakerStore": "shared",
    "ResilienceSettings": "settings",
    "build_deployments": "deployments",
    "circuits_router": "admin",
    "resilience_feature": "admin",
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
    "build_deployments",
    "circuits_router",
    "resilience_feature",
]
__getattr__ = lazy_exports(__name__, _HOMES)
