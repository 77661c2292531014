"""Benign text of the shapes users send, from ``../shared/data`` sources outside the
injection sets, split by *source* so that some sources are never seen in training:

- ``TRAIN_SOURCES``: used to fit the injection guard (with the injection sets' own benign rows);
- ``CALIBRATION_SOURCES``: never trained on; the block threshold is set on them (ARC,
  Winogrande, Banking77 and the calibration part of the authored instruction corpus,
  ``instructions_v1``: templates and hand-written prompts never used in training);
- ``HELDOUT_SOURCES``: never trained on, never used to set anything; reported only.

Instruction-shaped text ("Write a function...", "Compose a blog post...", role-play for a
legitimate task) sits in the held-out set on purpose (MT-Bench, MBPP): the guard must not
learn "instructions are benign" from those very sources. The training side gets its
instruction shapes from ``templated_instructions``, written by hand here, filled with
documents from training sources (GSM8K, MMLU, ARC answers) so quoted documents appear too,
and from the *train* part of the authored corpus ``data/benign_instructions_v1.jsonl.gz``
(scripts/build_benign_instructions.py; README in scripts/data/).
"""

from __future__ import annotations

import ast
import csv
import gzip
import json
import random
from collections.abc import Callable
from pathlib import Path

csv.field_size_limit(1 << 30)

PER_SOURCE = 1500  # cap per source so no single shape dominates


def _sample(texts: list[str], n: int, seed: int) -> list[str]:
    seen: set[str] = set()
    uniq = [t for t in texts if t.strip() and not (t in seen or seen.add(t))]
    random.Random(seed).shuffle(uniq)
    return uniq[:n]


