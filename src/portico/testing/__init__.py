"""Test doubles shipped as public API: test your own configs the way Portico tests its own."""

from portico.providers.echo import EchoProvider
from portico.testing.fake_upstream import FailureMix, FakeUpstream, Received
from portico.testing.faults import Behaviour, Script
from portico.testing.process import GatewayProcess
from portico.testing.server import post_json, serve_in_thread
from portico.testing.settings import make_settings

__all__ = [
    "Behaviour",
    "EchoProvider",
    "FailureMix",
    "FakeUpstream",
    "GatewayProcess",
    "Received",
    "Script",
    "make_settings",
    "post_json",
    "serve_in_thread",
]
