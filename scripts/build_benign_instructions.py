"""Build the authored benign instruction corpus, ``scripts/data/benign_instructions_v1.jsonl.gz``.

    .venv/bin/python scripts/build_benign_instructions.py

Benign text of the shape users send a chat assistant (instructions, rewriting and
summarising quoted documents, code help, word problems, role-play and personas for
legitimate tasks, follow-ups that refer to "your previous answer", "ignore the typos"
asides, near-misses that use attack words in their ordinary sense, a few languages),
filled from the hand-written templates and slot lists of ``benign_instruction_parts``
plus its fully hand-written prompts. Deterministic (seeded).

Split, fixed here before any model score is seen: a whole *template* (or hand-written
prompt) goes to ``calibration`` when the first byte of its SHA-1 is below CALIBRATION_SHARE
of 256, else to ``train``; asides are split the same way, and a calibration text only gets
calibration asides. So the calibration part is wordings the guard was never trained on,
which is what the block threshold is set on. Nothing here was written from, or checked
against, the held-out sources (MT-Bench, MBPP, SQuAD).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import benign_instruction_parts as p
import benign_sources as legacy

LEGACY = {
    *legacy._TASKS,
    *legacy._ROLES,
    *legacy._ASIDES,
    *legacy._WRAPS,
    *legacy._FOLLOWUPS,
    *legacy._CODE_FORMS,
}

OUT = Path(__file__).resolve().parent / "data" / "benign_instructions_v1.jsonl.gz"
ATTACKS_OUT = Path(__file__).resolve().parent / "data" / "contrast_attacks_v1.jsonl.gz"
N_ATTACKS = 1200
CALIBRATION_SHARE = 0.3
SEED = 19
# texts per template family (the hand-written lists are taken whole)
COUNTS = {
    "writing": 1100,
    "tasks": 1100,
    "roleplay": 1300,
    "persona": 500,
    "rewrite": 1400,
    "code": 1000,
    "math": 500,
    "followup": 700,
}
ASIDE_SHARE = 0.25  # share of templated texts that get an aside before or after


def split_of(key: str) -> str:
    if key in LEGACY:  # already in the guard's training templates
        return "train"
    return "calibration" if hashlib.sha1(key.encode("utf-8")).digest()[0] < CALIBRATION_SHARE * 256 else "train"


def _fields(template: str) -> list[str]:
    """The template's slots in a fixed order (a set's order follows the per-process string
    hash seed, which would make the fill, and so the corpus, differ between runs)."""
    return sorted({f for _, f, _, _ in string.Formatter().parse(template) if f})


def _role(rng: random.Random, fill: Callable[[str], str]) -> tuple[str, str]:
    role, task = rng.choice(p.ROLES)
    return fill(role), fill(task)


def make_filler(rng: random.Random) -> Callable[[str], str]:
    def fill(template: str) -> str:
        values: dict[str, str] = {}
        a, b, c = rng.randint(12, 480), rng.randint(2, 40), rng.randint(2, 9)
        pools: dict[str, Callable[[], str]] = {
            "who": lambda: rng.choice(p.WHO),
            "topic": lambda: rng.choice(p.TOPIC),
            "topic2": lambda: rng.choice(p.TOPIC),
            "lang": lambda: rng.choice(p.LANGS),
            "tone": lambda: rng.choice(p.TONES),
            "aud": lambda: rng.choice(p.AUDIENCES),
            "doc": lambda: rng.choice(p.DOCS),
            "code": lambda: rng.choice(p.CODE_SNIPPETS),
            "ctask": lambda: rng.choice(p.CODE_TASKS),
            "sqltask": lambda: rng.choice(p.SQL_TASKS),
            "shtask": lambda: rng.choice(p.SH_TASKS),
            "retask": lambda: rng.choice(p.RE_TASKS),
            "persona": lambda: rng.choice(p.PERSONAS),
            "fictional": lambda: rng.choice(p.FICTIONAL),
            "job": lambda: rng.choice(p.JOBS),
            "goal": lambda: rng.choice(p.GOALS),
            "goal_ing": lambda: rng.choice(["moving abroad", "buying a car", "adopting a dog", "starting a business"]),
            "period": lambda: rng.choice(p.PERIODS),
            "city": lambda: rng.choice(p.CITIES),
            "math": lambda: rng.choice(p.MATH),
            "n": lambda: str(rng.randint(2, 7)),
            "name": lambda: rng.choice(p.NAMES),
            "a": lambda: str(a),
            "b": lambda: str(b),
            "c": lambda: str(c),
        }
        for f in _fields(template):
            values[f] = pools[f]()
        return template.format(**values)

    return fill


def build() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    fill = make_filler(rng)
    families = {
        "writing": p.WRITING,
        "tasks": p.TASKS,
        "roleplay": p.ROLEPLAY,
        "persona": p.PERSONA,
        "rewrite": p.REWRITE,
        "code": p.CODE,
        "math": p.MATH_T,
        "followup": p.FOLLOWUP,
    }
    asides = {s: [a for a in p.ASIDES if split_of(a) == s] for s in ("train", "calibration")}
    rows: list[dict[str, str]] = []
    for family, templates in families.items():
        for _ in range(COUNTS[family]):
            template = rng.choice(templates)
            split = split_of(template)
            if family == "roleplay":
                role, task = _role(rng, fill)
                text = fill(template.replace("{role}", role).replace("{task}", task))
                text = re.sub(r"\b(a) ([aeiou])", r"\1n \2", text)
                text = re.sub(r"([.!?] )([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
            else:
                text = fill(template)
            if rng.random() < ASIDE_SHARE and asides[split]:
                aside = rng.choice(asides[split])
                text = f"{aside} {text}" if rng.random() < 0.5 else f"{text} {aside}"
            rows.append({"text": text, "family": family, "split": split})
    for family, items in (
        ("handwritten", p.HANDWRITTEN),
        ("near_miss", p.NEAR_MISS),
        ("multilingual", p.MULTILINGUAL),
        ("aside", p.ASIDES),
    ):
        rows += [{"text": t, "family": family, "split": split_of(t)} for t in items]
    seen: set[str] = set()
    return [r for r in rows if not (r["text"] in seen or seen.add(r["text"]))]  # type: ignore[func-returns-value]


def build_attacks() -> list[dict[str, str]]:
    """Attack texts in the benign families' framings (label 1, training only)."""
    rng = random.Random(SEED + 1)
    fill = make_filler(rng)
    rows = []
    for _ in range(N_ATTACKS):
        frame = rng.choice(p.ATTACK_FRAMES)
        payload = rng.choice(p.ATTACK_PAYLOADS)
        role, _task = _role(rng, fill)
        text = (
            frame.replace("{role}", role)
            .replace("{payload_lc}", p.lowercase_first(payload))
            .replace("{payload}", payload)
            .replace("{aside}", rng.choice(p.ASIDES))
        )
        text = re.sub(r"\b(a) ([aeiou])", r"\1n \2", fill(text))
        rows.append({"text": text, "family": "contrast_attack", "split": "train"})
    seen: set[str] = set()
    return [r for r in rows if not (r["text"] in seen or seen.add(r["text"]))]  # type: ignore[func-returns-value]


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(data)  # mtime 0: the same bytes on every rebuild
    print(f"wrote {path}: {len(rows)} texts, {path.stat().st_size / 1e3:.0f} kB")


def main() -> None:
    _write(ATTACKS_OUT, build_attacks())
    rows = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    _write(OUT, rows)
    print(sorted(Counter((r["family"], r["split"]) for r in rows).items()))


if __name__ == "__main__":
    main()
