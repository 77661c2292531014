"""One GuardRuntime per test session: Presidio and the PII tagger take a few seconds to load."""

from __future__ import annotations

import pytest

from portico.guards import GuardRuntime


@pytest.fixture(scope="session")
def runtime() -> GuardRuntime:
    rt = GuardRuntime()
    rt.warm_up()
    return rt
