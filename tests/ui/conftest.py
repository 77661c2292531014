"""A gateway with storage, a master key and a priced FakeUpstream model, served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portico.server import create_app
from portico.testing import FakeUpstream, make_settings, serve_in_thread

MASTER = "sk-ui-master-0123456789abcdef"


@dataclass
class Served:
    url: str
    upstream: FakeUpstream


@pytest.fixture
def served_ui(thread_upstream: FakeUpstream, tmp_path: Path) -> Iterator[Served]:
    settings = make_settings(
        [
            {
                "name": "gpt",
                "provider": "openai",
                "base_url": thread_upstream.base_url,
                "api_key": "sk-upstream-secret-1",
                "price": {"input_per_mtok": 2.5, "output_per_mtok": 10.0},
            },
            {"name": "echo", "provider": "echo"},
        ],
        auth={"master_key": MASTER},
        storage={
            "enabled": True,
            "url": f"sqlite+aiosqlite:///{tmp_path}/ui.db",
            "wal_dir": str(tmp_path / "wal"),
            "durability": "commit",  # a request's record is stored before its answer: the UI sees it at once
        },
        files={"dir": str(tmp_path / "files")},
        rag={"dir": str(tmp_path / "rag")},
        cache={"enabled": True, "tier": "exact"},
        guards={"default": {"input": [{"type": "pii", "action": "redact", "entities": ["EMAIL_ADDRESS"]}]}},
    )
    with serve_in_thread(create_app(settings)) as url:
        yield Served(url, thread_upstream)
