"""Readers of the shared RAG data: SciFact (as BEIR builds it) and the SQuAD 2.0 subset."""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from portico.rag.evaluate import Document, Qrels

_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def shared_data() -> Path:
    root = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("PORTICO_SHARED_DATA", root.parent / "shared" / "data"))


@dataclass
class SciFact:
    corpus: list[Document]
    train_queries: dict[str, str]
    train_qrels: Qrels
    test_queries: dict[str, str]
    test_qrels: Qrels


def _sentences(abstract: str) -> list[str]:
    """The abstract column is a numpy array repr of sentence strings (no commas between them)."""
    return [ast.literal_eval(m.group(0)).strip() for m in _LITERAL.finditer(abstract)]


def _claims(zf: zipfile.ZipFile, name: str) -> tuple[dict[str, str], Qrels]:
    queries: dict[str, str] = {}
    qrels: Qrels = {}
    for row in csv.DictReader(io.TextIOWrapper(zf.open(name), encoding="utf-8")):
        qid = row["id"]
        queries[qid] = row["claim"]
        for doc in re.findall(r"\d+", row["cited_doc_ids"]):
            qrels.setdefault(qid, {})[doc] = 1
    return queries, qrels


def load_scifact(path: Path | None = None) -> SciFact:
    """BEIR SciFact: test = the 300 distinct validation claims, train = the training claims,
    relevant documents = each claim's cited documents."""
    path = path or shared_data() / "rag" / "scifact.zip"
    with zipfile.ZipFile(path) as zf:
        corpus = [
            Document(row["doc_id"], row["title"].strip(), " ".join(_sentences(row["abstract"])))
            for row in csv.DictReader(io.TextIOWrapper(zf.open("corpus_train.csv"), encoding="utf-8"))
        ]
        train_q, train_r = _claims(zf, "claims_train.csv")
        test_q, test_r = _claims(zf, "claims_validation.csv")
    return SciFact(corpus, train_q, train_r, test_q, test_r)


def load_scifact_claims(name: str = "claims_test.csv", path: Path | None = None) -> list[str]:
    """Claims of one SciFact file, without judgements (claims_test has none: off-corpus queries)."""
    path = path or shared_data() / "rag" / "scifact.zip"
    with zipfile.ZipFile(path) as zf:
        rows = csv.DictReader(io.TextIOWrapper(zf.open(name), encoding="utf-8"))
        return list(dict.fromkeys(row["claim"] for row in rows))


@dataclass
class SquadQuestion:
    id: str
    question: str
    paragraph: int  # index into the paragraphs list
    answers: list[str]
    impossible: bool
    article: str


def load_squad(path: Path | None = None) -> tuple[list[str], list[SquadQuestion]]:
    path = path or shared_data() / "rag" / "squad2_small.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    paragraphs: list[str] = []
    questions: list[SquadQuestion] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            paragraphs.append(para["context"])
            for qa in para["qas"]:
                questions.append(
                    SquadQuestion(
                        qa["id"],
                        qa["question"],
                        len(paragraphs) - 1,
                        sorted({a["text"] for a in qa.get("answers", [])}),
                        bool(qa.get("is_impossible")),
                        article["title"],
                    )
                )
    return paragraphs, questions
