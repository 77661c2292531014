"""Surface signals of a question that embeddings blur: numbers, negations, opposites, names.

Sentence embeddings score "turn on dark mode" and "turn off dark mode", or "1+1" and
"21+1", as near-identical; these extractors give the vetoes and the verifier what the
vector lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt


def split_words(words: str) -> list[str]:
    return words.split()


# Numbers, words in any script, and runs of symbols ("C++" vs "C#", "=" vs "==") so that no
# difference hides in characters a Latin-only tokenizer would drop.
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)*|[^\w\s.,?!;:'’\"“”()]+")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*")
_MATH_OP = re.compile(r"(?<=\d)\s*([-+*/^×÷%<>=x])\s*(?=[\d(])")
_SENTENCE_END = re.compile(r"[.?!:;]\s*$")

# "one" and "first" are left out: in questions they are mostly a pronoun or a plain
# adjective ("which one", "one day", "what should one do", "my first job"), and counting them
# vetoed 3-4 duplicates for every near-miss on the calibration pairs. "one X" vs "two X" still
# differs by the "two"; "first" vs "last" is an opposite pair; "first" vs "second" by "second".
NUMBER_WORDS = {
    "zero": "0", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
    "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
    "second": "2", "third": "3", "fourth": "4", "fifth": "5", "half": "0.5",
    "twice": "2", "double": "2", "triple": "3", "dozen": "12",
}  # fmt: skip

NEGATIONS = frozenset(
    split_words(
        "not no never without none nobody nothing nowhere neither nor cannot cant dont doesnt didnt "
        "isnt arent wasnt werent wont wouldnt shouldnt couldnt hasnt havent hadnt mustnt neednt "
        "shant aint unable"
    )
)

# Opposite pairs: a hit is vetoed when one side says one and the other the opposite.
OPPOSITES: tuple[tuple[str, str], ...] = tuple(
    (p.split("/")[0], p.split("/")[1])
    for p in split_words(
        "on/off enable/disable enabled/disabled increase/decrease increasing/decreasing "
        "before/after up/down min/max minimum/maximum more/less most/least best/worst "
        "buy/sell buying/selling add/remove open/close start/stop true/false yes/no with/without "
        "above/below import/export upload/download encrypt/decrypt encode/decode in/out "
        "positive/negative pros/cons advantages/disadvantages benefits/drawbacks love/hate "
        "good/bad better/worse high/low higher/lower cheap/expensive cheapest/expensive "
        "fast/slow faster/slower big/small bigger/smaller largest/smallest hot/cold "
        "win/lose gain/lose lock/unlock install/uninstall show/hide allow/block legal/illegal "
        "male/female men/women man/woman boy/girl boys/girls husband/wife before/after "
        "first/last early/late past/future old/new oldest/newest young/old start/end "
        "north/south east/west left/right push/pull send/receive light/dark"
    )
)

STOPWORDS = frozenset(
    split_words(
        "a an the is are was were be been being am do does did doing have has had having i me my "
        "we our you your he him his she her it its they them their what which who whom whose "
        "this that these those to of in on at by for from with about as into through during "
        "and or but if then so than too very can could should would will shall may might must "
        "how why when where there here some any all each every such only own same just also "
        "get got one ones way ways thing things really much many s t quora"
    )
)

# Question words in a fixed order: the verifier reads the first one a question uses as a code.
WH_WORDS: tuple[str, ...] = tuple(split_words("what how why when where who which whom whose"))
_WH_CODE = {w: i + 1 for i, w in enumerate(WH_WORDS)}

# Byte n-grams (3 to 5 bytes of the lower-cased words, UTF-8) hashed into this many buckets.
_BUCKET_BITS = 14
CHAR_BUCKETS = 1 << _BUCKET_BITS
_CHAR_NGRAMS = (3, 4, 5)
_HASH_BASE = np.uint64(257)
_HASH_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of h * MIX
_HASH_SHIFT = np.uint64(64 - _BUCKET_BITS)
_SUFFIXES = (("ies", "y"), ("ing", ""), ("edly", ""), ("ed", ""), ("es", ""), ("ly", ""), ("s", ""))

PRONOUNS = frozenset(split_words("he him his she her hers it its they them their theirs this that these those"))


def word_forms(word: str) -> frozenset[str]:
    """The word with and without a plural ending, so "IIM" / "IIMs" count as one name."""
    forms = {word, word + "s", word + "es"}
    if len(word) > 3 and word.endswith("es"):
        forms.add(word[:-2])
    if len(word) > 2 and word.endswith("s"):
        forms.add(word[:-1])
    return frozenset(forms)


def stem(word: str) -> str:
    """A light suffix strip ("studies"/"study", "learning"/"learn", "gifts"/"gift"); keeps 3+ letters."""
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + replacement
    return word


CharGrams = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def char_buckets(tokens: list[str]) -> CharGrams:
    """(sorted bucket ids, counts) of the hashed byte 3-5-grams of the space-joined words.

    A polynomial hash in wrapping uint64 arithmetic: the same buckets in every process
    (Python's ``hash`` of a str is salted per process), computed with a few vector operations.
    """
    data = np.frombuffer(f" {' '.join(tokens)} ".encode(), dtype=np.uint8).astype(np.uint64)
    parts = []
    h = data  # hashes of the n-grams starting at each byte, grown one byte at a time
    for n in range(1, _CHAR_NGRAMS[-1] + 1):
        if n > 1:
            h = h[:-1] * _HASH_BASE + data[n - 1 :]
        if n in _CHAR_NGRAMS and h.size:
            parts.append(h)
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    ids, counts = np.unique((np.concatenate(parts) * _HASH_MIX) >> _HASH_SHIFT, return_counts=True)
    return ids.astype(np.int64), counts.astype(np.float64)


def words(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophes dropped so "don't" becomes "dont"."""
    return [w.lower().replace("'", "").replace("’", "") for w in _WORD.findall(text)]


@dataclass(frozen=True)
class Signals:
    """Everything the vetoes and the verifier read from one text (computed lazily, once)."""

    text: str

    @cached_property
    def tokens(self) -> list[str]:
        return words(self.text)

    @cached_property
    def token_set(self) -> frozenset[str]:
        return frozenset(self.tokens)

    @cached_property
    def content(self) -> frozenset[str]:
        return frozenset(t for t in self.tokens if t not in STOPWORDS)

    @cached_property
    def stems(self) -> frozenset[str]:
        """Content words, light-stemmed (see ``stem``)."""
        return frozenset(stem(t) for t in self.content)

    @cached_property
    def question_word(self) -> int:
        """Code of the first question word (1 = "what", ... see WH_WORDS), 0 when there is none."""
        return next((_WH_CODE[t] for t in self.tokens if t in _WH_CODE), 0)

    @cached_property
    def char_grams(self) -> CharGrams:
        return char_buckets(self.tokens)

    @cached_property
    def numbers(self) -> tuple[str, ...]:
        found = [_canonical_number(m) for m in _NUMBER.findall(self.text)]
        found += [NUMBER_WORDS[t] for t in self.tokens if t in NUMBER_WORDS]
        return tuple(sorted(found))

    @cached_property
    def operators(self) -> tuple[str, ...]:
        return tuple(sorted(_MATH_OP.findall(self.text)))

    @cached_property
    def negated(self) -> bool:
        return any(_is_neg(t) for t in self.tokens)

    @cached_property
    def entities(self) -> frozenset[str]:
        # Non-Latin words and symbol runs ("心中", "++", "#") are treated as names: the
        # embedding barely sees them, so a swap must not pass as a paraphrase.
        odd = {t for t in self.tokens if not t.isascii() or not t.replace(",", "").replace(".", "").isalnum()}
        return frozenset(_entities(self.text)) | odd

    def mentions(self, word: str) -> bool:
        """Whether this text has ``word`` in any plural form (see ``word_forms``)."""
        return not self.token_set.isdisjoint(word_forms(word))

    @cached_property
    def trigrams(self) -> frozenset[str]:
        s = " ".join(self.tokens)
        return frozenset(s[i : i + 3] for i in range(max(1, len(s) - 2)))


def _is_neg(token: str) -> bool:
    return token in NEGATIONS or (token.endswith("nt") and token[:-2] in _NT_STEMS)


_NT_STEMS = frozenset(split_words("do does did is are was were wo would should could has have had must need ca"))


def _canonical_number(raw: str) -> str:
    s = raw.lstrip("+").replace(",", "")
    try:
        value = float(s)
    except ValueError:
        return s
    return str(int(value)) if value.is_integer() else repr(value)


def _entities(text: str) -> list[str]:
    """Capitalised words not at a sentence start, acronyms and mixed-case names (iPhone)."""
    out: list[str] = []
    prev_end = True
    for match in re.finditer(r"\S+", text):
        raw = match.group()
        word = raw.strip("\"'“”‘’()[]{},.?!:;")
        if word and word != "I" and word.isalpha():
            caps = word[0].isupper() and not prev_end
            acronym = len(word) > 1 and word.isupper()
            mixed = any(c.isupper() for c in word[1:]) and not word.isupper()
            if caps or acronym or mixed:
                out.append(word.lower())
        prev_end = bool(_SENTENCE_END.search(raw))
    return out
