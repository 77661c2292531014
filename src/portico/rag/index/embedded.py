"""The embedded VectorIndex: SQLite holds every chunk (text, lexical tokens, float16 vector);
a usearch HNSW index and a bm25s index per store are derived from it, kept in memory,
persisted beside the database and rebuilt from SQLite when missing or stale.

Each store has a version, bumped by every change. A process notices another process's
change by the version and reloads; persisted indexes are named by version, so a stale file
is never loaded.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from portico.rag.filters import Predicate
from portico.rag.index.base import BM25_B, BM25_K1, ChunkIn, Hit, Vector, bm25_idf

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stores (store_id TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    store_id TEXT NOT NULL, file_id TEXT NOT NULL, attributes TEXT NOT NULL, PRIMARY KEY (store_id, file_id));
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, store_id TEXT NOT NULL, file_id TEXT NOT NULL,
    position INTEGER NOT NULL, text TEXT NOT NULL, tokens TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS ix_chunks_store_file ON chunks (store_id, file_id);
"""
# Below this share of a store, a filtered dense search scores the allowed chunks exactly;
# above it, the HNSW search is oversampled and post-filtered.
_EXACT_SHARE = 0.2
_OVERSAMPLE = 8


@dataclass
class _State:
    version: int
    dim: int
    dense: Any = None  # usearch Index over chunk ids
    bm25: Any = None  # bm25s.BM25, built lazily
    bm25_ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    bm25_files: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    file_names: list[str] = field(default_factory=list)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    dense_dirty: bool = False
    bm25_dirty: bool = False


def _usearch() -> Any:
    # onnxruntime must be loaded before usearch: the other order segfaults in the onnxruntime
    # import (usearch 2.26 / onnxruntime here; see cache/scope_index.py), and the embedder needs it.
    import onnxruntime  # noqa: F401
    from usearch.index import Index

    return Index


def _new_dense(dim: int) -> Any:
    Index = _usearch()
    return Index(ndim=dim, metric="cos", dtype="f16", connectivity=16, expansion_add=128, expansion_search=96)


