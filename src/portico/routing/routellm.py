"""Loading RouteLLM's per-question outcome files (lm-sys/RouteLLM ``routellm_evals``) and the
deterministic question-level split shared by training, ``portico eval router`` and the bench.

Layout: ``mmlu/responses/mmlu_<subject>.csv`` and ``gsm8k/gsm8k_responses.csv`` with columns
``prompt,<weak>,<strong>[,...]`` holding True/False; ``*/contaminated_prompts.jsonl`` lists
prompts that overlap RouteLLM's own training data (dropped here).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
STRONG = "gpt-4-1106-preview"
SPLIT_SALT = "portico-router-v1"


@dataclass(frozen=True, slots=True)
class Question:
    benchmark: str
    subject: str  # for the subject hold-out split only: never a feature
    prompt: str
    weak: float
    strong: float
    weak_response: str = ""
    strong_response: str = ""


def is_test(prompt: str) -> bool:
    """The held-out half: a salted hash of the question text, independent of file order."""
    digest = hashlib.sha256((SPLIT_SALT + prompt).encode()).digest()
    return digest[0] % 2 == 1


def _contaminated(folder: Path) -> set[str]:
    file = folder / "contaminated_prompts.jsonl"
    if not file.is_file():
        return set()
    out: set[str] = set()
    for line in file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.add(json.loads(line)["eval_prompt"])
    return out


def _truth(value: str) -> float:
    return 1.0 if value.strip().lower() in ("true", "1", "1.0") else 0.0


def load_mmlu(root: Path) -> list[Question]:
    folder = root / "mmlu"
    drop = _contaminated(folder)
    out: list[Question] = []
    files = sorted((folder / "responses").glob("mmlu_*.csv"))
    if not files:
        raise FileNotFoundError(f"no MMLU response files under {folder / 'responses'}")
    for file in files:
        subject = file.stem.removeprefix("mmlu_")
        with file.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["prompt"] in drop:
                    continue
                out.append(Question("mmlu", subject, row["prompt"], _truth(row[WEAK]), _truth(row[STRONG])))
    return out


def load_gsm8k(root: Path) -> list[Question]:
    folder = root / "gsm8k"
    drop = _contaminated(folder)
    out: list[Question] = []
    with (folder / "gsm8k_responses.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["prompt"] in drop:
                continue
            out.append(
                Question(
                    "gsm8k",
                    "gsm8k",
                    row["prompt"],
                    _truth(row[WEAK]),
                    _truth(row[STRONG]),
                    row.get(WEAK + "_response", ""),
                    row.get(STRONG + "_response", ""),
                )
            )
    return out


def outcomes(questions: list[Question]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    return (
        np.array([q.weak for q in questions], dtype=np.float64),
        np.array([q.strong for q in questions], dtype=np.float64),
    )
