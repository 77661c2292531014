"""Request routing: virtual model names resolved by rules, intent, a learned complexity
model, a cascade or an ensemble. See docs/routing.md."""

from portico.routing.complexity import ComplexityRouter
from portico.routing.complexity_model import ComplexityModel
from portico.routing.intent import IntentClassifier, IntentRouter
from portico.routing.route import CostFn, ModelCaller, Route, Router
from portico.routing.rules import RulesRouter
from portico.routing.settings import RoutingSettings
from portico.routing.stage import RoutingStage

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
