"""Extractive selection: the relevant units survive whole, in order, within the budget."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from portico.compress import Compressor, estimate_tokens, split

FILLER = [
    "The committee met on a rainy afternoon to discuss the annual picnic arrangements.",
    "Several members argued about the colour of the tablecloths for a long while.",
    "Nobody could agree on whether sandwiches or salads were the better choice.",
    "A long digression about parking spaces took most of the second hour.",
    "The minutes of the previous meeting were read aloud and approved without changes.",
    "Someone suggested moving the event indoors if the weather turned bad.",
    "The treasurer reminded everyone that receipts must be submitted by Friday.",
    "There was a short break for coffee and biscuits in the hallway.",
]


def filler(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(FILLER) for _ in range(n)]


def test_relevant_sentence_kept_in_order_within_ratio() -> None:
    parts = filler(30)
    parts.insert(17, "The bridge over the Varna river was completed in 1887 by engineer Tomas Velk.")
    parts.insert(5, "Velk also designed the Varna railway station.")
    text = " ".join(parts)
    out = Compressor().compress(text, "When was the bridge over the Varna river completed?", ratio=0.25)
    assert "The bridge over the Varna river was completed in 1887 by engineer Tomas Velk." in out.text
    assert out.kept_tokens <= 0.25 * out.original_tokens
    assert out.kept_tokens == estimate_tokens(out.text)
    pos = 0
    for unit in split(out.text):  # original order: each kept unit is found after the previous one
        pos = text.index(unit.text, pos) + len(unit.text)
    assert out.ratio < 0.26 and out.saved_tokens > 0


def test_code_block_is_kept_whole_or_dropped_whole() -> None:
    code = "```python\ndef parse_invoice(path):\n    rows = load(path)\n\n    return [r.total for r in rows]\n```"
    text = "\n\n".join(
        [" ".join(filler(6, 1)), "How do we parse an invoice? Use this function.", code, " ".join(filler(20, 2))]
    )
    asked = Compressor().compress(text, "How do I parse an invoice file?", ratio=0.4)
    assert code in asked.text
    other = Compressor().compress(text, "What colour were the tablecloths?", ratio=0.15)
    assert code not in other.text and "def parse_invoice" not in other.text


def test_json_survives_intact_and_parses() -> None:
    doc = {"order_id": "A-1093", "total": 1234.56, "items": [{"sku": "X1", "qty": 3}]}
    blob = json.dumps(doc, indent=2)
    text = "\n\n".join([" ".join(filler(20, 3)), "The order record for A-1093 follows.", blob, " ".join(filler(20, 4))])
    out = Compressor().compress(text, "What is the total of order A-1093?", ratio=0.3)
    start = out.text.index("{")
    assert json.loads(out.text[start : start + len(blob)]) == doc
    dropped = Compressor().compress(text, "Who approved the minutes?", ratio=0.1)
    assert "{" not in dropped.text and "order_id" not in dropped.text  # dropped whole, never cut


def test_numbers_and_names_are_never_cut() -> None:
    fact = "Dr. A. B. Kowalski measured 3.14159 units and paid $1,234.56 to the U.S. Treasury on Jan. 5, 2021."
    text = " ".join([*filler(25, 5), fact, *filler(25, 6)])
    out = Compressor().compress(text, "How much did Kowalski pay the Treasury?", ratio=0.2)
    assert fact in out.text
    for piece in ("3.14159", "$1,234.56", "Jan. 5, 2021", "U.S. Treasury", "Dr. A. B. Kowalski"):
        assert piece in out.text


def test_short_text_and_single_unit_unchanged() -> None:
    c = Compressor()
    assert c.compress("One sentence only, however long it may be.", "what?", ratio=0.1).text.startswith("One")
    text = " ".join(filler(4))
    assert c.compress(text, "picnic?", ratio=1.0).text == text


def test_budget_tokens_caps_the_output() -> None:
    text = " ".join(filler(40, 7))
    out = Compressor().compress(text, "coffee break", budget_tokens=50)
    assert 0 < out.kept_tokens <= 50
    assert "coffee" in out.text


class RecordingEmbed:
    """An embedder seam for the test: the question is most similar to sentences about boats."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(list(texts))
        rows = [[1.0, 0.0] if ("boat" in t or "vessel" in t) else [0.0, 1.0] for t in texts]
        return np.asarray(rows, dtype=np.float32)


def test_embedding_consulted_only_when_the_question_words_are_rare() -> None:
    parts = filler(30, 8)
    parts.insert(12, "The vessel left harbour at dawn with forty crew aboard.")
    text = " ".join(parts)
    embed = RecordingEmbed()
    c = Compressor(embed)
    lexical = c.compress(text, "What did the treasurer remind everyone about receipts?", ratio=0.3)
    assert lexical.embedded == 0 and embed.calls == []
    semantic = c.compress(text, "boat?", ratio=0.3)  # no word of the question is in the text
    assert semantic.embedded > 0 and len(embed.calls) == 1
    assert "The vessel left harbour" in semantic.text