class EmbeddedIndex:
    def __init__(self, directory: str | Path, *, dim: int = 384) -> None:
        self.dir = Path(directory)
        self.dim = dim
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # one writer/reader of the connection and states at a time
        self._states: dict[str, _State] = {}

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Nothing to do: the directory and database are opened on first use, so a gateway
        that never touches a vector store leaves no files behind."""

    def _open(self) -> sqlite3.Connection:
        with self._lock:
            if self._db is None:
                self.dir.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.dir / "chunks.db", check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA busy_timeout=10000")
                db.executescript(_SCHEMA)
                self._db = db
            return self._db

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._persist_all()
                self._db.close()
                self._db = None
            self._states.clear()

    async def flush(self) -> None:
        await asyncio.to_thread(self._persist_all)

    # ---- writes ----------------------------------------------------------------------------
    async def replace_file(
        self, store_id: str, file_id: str, chunks: Sequence[ChunkIn], attributes: Mapping[str, Any]
    ) -> None:
        await asyncio.to_thread(self._replace_file, store_id, file_id, chunks, dict(attributes))

    def _replace_file(self, store_id: str, file_id: str, chunks: Sequence[ChunkIn], attrs: dict[str, Any]) -> None:
        with self._lock:
            db = self._open()
            state = self._state(store_id)
            db.execute("BEGIN IMMEDIATE")
            try:
                old = [r[0] for r in db.execute(_OLD_IDS, (store_id, file_id))]
                db.execute("DELETE FROM chunks WHERE store_id = ? AND file_id = ?", (store_id, file_id))
                db.execute(
                    "INSERT OR REPLACE INTO files (store_id, file_id, attributes) VALUES (?, ?, ?)",
                    (store_id, file_id, json.dumps(attrs)),
                )
                new: list[int] = []
                for c in chunks:
                    cur = db.execute(
                        "INSERT INTO chunks (store_id, file_id, position, text, tokens, vector) VALUES (?,?,?,?,?,?)",
                        (store_id, file_id, c.position, c.text, " ".join(c.tokens), _blob(c.vector)),
                    )
                    new.append(int(cur.lastrowid or 0))
                version = self._bump(db, store_id)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            for key in old:
                state.dense.remove(key)
            if chunks:
                vectors = np.stack([np.asarray(c.vector, dtype=np.float32) for c in chunks])
                state.dense.add(np.asarray(new, dtype=np.uint64), vectors, threads=1)
            state.attributes[file_id] = attrs
            state.version = version
            state.dense_dirty = state.bm25_dirty = True
            state.bm25 = None

    async def set_attributes(self, store_id: str, file_id: str, attributes: Mapping[str, Any]) -> None:
        await asyncio.to_thread(self._set_attributes, store_id, file_id, dict(attributes))

    def _set_attributes(self, store_id: str, file_id: str, attrs: dict[str, Any]) -> None:
        with self._lock:
            db = self._open()
            state = self._state(store_id)
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "UPDATE files SET attributes = ? WHERE store_id = ? AND file_id = ?",
                (json.dumps(attrs), store_id, file_id),
            )
            state.version = self._bump(db, store_id)
            db.execute("COMMIT")
            state.attributes[file_id] = attrs
            self._rename_persisted(store_id, state)

    async def delete_file(self, store_id: str, file_id: str) -> None:
        await asyncio.to_thread(self._replace_file, store_id, file_id, [], {})
        await asyncio.to_thread(self._forget_file, store_id, file_id)

    def _forget_file(self, store_id: str, file_id: str) -> None:
        with self._lock:
            db = self._open()
            db.execute("DELETE FROM files WHERE store_id = ? AND file_id = ?", (store_id, file_id))
            state = self._states.get(store_id)
            if state is not None:
                state.attributes.pop(file_id, None)

    async def delete_store(self, store_id: str) -> None:
        await asyncio.to_thread(self._delete_store, store_id)

    def _delete_store(self, store_id: str) -> None:
        with self._lock:
            db = self._open()
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM chunks WHERE store_id = ?", (store_id,))
            db.execute("DELETE FROM files WHERE store_id = ?", (store_id,))
            db.execute("DELETE FROM stores WHERE store_id = ?", (store_id,))
            db.execute("COMMIT")
            self._states.pop(store_id, None)
            shutil.rmtree(self._store_dir(store_id), ignore_errors=True)

    # ---- reads -----------------------------------------------------------------------------
    async def count(self, store_id: str) -> int:
        def run() -> int:
            with self._lock:
                row = self._open().execute("SELECT COUNT(*) FROM chunks WHERE store_id = ?", (store_id,)).fetchone()
                return int(row[0])

        return await asyncio.to_thread(run)

    async def dense(self, store_id: str, vector: Vector, k: int, where: Predicate | None = None) -> list[Hit]:
        return await asyncio.to_thread(self._dense, store_id, np.asarray(vector, dtype=np.float32), k, where)

    def _dense(self, store_id: str, vector: Vector, k: int, where: Predicate | None) -> list[Hit]:
        with self._lock:
            state = self._state(store_id)
            total = len(state.dense)
            if total == 0 or k <= 0:
                return []
            allowed = self._allowed_files(state, where)
            if allowed is None:
                return self._hits(store_id, state, self._hnsw(state, vector, min(k, total)))
            if not allowed:
                return []
            ids = self._chunk_ids(store_id, allowed)
            if len(ids) > _EXACT_SHARE * total:
                found = [(i, s) for i, s in self._hnsw(state, vector, min(total, k * _OVERSAMPLE)) if i in ids]
                if len(found) >= min(k, len(ids)):
                    return self._hits(store_id, state, found[:k])
            keys = np.fromiter(ids, dtype=np.uint64, count=len(ids))
            vecs = np.asarray(state.dense.get(keys), dtype=np.float32)
            sims = vecs @ vector / np.clip(np.linalg.norm(vecs, axis=1) * np.linalg.norm(vector), 1e-12, None)
            top = np.argsort(-sims)[:k]
            return self._hits(store_id, state, [(int(keys[i]), float(sims[i])) for i in top])

    def _hnsw(self, state: _State, vector: Vector, count: int) -> list[tuple[int, float]]:
        matches = state.dense.search(vector, count, threads=1)
        return [(int(key), 1.0 - float(dist)) for key, dist in zip(matches.keys, matches.distances, strict=True)]

    async def lexical(self, store_id: str, tokens: Sequence[str], k: int, where: Predicate | None = None) -> list[Hit]:
        return await asyncio.to_thread(self._lexical, store_id, list(tokens), k, where)

    def _lexical(self, store_id: str, tokens: list[str], k: int, where: Predicate | None) -> list[Hit]:
        with self._lock:
            state = self._state(store_id)
            if not tokens or k <= 0:
                return []
            bm25 = self._bm25(store_id, state)
            if bm25 is None:
                return []
            mask = None
            allowed = self._allowed_files(state, where)
            if allowed is not None:
                wanted = np.array([i for i, f in enumerate(state.file_names) if f in allowed], dtype=np.int64)
                mask = np.isin(state.bm25_files, wanted).astype(np.float32)
            scores = bm25.get_scores(tokens, weight_mask=mask) if mask is not None else bm25.get_scores(tokens)
            n = min(k, int(np.count_nonzero(scores > 0)))
            if n == 0:
                return []
            top = np.argpartition(-scores, n - 1)[:n]
            top = top[np.argsort(-scores[top], kind="stable")]
            norm = _idf_mass(bm25, tokens)
            return self._hits(store_id, state, [(int(state.bm25_ids[i]), float(scores[i]) / norm) for i in top])

    # ---- internals -------------------------------------------------------------------------
    def _bump(self, db: sqlite3.Connection, store_id: str) -> int:
        db.execute(
            "INSERT INTO stores (store_id, version) VALUES (?, 1) "
            "ON CONFLICT (store_id) DO UPDATE SET version = version + 1",
            (store_id,),
        )
        return int(db.execute("SELECT version FROM stores WHERE store_id = ?", (store_id,)).fetchone()[0])

    def _store_dir(self, store_id: str) -> Path:
        return self.dir / store_id

    def _state(self, store_id: str) -> _State:
        """The in-memory indexes of ``store_id``, reloaded if another process changed the store."""
        db = self._open()
        row = db.execute("SELECT version FROM stores WHERE store_id = ?", (store_id,)).fetchone()
        version = int(row[0]) if row else 0
        state = self._states.get(store_id)
        if state is not None and state.version == version:
            return state
        state = self._load(store_id, version)
        self._states[store_id] = state
        return state

    def _load(self, store_id: str, version: int) -> _State:
        Index = _usearch()
        db = self._open()
        state = _State(version=version, dim=self.dim)
        state.attributes = {
            f: json.loads(a)
            for f, a in db.execute("SELECT file_id, attributes FROM files WHERE store_id = ?", (store_id,))
        }
        saved = self._store_dir(store_id) / f"dense.v{version}.usearch"
        if saved.is_file():
            state.dense = Index.restore(str(saved))
        if state.dense is None:
            state.dense = _new_dense(self.dim)
            rows = db.execute("SELECT id, vector FROM chunks WHERE store_id = ? ORDER BY id", (store_id,)).fetchall()
            if rows:
                keys = np.array([r[0] for r in rows], dtype=np.uint64)
                vecs = np.stack([np.frombuffer(r[1], dtype=np.float16) for r in rows]).astype(np.float32)
                state.dense.add(keys, vecs, threads=1)
                state.dense_dirty = True
        saved_bm25 = self._store_dir(store_id) / f"bm25.v{version}"
        if saved_bm25.is_dir():
            import bm25s

            state.bm25 = bm25s.BM25.load(str(saved_bm25))
            meta = np.load(saved_bm25 / "portico_docs.npz", allow_pickle=False)
            state.bm25_ids, state.bm25_files = meta["ids"], meta["files"]
            state.file_names = [str(x) for x in meta["names"]]
        else:
            state.bm25_dirty = True
        return state

    def _bm25(self, store_id: str, state: _State) -> Any:
        if state.bm25 is not None:
            return state.bm25
        import bm25s

        rows = (
            self._open()
            .execute("SELECT id, file_id, tokens FROM chunks WHERE store_id = ? ORDER BY id", (store_id,))
            .fetchall()
        )
        if not rows:
            return None
        names = sorted({r[1] for r in rows})
        index_of = {n: i for i, n in enumerate(names)}
        bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        bm25.index([r[2].split() for r in rows], show_progress=False)
        state.bm25 = bm25
        state.bm25_ids = np.array([r[0] for r in rows], dtype=np.int64)
        state.bm25_files = np.array([index_of[r[1]] for r in rows], dtype=np.int64)
        state.file_names = names
        state.bm25_dirty = True
        return bm25

    def _allowed_files(self, state: _State, where: Predicate | None) -> set[str] | None:
        if where is None:
            return None
        return {f for f, attrs in state.attributes.items() if where(attrs)}

    def _chunk_ids(self, store_id: str, files: set[str]) -> set[int]:
        db = self._open()
        out: set[int] = set()
        names = sorted(files)
        for start in range(0, len(names), 500):
            part = names[start : start + 500]
            marks = ",".join("?" * len(part))
            out.update(
                r[0]
                for r in db.execute(
                    f"SELECT id FROM chunks WHERE store_id = ? AND file_id IN ({marks})", (store_id, *part)
                )
            )
        return out

    def _hits(self, store_id: str, state: _State, scored: list[tuple[int, float]]) -> list[Hit]:
        if not scored:
            return []
        db = self._open()
        marks = ",".join("?" * len(scored))
        rows = {
            r[0]: r
            for r in db.execute(
                f"SELECT id, file_id, position, text FROM chunks WHERE id IN ({marks})", [i for i, _ in scored]
            )
        }
        hits = []
        for chunk_id, score in scored:
            row = rows.get(chunk_id)
            if row is not None:
                hits.append(Hit(chunk_id, row[1], row[2], row[3], score, state.attributes.get(row[1], {})))
        return hits

    def _persist_all(self) -> None:
        with self._lock:
            for store_id, state in self._states.items():
                self._persist(store_id, state)

    def _persist(self, store_id: str, state: _State) -> None:
        if not (state.dense_dirty or (state.bm25_dirty and state.bm25 is not None)):
            return
        folder = self._store_dir(store_id)
        folder.mkdir(parents=True, exist_ok=True)
        if state.dense_dirty:
            tmp = folder / f".dense.v{state.version}.tmp"
            state.dense.save(str(tmp))
            tmp.replace(folder / f"dense.v{state.version}.usearch")
            state.dense_dirty = False
        if state.bm25_dirty and state.bm25 is not None:
            target = folder / f"bm25.v{state.version}"
            tmp_dir = folder / f".bm25.v{state.version}.tmp"
            shutil.rmtree(tmp_dir, ignore_errors=True)
            state.bm25.save(str(tmp_dir))
            np.savez(
                tmp_dir / "portico_docs.npz",
                ids=state.bm25_ids,
                files=state.bm25_files,
                names=np.array(state.file_names, dtype=str),
            )
            shutil.rmtree(target, ignore_errors=True)
            tmp_dir.rename(target)
            state.bm25_dirty = False
        for old in folder.iterdir():  # earlier versions are stale for good
            if f".v{state.version}" not in old.name and not old.name.startswith("."):
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink(missing_ok=True)

    def _rename_persisted(self, store_id: str, state: _State) -> None:
        """Attributes changed but no chunk did: the derived indexes stay valid under the new version."""
        state.dense_dirty = True
        state.bm25_dirty = state.bm25 is not None


_OLD_IDS = "SELECT id FROM chunks WHERE store_id = ? AND file_id = ?"


def _idf_mass(bm25: Any, tokens: Sequence[str]) -> float:
    """Sum of the query terms' idf: the most a chunk can score (terms missing from the store
    count at the idf of an unseen term), so scores divided by it lie in [0, 1]."""
    n = float(bm25.scores["num_docs"])
    df = np.diff(bm25.scores["indptr"])
    vocab = bm25.vocab_dict
    total = 0.0
    for t in tokens:
        d = float(df[vocab[t]]) if t in vocab and vocab[t] < len(df) else 0.0
        total += bm25_idf(n, d)
    return total or 1.0


def _blob(vector: Vector) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()
