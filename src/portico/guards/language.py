"""Which language a text is in, as far as the guards need to know: the injection and
content classifiers were trained on English only (MiniLM-L6 is an English model), so on
other languages their scores carry little meaning. Script by Unicode name, then, for Latin
text, the language whose common function words it uses most. Cheap (one pass over the
characters, one over the words) and deliberately coarse."""

from __future__ import annotations

import re
import unicodedata

COVERED = "en"

_SCRIPTS = ("CYRILLIC", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "ARABIC", "HEBREW", "DEVANAGARI", "GREEK", "THAI")
_WORD = re.compile(r"[^\W\d_]+")
_FUNCTION_WORD_LISTS = {
    "en": "the and of to is in that it you for with this are be on not what how can",
    "de": "der die das und ist nicht ich sie mit den ein eine zu auf für von du wie",
    "fr": "le la les et est une des pas je vous que qui pour dans avec ce sur du",
    "es": "el los las y es una que del por para con como pero su se lo más",
    "it": "il gli che è una per non sono con come della del anche questo",
    "pt": "o os que é uma não para com do da dos como em mais você",
    "nl": "de het een en is niet ik je van op dat voor met zijn wat",
}
_FUNCTION_WORDS = {lang: frozenset(words.split(" ")) for lang, words in _FUNCTION_WORD_LISTS.items()}


def script(text: str, sample: int = 2000) -> str:
    """``latin`` or the name of the first non-Latin script that holds over 30% of the letters."""
    counts: dict[str, int] = {}
    letters = 0
    for ch in text[:sample]:
        if not ch.isalpha():
            continue
        letters += 1
        if ch.isascii():
            continue
        name = unicodedata.name(ch, "")
        for s in _SCRIPTS:
            if name.startswith(s):
                counts[s] = counts.get(s, 0) + 1
                break
    if letters:
        for s, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            if n / letters > 0.3:
                return "cjk" if s in ("CJK", "HIRAGANA", "KATAKANA") else s.lower()
    return "latin"


def language(text: str) -> str:
    """An ISO 639-1 code for Latin-script text with enough function words to tell (en,
    de, fr, es, it, pt, nl), ``und`` when it cannot tell, else the script's name."""
    found = script(text)
    if found != "latin":
        return found
    words = [w.lower() for w in _WORD.findall(text[:2000])]
    hits = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    best = max(hits, key=lambda lang: hits[lang])
    if hits[best] < 2 or hits[best] == hits[COVERED]:
        return COVERED if hits[COVERED] else "und"
    return best


def uncovered_language(text: str) -> str:
    """The language or script of ``text`` when the guards' classifiers do not cover it, else ''."""
    lang = language(text)
    return "" if lang in (COVERED, "und") else lang
