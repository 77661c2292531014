"""Loading RouterBench's zero-shot splits (``routing/routerbench/*.csv.gz``): per prompt, the
correctness, cost and answer of 11 models on ARC-Challenge, MBPP and Winogrande.

Each prompt cell is a Python list literal holding one string: the few-shot examples, then
the question; the question (the last blank-line-separated block) is what a router sees.
The model pairs below (cheap -> strong) were fixed before any router was scored on them.
"""

from __future__ import annotations

import ast
import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

MODELS: tuple[str, ...] = (
    "WizardLM/WizardLM-13B-V1.2",
    "claude-instant-v1",
    "claude-v1",
    "claude-v2",
    "gpt-3.5-turbo-1106",
    "gpt-4-1106-preview",
    "meta/code-llama-instruct-34b-chat",
    "meta/llama-2-70b-chat",
    "mistralai/mistral-7b-chat",
    "mistralai/mixtral-8x7b-chat",
    "zero-one-ai/Yi-34B-Chat",
)
PAIRS: tuple[tuple[str, str], ...] = (
    ("mistralai/mistral-7b-chat", "gpt-4-1106-preview"),
    ("meta/llama-2-70b-chat", "gpt-4-1106-preview"),
    ("mistralai/mixtral-8x7b-chat", "gpt-4-1106-preview"),
    ("gpt-3.5-turbo-1106", "gpt-4-1106-preview"),
    ("WizardLM/WizardLM-13B-V1.2", "gpt-3.5-turbo-1106"),
    ("claude-instant-v1", "claude-v1"),
)
TASK_FILES: dict[str, tuple[str, ...]] = {
    "arc": ("arc_challenge_train",),
    "mbpp": ("mbpp_train", "mbpp_test"),
    "winogrande": ("winograde_train", "winograde_test"),
}
MIN_GAP = 0.05  # a (task, pair) whose strong model is not this much better has no gap to recover

csv.field_size_limit(1 << 30)


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    prompts: list[str]
    correct: npt.NDArray[np.float64]  # (prompts, models)
    cost: npt.NDArray[np.float64]  # (prompts, models), USD
    answers: list[list[str]]  # [prompt][model]

    def column(self, model: str) -> int:
        return MODELS.index(model)

    def gap(self, pair: tuple[str, str]) -> float:
        weak, strong = (self.column(m) for m in pair)
        return float(self.correct[:, strong].mean() - self.correct[:, weak].mean())


def short(model: str) -> str:
    return model.split("/")[-1]


def question(cell: str) -> str:
    try:
        parts = ast.literal_eval(cell)
    except (ValueError, SyntaxError):
        parts = cell
    text = str(parts[-1]) if isinstance(parts, list) and parts else str(parts)
    return text.strip().split("\n\n")[-1]


def load_task(folder: Path, name: str) -> Task:
    prompts: list[str] = []
    correct: list[list[float]] = []
    cost: list[list[float]] = []
    answers: list[list[str]] = []
    for stem in TASK_FILES[name]:
        with gzip.open(folder / f"{stem}.csv.gz", "rt", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                try:
                    c = [float(row[m]) for m in MODELS]
                    k = [float(row[m + "|total_cost"]) for m in MODELS]
                except (KeyError, ValueError):
                    continue  # a model without a result for this prompt
                prompts.append(question(row["prompt"]))
                correct.append(c)
                cost.append(k)
                answers.append([row.get(m + "|model_response", "") for m in MODELS])
    return Task(name, prompts, np.array(correct), np.array(cost), answers)


def load_tasks(folder: Path) -> dict[str, Task]:
    return {name: load_task(folder, name) for name in TASK_FILES}
