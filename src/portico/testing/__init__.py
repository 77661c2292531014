"""Test doubles shipped as public API: test your own configs the way Portico tests its own."""

from portico.providers.echo import EchoProvider
from portico.testing.fake_upstream import FailureMix, FakeUpstream, Received
from portico.testing.faults import Behaviour, Script

__all__ = ["Behaviour", "EchoProvider", "FailureMix", "FakeUpstream", "Received", "Script"]