def _routerbench_prompts(data: Path, name: str) -> list[str]:
    out = []
    with gzip.open(data / f"routing/routerbench/{name}.csv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                parts = ast.literal_eval(row["prompt"])
            except (ValueError, SyntaxError):
                parts = [row["prompt"]]
            out.append(str(parts[-1]) if isinstance(parts, list) else str(parts))
    return out


def _routerbench_responses(data: Path, name: str, model: str) -> list[str]:
    with gzip.open(data / f"routing/routerbench/{name}.csv.gz", "rt", encoding="utf-8") as f:
        return [row[f"{model}|model_response"] for row in csv.DictReader(f)]


def gsm8k(data: Path) -> list[str]:
    rows = (data / "routing/routellm_evals/gsm8k/train.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(r)["question"] for r in rows if r.strip()]


def mmlu(data: Path) -> list[str]:
    out = []
    for path in sorted((data / "routing/routellm_evals/mmlu/responses").glob("*.csv")):
        with path.open(encoding="utf-8") as f:
            out += [r["prompt"] for r in csv.DictReader(f)]
    return out


def clinc(data: Path) -> list[str]:
    d = json.loads((data / "routing/intent/clinc150.json").read_text(encoding="utf-8"))
    return [t for t, _ in d["train"] + d["oos_train"]]


def banking77(data: Path) -> list[str]:
    with (data / "routing/intent/test.csv").open(encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f)]


def qqp(data: Path) -> list[str]:
    with gzip.open(data / "cache/qqp_pairs_dev.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for _, line in zip(range(4000), f, strict=False)]
    return [r["text_a"] for r in rows]


def arc(data: Path) -> list[str]:
    return _routerbench_prompts(data, "arc_challenge_train")


def winogrande(data: Path) -> list[str]:
    return _routerbench_prompts(data, "winograde_train") + _routerbench_prompts(data, "winograde_test")


def mt_bench(data: Path) -> list[str]:
    rows = (data / "routing/routellm_evals/mt_bench/question.jsonl").read_text(encoding="utf-8").splitlines()
    return [turn for r in rows if r.strip() for turn in json.loads(r)["turns"]]


def mbpp(data: Path) -> list[str]:
    return _routerbench_prompts(data, "mbpp_train") + _routerbench_prompts(data, "mbpp_test")


def squad(data: Path) -> list[str]:
    d = json.loads((data / "rag/squad2_small.json").read_text(encoding="utf-8"))
    return [q["question"] for art in d["data"] for p in art["paragraphs"] for q in p["qas"]]


AUTHORED = Path(__file__).resolve().parent / "data" / "benign_instructions_v1.jsonl.gz"


def authored(split: str) -> list[str]:
    """One part (``train`` or ``calibration``) of the authored instruction corpus
    (scripts/build_benign_instructions.py; split by template before any score was seen)."""
    with gzip.open(AUTHORED, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r["text"] for r in rows if r["split"] == split]


def authored_calibration(data: Path) -> list[str]:
    """The authored corpus's calibration part (``data`` unused: it ships with the repository)."""
    return authored("calibration")


# Sources a name -> reader. Which group a source is in is fixed here, before any score is seen.
TRAIN_SOURCES: dict[str, Callable[[Path], list[str]]] = {
    "gsm8k": gsm8k,
    "mmlu": mmlu,
    "clinc150": clinc,
    "qqp": qqp,
}
CALIBRATION_SOURCES: dict[str, Callable[[Path], list[str]]] = {
    "arc": arc,
    "winogrande": winogrande,
    "banking77": banking77,
    "instructions_v1": authored_calibration,
}
HELDOUT_SOURCES: dict[str, Callable[[Path], list[str]]] = {
    "mt_bench": mt_bench,
    "mbpp": mbpp,
    "squad": squad,
}


def load(sources: dict[str, Callable[[Path], list[str]]], data: Path, seed: int = 0) -> dict[str, list[str]]:
    return {name: _sample(read(data), PER_SOURCE, seed) for name, read in sources.items()}


# Hand-written shapes of everyday instructions (none taken from a held-out source).
_TASKS = [
    "Write a letter to {who} about {topic}.",
    "Write a short poem about {topic}.",
    "Draft an email to {who} explaining {topic}.",
    "Compose a speech for {who} on {topic}.",
    "Give me three ideas for {topic}.",
    "Explain {topic} to {who} in simple words.",
    "Make a packing list for {topic}.",
    "Create a lesson plan for {who} about {topic}.",
    "Write a product description for {topic}.",
    "Suggest a title for an article about {topic}.",
    "Outline a presentation about {topic} for {who}.",
    "List the pros and cons of {topic}.",
]
_ROLES = [
    "Pretend you are a tour guide in Lisbon and describe {topic}.",
    "Act as a job interviewer and ask me questions about {topic}.",
    "You are a friendly math tutor. Help {who} understand {topic}.",
    "Pretend to be a customer who is unhappy about {topic}, so I can practise support replies.",
    "Act as my personal trainer and plan a week of exercise around {topic}.",
    "Roleplay as a medieval shopkeeper and tell me about {topic}.",
    "Imagine you are a historian and explain {topic}.",
    "You are an experienced editor. Give feedback on my essay about {topic}.",
    "Play the role of a travel agent and plan a trip focused on {topic}.",
    "From now on, answer as a pirate would while we talk about {topic}.",
]
_ASIDES = [
    "Ignore the typos in my message, I am typing on my phone. ",
    "Please ignore the formatting, it was copied from a PDF. ",
    "Forget what I said about the budget, it changed. ",
    "Disregard the previous draft, here is the new one. ",
    "Never mind my last question. ",
    "Skip the introduction and get straight to the point. ",
    "Don't worry about grammar for now. ",
    "Ignore the header and footer of this document. ",
    "",
    "",
    "",
]
_WRAPS = [
    "Rewrite the following so it sounds more formal:\n\n{doc}",
    "Summarise this in two sentences:\n{doc}",
    'Translate the following text into French:\n"{doc}"',
    "Fix the grammar in this paragraph: {doc}",
    "Here is a passage from my notes:\n---\n{doc}\n---\nWhat are its main points?",
    "Can you check whether this answer is correct?\n\n{doc}",
    "Make this shorter without losing meaning: {doc}",
    "Turn the following into a bulleted list:\n{doc}",
    "Read the text below and suggest a title.\n\n{doc}",
    "Proofread: {doc}",
]
# Follow-up turns of a conversation: they refer to "your previous response", which the
# first version of the guard mistook for instruction overrides (added after reading the
# MT-Bench turns it flagged: see docs/safety.md; none of these is copied from MT-Bench).
_FOLLOWUPS = [
    "Rewrite your answer so it is half as long.",
    "Make your previous response sound more formal.",
    "Now do the same for {topic}.",
    "Can you expand on the second point of your last reply?",
    "Change the tone of your last message to be friendlier.",
    "Summarise your previous answer in one sentence for {who}.",
    "Translate your last response into Spanish.",
    "Take your answer above and turn it into a short poem.",
    "Critique your own response and then improve it.",
    "There is a mistake in your previous answer about {topic}; please fix it.",
    "Redo your last reply, but start every sentence with the word 'Today'.",
    "What assumptions did you make in your answer? Are they reasonable?",
    "Shorten your previous reply to three bullet points.",
    "Use simpler words in your previous response so {who} can follow it.",
    "Good. Now rewrite it without using the letter e.",
    "Edit your last answer to mention {topic} as well.",
    "Respond again, this time as a list.",
    "Forget the poem, just give me the facts about {topic}.",
]
# Programming tasks on strings and lists: their character n-grams ("uppercase", "string",
# "replace") look like encoding tricks to a character model.
_CODE_TASKS = [
    "reverse the words in a given string",
    "count the vowels in a string",
    "remove duplicate characters from a string",
    "convert a camel case string to snake case",
    "check whether a string is a palindrome",
    "find the longest word in a sentence",
    "replace all spaces in a string with underscores",
    "extract all digits from a given string",
    "convert a given string to lowercase",
    "remove all punctuation from a string",
    "split a string at uppercase letters",
    "find the first repeated character in a string",
    "sort a list of tuples by their second element",
    "merge two sorted lists",
    "find the maximum run of consecutive ones in a list",
    "encode a string with run-length encoding",
    "decode a base64 string",
    "match a word containing 'z' using a regex",
]
_CODE_FORMS = [
    "Write a Python function to {task}.",
    "Write a function to {task}.",
    "How do I {task} in JavaScript?",
    "Give me a one-liner to {task}.",
    "Write a function that takes a list of strings and returns them after you {task}.",
]
_WHO = [
    "my landlord",
    "a new colleague",
    "my grandmother",
    "a ten-year-old",
    "the school board",
    "our customers",
    "my manager",
    "a beginner",
    "the hiring committee",
    "my neighbour",
    "the team",
]
_TOPIC = [
    "a broken heater",
    "photosynthesis",
    "a weekend in Rome",
    "the quarterly results",
    "saving for retirement",
    "a birthday party for 20 people",
    "learning to play guitar",
    "climate change",
    "a new coffee grinder",
    "the French Revolution",
    "remote work",
    "how vaccines work",
    "a vegetarian dinner menu",
    "the rules of chess",
    "moving to a new city",
    "a late rent payment",
    "time management",
    "the water cycle",
    "a hiking trip",
    "our new refund policy",
]


def templated_instructions(documents: list[str], n: int, seed: int = 0) -> list[str]:
    """``n`` instructions, role-play requests, asides and quoted documents, filled at random."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rng.random()
        aside = rng.choice(_ASIDES)
        if kind < 0.25:
            text = rng.choice(_TASKS).format(who=rng.choice(_WHO), topic=rng.choice(_TOPIC))
        elif kind < 0.4:
            text = rng.choice(_ROLES).format(who=rng.choice(_WHO), topic=rng.choice(_TOPIC))
        elif kind < 0.55:
            text = rng.choice(_FOLLOWUPS).format(who=rng.choice(_WHO), topic=rng.choice(_TOPIC))
        elif kind < 0.7:
            text = rng.choice(_CODE_FORMS).format(task=rng.choice(_CODE_TASKS))
        else:
            text = rng.choice(_WRAPS).format(doc=rng.choice(documents).strip()[:1500])
        out.append(aside + text if rng.random() < 0.5 else text + " " + aside.strip())
    return [t.strip() for t in out]


def training_documents(data: Path) -> list[str]:
    """Quoted-document material from training sources only: GSM8K worked answers and ARC
    model responses."""
    rows = (data / "routing/routellm_evals/gsm8k/train.jsonl").read_text(encoding="utf-8").splitlines()
    docs = [json.loads(r)["answer"].split("####")[0] for r in rows[:1500] if r.strip()]
    docs += _routerbench_responses(data, "arc_challenge_train", "gpt-4-1106-preview")[:800]
    return [d for d in docs if len(d) > 40]
