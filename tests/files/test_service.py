"""FileService on both databases: ownership, listing with cursors, limits, expiry, the blob seam."""

from __future__ import annotations

from pathlib import Path

import pytest

from portico.errors import InvalidRequest, NotFound, PayloadTooLarge
from portico.files import FileService, LocalBlobStore

from .conftest import Clock


async def test_create_get_content_delete_and_owner_isolation(service: FileService) -> None:
    f = await service.create("key-a", "assistants", "../etc/notes.txt", b"hello")
    assert f.id.startswith("file-") and f.filename == "notes.txt" and f.bytes == 5
    assert f.public()["object"] == "file" and f.public()["purpose"] == "assistants"
    assert (await service.get("key-a", f.id)) == f
    assert await service.content("key-a", f.id) == b"hello"
    for call in (service.get, service.content, service.delete):
        with pytest.raises(NotFound):
            await call("key-b", f.id)
    assert (await service.delete("key-a", f.id)).id == f.id
    with pytest.raises(NotFound):
        await service.content("key-a", f.id)
    with pytest.raises(NotFound):
        await service.delete("key-a", f.id)


async def test_list_orders_filters_and_pages(service: FileService, clock: Clock) -> None:
    made = []
    for i in range(5):
        clock.now += 1
        made.append(await service.create("key-a", "batch" if i % 2 else "assistants", f"f{i}.txt", b"x"))
    await service.create("key-b", "batch", "other.txt", b"y")
    page = await service.list("key-a", limit=2)
    assert [f.id for f in page.data] == [made[4].id, made[3].id] and page.has_more
    rest = await service.list("key-a", after=page.data[-1].id, limit=10)
    assert [f.id for f in rest.data] == [made[2].id, made[1].id, made[0].id] and not rest.has_more
    asc = await service.list("key-a", order="asc", limit=10)
    assert [f.id for f in asc.data] == [f.id for f in made]
    batch = await service.list("key-a", purpose="batch")
    assert {f.id for f in batch.data} == {made[1].id, made[3].id}
    with pytest.raises(NotFound):  # another owner's id is no cursor
        await service.list("key-b", after=made[0].id)
    with pytest.raises(InvalidRequest):
        await service.list("key-a", limit=0)


async def test_limits_purposes_and_expiry(service: FileService, clock: Clock) -> None:
    with pytest.raises(PayloadTooLarge):
        await service.create("k", "assistants", "big.bin", b"x" * 1001)
    with pytest.raises(InvalidRequest):
        await service.create("k", "nonsense", "a.txt", b"x")
    out = await service.create("k", "batch_output", "out.jsonl", b"{}")  # internal purpose, in-process
    assert out.purpose == "batch_output"
    short = await service.create("k", "user_data", "t.txt", b"x", expires_after_s=3600)
    clock.now += 3601
    with pytest.raises(NotFound):
        await service.get("k", short.id)
    assert short.id not in {f.id for f in (await service.list("k")).data}


async def test_local_blob_store_contract(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "b")
    await blobs.put("file-1", b"one")
    await blobs.put("file-1", b"two")  # replace
    assert await blobs.open("file-1") == b"two"
    await blobs.delete("file-1")
    await blobs.delete("file-1")  # idempotent
    with pytest.raises(FileNotFoundError):
        await blobs.open("file-1")
    with pytest.raises(ValueError):
        await blobs.put("../escape", b"x")
    assert [p.name for p in (tmp_path / "b").iterdir()] == []  # no temporary files left behind
