#!/usr/bin/env python3
"""Build a 200-question GSM8K-style eval set for ``portico eval run`` (never committed).

Questions come from the RouteLLM GSM8K file (``gsm8k_responses.csv``, which also records
whether Mixtral-8x7B and GPT-4 answered each correctly); the reference answers are the
``#### N`` lines of the GSM8K test split beside it, joined on the question text. Prompts
listed in ``contaminated_prompts.jsonl`` are dropped. Rows are a seeded random sample.

    python scripts/build_gsm8k_eval.py [--n 200] [--seed 0] [--out /tmp/portico-gsm8k-200.jsonl]
    portico eval run --model local --dataset /tmp/portico-gsm8k-200.jsonl --metrics accuracy,latency,cost
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTRUCTION = "Solve the problem step by step, then give the final answer on its own line as '#### <number>'."


def shared_data() -> Path:
    return Path(os.environ.get("PORTICO_SHARED_DATA", ROOT.parent / "shared" / "data"))


def key(text: str) -> str:
    """Questions differ in curly quotes and spacing between the files."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").split()).lower()


def reference_answers(test_jsonl: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in test_jsonl.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        m = re.search(r"####\s*(-?[\d,\.]+)", row["answer"])
        if m:
            out[key(row["question"])] = m.group(1).replace(",", "")
    return out


def build(n: int, seed: int) -> list[dict[str, object]]:
    base = shared_data() / "routing" / "routellm_evals" / "gsm8k"
    answers = reference_answers(base / "test.jsonl")
    contaminated = {
        key(json.loads(line)["eval_prompt"])
        for line in (base / "contaminated_prompts.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    rows: list[dict[str, object]] = []
    missing = 0
    with (base / "gsm8k_responses.csv").open(encoding="utf-8", newline="") as f:
        for i, rec in enumerate(csv.DictReader(f)):
            question = rec["prompt"].strip()
            k = key(question)
            if k in contaminated:
                continue
            answer = answers.get(k)
            if answer is None:
                missing += 1
                continue
            rows.append(
                {
                    "id": f"gsm8k-{i:04d}",
                    "messages": [
                        {"role": "system", "content": INSTRUCTION},
                        {"role": "user", "content": question},
                    ],
                    "expected": answer,
                    "assert": [{"type": "numeric"}],
                    "metadata": {
                        "source": "gsm8k test (RouteLLM gsm8k_responses.csv)",
                        "mixtral_correct": rec["mistralai/Mixtral-8x7B-Instruct-v0.1"] == "True",
                        "gpt4_correct": rec["gpt-4-1106-preview"] == "True",
                    },
                }
            )
    if missing:
        print(
            f"note: {missing} questions had no reference answer in test.jsonl and were skipped",
            file=sys.stderr,
        )
    random.Random(seed).shuffle(rows)
    return sorted(rows[:n], key=lambda r: str(r["id"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/portico-gsm8k-200.jsonl"))
    args = parser.parse_args()
    rows = build(args.n, args.seed)
    if args.out.resolve().is_relative_to(ROOT):
        sys.exit(f"refusing to write {args.out} inside the repository: GSM8K copies are not committed")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    weak = sum(bool(r["metadata"]["mixtral_correct"]) for r in rows) / len(rows)  # type: ignore[index]
    strong = sum(bool(r["metadata"]["gpt4_correct"]) for r in rows) / len(rows)  # type: ignore[index]
    print(f"wrote {len(rows)} rows to {args.out} (Mixtral-8x7B correct {weak:.1%}, GPT-4 correct {strong:.1%})")


if __name__ == "__main__":
    main()
