"""BatchService: the Batch API in-process (the HTTP routes call it; the runner does the work)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection
from typing import Any

from portico.batch.records import BatchRecord
from portico.batch.runner import BatchRunner
from portico.batch.settings import BatchSettings
from portico.batch.store import BatchStore
from portico.errors import InvalidRequest, NotFound
from portico.files.service import FileService

WINDOWS = ("24h",)
MAX_METADATA = 16


class BatchService:
    def __init__(
        self,
        store: BatchStore,
        files: FileService,
        runner: BatchRunner,
        settings: BatchSettings,
        *,
        endpoints: Collection[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.files = files
        self.runner = runner
        self.settings = settings
        self.endpoints = frozenset(endpoints)
        self.clock = clock

    async def create(
        self,
        owner: str,
        *,
        input_file_id: Any,
        endpoint: Any,
        completion_window: Any,
        metadata: Any = None,
    ) -> BatchRecord:
        if endpoint not in self.endpoints:
            raise InvalidRequest(
                f"Invalid endpoint {endpoint!r}; batches here serve {', '.join(sorted(self.endpoints))}.",
                param="endpoint",
            )
        if completion_window not in WINDOWS:
            raise InvalidRequest("completion_window must be '24h'.", param="completion_window")
        meta = _metadata(metadata)
        if not isinstance(input_file_id, str) or not input_file_id:
            raise InvalidRequest("input_file_id is required.", param="input_file_id")
        file = await self.files.get(owner, input_file_id)
        if file.purpose != "batch":
            raise InvalidRequest(
                f"File '{input_file_id}' has purpose '{file.purpose}'; upload it with purpose 'batch'.",
                param="input_file_id",
            )
        if file.bytes > self.settings.max_bytes:
            raise InvalidRequest(
                f"The input file is {file.bytes} bytes; the limit is {self.settings.max_bytes}.",
                param="input_file_id",
            )
        now = self.clock()
        record = BatchRecord(
            id="batch_" + uuid.uuid4().hex[:24],
            owner=owner,
            endpoint=endpoint,
            input_file_id=input_file_id,
            completion_window=completion_window,
            status="validating",
            created_at=now,
            expires_at=now + self.settings.window_seconds,
            metadata=meta,
        )
        await self.store.insert(record)
        self.runner.wake()
        return record

    async def get(self, owner: str, batch_id: str) -> BatchRecord:
        record = await self.store.get(batch_id) if batch_id else None
        if record is None or record.owner != owner:
            raise NotFound(f"No batch with id '{batch_id}'.", code="batch_not_found", param="batch_id")
        return record

    async def list(self, owner: str, *, after: str | None, limit: int) -> tuple[list[BatchRecord], bool]:
        if not 1 <= limit <= 100:
            raise InvalidRequest("limit must be between 1 and 100.", param="limit")
        cursor = await self.get(owner, after) if after else None
        rows = await self.store.page(owner, after=cursor, limit=limit + 1)
        return rows[:limit], len(rows) > limit

    async def cancel(self, owner: str, batch_id: str) -> BatchRecord:
        record = await self.get(owner, batch_id)
        if record.status in ("validating", "in_progress"):
            await self.store.set(
                batch_id,
                when_status=["validating", "in_progress"],
                status="cancelling",
                cancelling_at=self.clock(),
            )
            self.runner.cancel_requested(batch_id)
            record = await self.get(owner, batch_id)
        return record


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_METADATA:
        raise InvalidRequest(f"metadata must be an object of at most {MAX_METADATA} pairs.", param="metadata")
    for k, v in value.items():
        if not isinstance(v, str) or len(k) > 64 or len(v) > 512:
            raise InvalidRequest(
                "metadata keys are strings of at most 64 characters, values strings of at most 512.",
                param="metadata",
            )
    return dict(value)
