"""Settings of the files section (``files:`` in portico.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FilesSettings(BaseModel):
    """Uploaded files (``/v1/files``): bytes in a blob store, metadata in the storage database."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(
        default=None, description="unset: on when storage is enabled (file metadata lives in its database)"
    )
    dir: str = Field(default="portico-files", description="directory of the local blob store")
    max_bytes: int = Field(default=100 * 1024 * 1024, ge=1, description="largest upload; bigger ones get 413")
