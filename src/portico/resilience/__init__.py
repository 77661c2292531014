"""Calling models: deployments, balancing, retries, circuit breakers, fallbacks."""

from portico.resilience.caller import ModelCaller
from portico.resilience.deployments import Deployment, build_deployments

__all__ = ["Deployment", "ModelCaller", "build_deployments"]
