"""Settings for tests: only what the test names, with storage and embeddings off unless asked."""

from __future__ import annotations

from typing import Any

from portico.config import Settings, settings_from_dict


def make_settings(models: list[dict[str, Any]] | None = None, **sections: Any) -> Settings:
    """A validated config with ``models`` (default: one ``echo`` model) and any other sections.
    No ``portico.db`` is written and no embedder is loaded unless a section turns them on."""
    raw: dict[str, Any] = {
        "models": models or [{"name": "echo", "provider": "echo"}],
        "embeddings": {"enabled": False},
        "storage": {"enabled": False},
    }
    raw.update(sections)
    return settings_from_dict(raw, env={})
