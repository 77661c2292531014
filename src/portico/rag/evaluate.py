"""Retrieval evaluation in BEIR's formats (corpus.jsonl, queries.jsonl, qrels.tsv) through the
gateway's own ingestion and retrieval code: nDCG@10, recall@10, recall@100, MRR@10."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from portico.rag.chunk import ChunkingStrategy
from portico.rag.ingest import Ingestor
from portico.rag.retrieve import Retriever
from portico.rag.settings import RetrievalMode

Qrels = dict[str, dict[str, int]]


@dataclass(slots=True, frozen=True)
class Document:
    id: str
    title: str
    text: str

    @property
    def body(self) -> str:
        return f"{self.title}\n\n{self.text}" if self.title else self.text


def read_corpus(path: Path) -> list[Document]:
    docs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                docs.append(Document(str(row["_id"]), str(row.get("title") or ""), str(row.get("text") or "")))
    return docs


def read_queries(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                out[str(row["_id"])] = str(row["text"])
    return out


def read_qrels(path: Path) -> Qrels:
    qrels: Qrels = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            if int(row[2]) > 0:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def mrr_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if d in relevant:
            return 1.0 / (i + 1)
    return 0.0


def score_run(run: Mapping[str, Sequence[str]], qrels: Qrels) -> dict[str, float]:
    """Mean metrics over the queries that have relevance judgements (BEIR's convention)."""
    judged = [q for q in qrels if q in run]
    if not judged:
        return {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0, "queries": 0}
    n = len(judged)
    return {
        "ndcg@10": sum(ndcg_at(run[q], qrels[q], 10) for q in judged) / n,
        "recall@10": sum(recall_at(run[q], qrels[q], 10) for q in judged) / n,
        "recall@100": sum(recall_at(run[q], qrels[q], 100) for q in judged) / n,
        "mrr@10": sum(mrr_at(run[q], qrels[q], 10) for q in judged) / n,
        "queries": n,
    }


async def index_corpus(
    ingestor: Ingestor, store_id: str, docs: Sequence[Document], strategy: ChunkingStrategy, *, batch: int = 64
) -> int:
    """Each document becomes one file (id = the document id) of ``store_id``; returns chunks indexed."""
    total = 0
    for start in range(0, len(docs), batch):
        part = docs[start : start + batch]
        chunked = [await ingestor.chunks_of(f"{d.id}.txt", d.body.encode(), strategy) for d in part]
        flat = [c for cs in chunked for c in cs]
        vectors = await ingestor.embed(flat) if flat else None
        offset = 0
        for doc, chunks in zip(part, chunked, strict=True):
            rows = vectors[offset : offset + len(chunks)] if vectors is not None else None
            total += await ingestor.ingest_text(store_id, doc.id, chunks, {}, rows)
            offset += len(chunks)
    await ingestor.index.flush()
    return total


async def run_queries(
    retriever: Retriever, store_id: str, queries: Mapping[str, str], *, mode: RetrievalMode, k: int = 100
) -> dict[str, list[str]]:
    run: dict[str, list[str]] = {}
    for qid, text in queries.items():
        files = await retriever.search_files(store_id, text, mode=mode, k=k)
        run[qid] = [f.file_id for f in files]
    return run
