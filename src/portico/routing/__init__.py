"""Request routing: virtual model names resolved by rules, intent, a learned complexity
model, a cascade or an ensemble. See docs/routing.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.routing.complexity import ComplexityRouter
    from portico.routing.complexity_model import ComplexityModel
    from portico.routing.intent import IntentClassifier, IntentRouter
    from portico.routing.route import CostFn, ModelCaller, Route, Router
    from portico.routing.rules import RulesRouter
    from portico.routing.settings import RoutingSettings
    from portico.routing.stage import RoutingStage

_HOMES = {
    "ComplexityModel": "complexity_model",
    "ComplexityRouter": "complexity",
    "CostFn": "route",
    "IntentClassifier": "intent",
    "IntentRouter": "intent",
    "ModelCaller": "route",
    "Route": "route",
    "Router": "route",
    "RoutingSettings": "settings",
    "RoutingStage": "stage",
    "RulesRouter": "rules",
}
__all__ = [
    "ComplexityModel",
    "ComplexityRouter",
    "CostFn",
    "IntentClassifier",
    "IntentRouter",
    "ModelCaller",
    "Route",
    "Router",
    "RoutingSettings",
    "RoutingStage",
    "RulesRouter",
]
__getattr__ = lazy_exports(__name__, _HOMES)
