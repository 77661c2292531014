"""Records acknowledged before a kill -9 survive: the journal is replayed at the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from portico.storage.recorder import Recorder
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore

CHILD = r"""
import asyncio, sys, time
from portico.storage.recorder import Recorder
from portico.storage.records import RequestRecord
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore

async def main():
    settings = StorageSettings(url=sys.argv[1], wal_dir=sys.argv[2], flush_interval_ms=float(sys.argv[3]))
    store = SqlStore(settings)
    await store.start()
    rec = Recorder(store, settings)
    await rec.start()
    async def client(c):
        for i in range(100000):
            rid = f"req-{c}-{i}"
            await rec.record(RequestRecord(request_id=rid, ts=time.time(), key_id="key_x", model="m", cost_usd=0.001))
            sys.stdout.write("ACK " + rid + "\n")
            sys.stdout.flush()
    await asyncio.gather(*(client(c) for c in range(8)))

asyncio.run(main())
"""


async def _kill_after(tmp_path: Path, flush_ms: float, acks: int) -> tuple[set[str], StorageSettings]:
    url = f"sqlite+aiosqlite:///{tmp_path}/d.db"
    wal = str(tmp_path / "wal")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url, wal, str(flush_ms)], stdout=subprocess.PIPE, text=True)
    acked: set[str] = set()
    assert proc.stdout is not None
    for line in proc.stdout:
        acked.add(line.split()[1])
        if len(acked) >= acks:
            break
    os.kill(proc.pid, signal.SIGKILL)
    for line in proc.stdout:  # acks already written before the kill count too
        if line.startswith("ACK "):
            acked.add(line.split()[1])
    proc.wait()
    return acked, StorageSettings(url=url, wal_dir=wal)


async def test_kill_9_loses_no_acknowledged_record(tmp_path: Path) -> None:
    # A long flush interval: most acknowledged records exist only in the journal at the kill.
    acked, settings = await _kill_after(tmp_path, 60_000, 400)
    store = SqlStore(settings)
    await store.start()
    before = await store.count_records()
    recorder = Recorder(store, settings)
    await recorder.start()  # replays the dead process's journal
    assert recorder.replayed >= len(acked) - before[1]
    rows = {r["request_id"] for r in await store.audit(limit=100_000)}
    assert acked <= rows
    n_ledger, n_audit = await store.count_records()
    assert n_ledger == n_audit == len(rows)
    await recorder.stop()
    assert not list(Path(settings.wal_dir).glob("*.wal.jsonl"))  # all committed: journal removed
    await store.close()


async def test_replay_twice_is_harmless_and_live_journals_are_left_alone(tmp_path: Path) -> None:
    acked, settings = await _kill_after(tmp_path, 20, 200)  # some records reached the database
    store = SqlStore(settings)
    await store.start()
    live = Recorder(store, settings)
    await live.start()  # replays the orphan, then holds a journal of its own
    other = Recorder(store, settings)
    assert await other.replay(Path(settings.wal_dir)) == 0  # a live process's journal is not touched
    assert acked <= {r["request_id"] for r in await store.audit(limit=100_000)}
    await live.stop()
    await store.close()
