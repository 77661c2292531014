"""Our own Presidio recognizers for what the stock set misses or over-fires on: secrets and
API keys, card numbers by Luhn alone, IBANs by mod-97, international phone formats, street
addresses and titled names. Built on demand (Presidio is imported lazily)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

    from portico.guards.ner import NameTagger

SECRET_PATTERNS: tuple[tuple[str, str, float], ...] = (
    ("openai_key", r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}\b", 0.95),
    ("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0.95),
    ("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b", 0.95),
    ("slack_token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}\b", 0.95),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b", 0.95),
    ("stripe_key", r"\b[rs]k_(?:live|test)_[0-9a-zA-Z]{16,}\b", 0.95),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\b", 0.9),
    ("private_key", r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----", 0.99),
    (
        "assigned_secret",
        r"(?i)(?<=\b(?:api[_\- ]?key|secret|token|password|passwd|pwd)[\"']?\s{0,3}[:=]\s{0,3}[\"']?)"
        r"[^\s\"',;]{8,}",
        0.8,
    ),
)

_STREET_WORDS = (
    r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|Dr\.?|Court|Ct\.?|"
    r"Place|Pl\.?|Square|Terrace|Way|Parkway|Highway|Crescent|Close|Grove|Gardens|Squares|Hill|"
    r"Row|Walk|Mews|Park|Circle|Trail|Plaza|Heights|Loop|Alley|Pike|Ridge|View"
)
_STREET_SUFFIXES = (
    r"(?:strasse|straße|str\.|gasse|weg|platz|katu|tie|polku|gatan|vägen|vej|gade|laan|straat|plein|veien|gata|"
    r"utca|ulica)"
)
ADDRESS_PATTERNS: tuple[tuple[str, str, float], ...] = (
    ("us_street", rf"\b\d{{1,6}}(?:\s+\d{{1,5}})?(?:\s+[A-Z][\w'\-]*\.?){{1,4}}\s+(?:{_STREET_WORDS})\b", 0.6),
    ("eu_street", rf"\b[A-ZÄÖÜÅ][\w\-]*{_STREET_SUFFIXES}\s+\d{{1,5}}[a-zA-Z]?\b", 0.6),
    (
        "romance_street",
        r"\b(?:Rue|Via|Viale|Rua|Calle|Avenida|Av\.|Piazza|Praça|Plaza|Carrer|Chemin|Boulevard|Place)"
        r"(?:\s+(?:de|du|da|do|des|la|le|del|della|di|dos|das)?\s*[A-Z][\w'\-]*){1,4}\s*,?\s*\d{1,5}\b",
        0.6,
    ),
    (
        "numbered_street",
        r"\b\d{1,6}(?:\s+\d{1,5})?\s+(?:(?:ul\.|u\.)\s+)?[A-ZÀ-ÞĀ-Ž][\w'\-]*(?:\s+[A-Za-zÀ-ÿ][\w'\-]*\.?){0,5}?"
        r"\s+\d{1,5}[a-zA-Z]?\b(?!\s*(?:%|percent|years|times|people))",
        0.55,
    ),
    ("eu_street_ci", rf"(?i)\b\d{{1,6}}\s+[a-zà-ÿ][\w\-]*{_STREET_SUFFIXES}\s+\d{{1,5}}\b", 0.6),
    ("state_zip", r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b", 0.5),
    ("labelled_zip", r"(?i)(?<=\b(?:zip|zip code|postal code|postcode)\s{0,2}:?\s{0,3})\d{4,5}(?:-\d{3,4})?\b", 0.8),
    ("line_end_zip", r"(?<=[A-Za-z)]\s{1,3})\d{5}(?:-\d{3,4})?(?=[ \t]*(?:\n|$|\.\s|\.$|,))", 0.5),
    ("unit", r"\b(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat)\s+#?\d{1,5}[A-Z]?\b", 0.5),
    ("military", r"\b(?:PSC|Unit|USNS|USS|USCGC)\s+\d{3,5}(?:,\s*Box\s+\d{3,5})?\b", 0.6),
    ("po_box", r"\b(?:P\.?\s?O\.?\s+)?Box\s+\d{2,6}\b", 0.5),
)
ADDRESS_CONTEXT = ("address", "live", "lives", "living", "street", "located", "ship", "deliver", "zip", "postal")

# Cue patterns (``regex`` syntax, \p{Lu} for any upper-case letter): the capture group is
# the entity. They score 0.9, above spaCy-small's flat 0.85, because a cue like "Dr." or
# "originally from" is better evidence than the small model's label for a rare name.
_NAME = r"(\p{Lu}[\p{Ll}'\-]+(?:\s+\p{Lu}\.?)?(?:\s+\p{Lu}[\p{Ll}'\-]+){0,2})"
_TITLE_NAME = r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam|Mme|Herr|Frau)\.?\s+" + _NAME
_INTRO_NAME = (
    r"(?:\b(?:[Mm]y name is|I am|I'm|[Nn]ame:|[Tt]his is|[Cc]all me|[Dd]ear|[Hh]i|[Hh]ello|[Ss]incerely,?|"
    r"[Rr]egards,?|[Cc]ontact|assistant to|directed by|starring|written by|married to|son of|daughter of|"
    r"wife of|husband of|[Ss]igned,?|maiden name is|follow up with|speak to|spoke to|talk to|meet with)\s+)" + _NAME
)
_VERB_NAME = (
    _NAME + r"(?=(?:'s)?\s+(?:lives|lived|is from|was born|spent|had given|has given|works|worked|said|says|wrote|"
    r"told|studied|is a very|is an? (?:very )?(?:kind|nice|sympathetic|good|great)))"
)
_VOCATIVE_NAME = r"(?m)^" + _NAME + r"(?=,\s+(?:can|could|would|will|please|thanks|thank you|I)\b)"
_LOCATION_CUE = (
    r"\b(?:originally from|based in|I am in|I'm in|arrived at|arrived in|moved to|moved here from|lives in|"
    r"living in|located in|born in|returned to|trip to|headquartered in|grew up in)\s+"
    r"(\p{Lu}[\p{L}'\-]+(?:[ \-](?:\p{Lu}[\p{L}'\-]+|de|del|di|la|le|u|am|an|der)){0,3})"
)

LABELLED_PHONE = (
    r"(?i)(?<=\b(?:phone|tel|telephone|mobile|cell|fax|desk|registered|call me at|text me at)"
    r"(?: number)?(?: is)?\s{0,2}[:.#]?\s{0,3})\+?\d[\d \t().\-]{5,18}\d"
)
# The number is group 1; the label is matched, not looked behind for (a variable-length
# look-behind is tried at every position of the text: 2 ms per 2,000 tokens).
DRIVER_LICENSE = (
    r"(?i)\bdriver'?s?\s+licen[cs]e(?:\s+(?:number|no\.?|#))?(?:\s+is)?\s{0,2}:?\s{0,3}"
    r"([A-Z]{0,2}\d[\d\-]{4,16})\b"
)
PHONE_PATTERN = (
    # Separators are spaces, dots or dashes, never a line break: a phone number is on one line.
    r"(?<![\w+\-.])(?:\+\d{1,3}[ \t.\-]?)?(?:\(0?\d{1,4}\)[ \t.\-]?)?\d{2,5}(?:[ \t.\-]\d{2,5}){1,4}"
    r"(?:[ \t]?(?:x|ext\.?)[ \t]?\d{1,5})?(?![\w\-.]\d)|(?<![\w+])\+\d{9,14}\b"
)
PHONE_CONTEXT = (
    "phone",
    "call",
    "tel",
    "telephone",
    "mobile",
    "cell",
    "reach",
    "contact",
    "number",
    "fax",
    "text",
    "dial",
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    s = re.sub(r"[\s\-]", "", text).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def build_recognizers(*, names: bool = True) -> list[EntityRecognizer]:
    """Portico's extra recognizers; ``names=False`` leaves out the pattern rules for names,
    places and street addresses (used beside spaCy's NER, not beside the name tagger)."""
    from presidio_analyzer import Pattern, PatternRecognizer

    class LuhnCardRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            digits = re.sub(r"\D", "", pattern_text)
            return 13 <= len(digits) <= 19 and luhn_valid(digits)

    class IbanChecksumRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return iban_valid(pattern_text)

    class PhoneShapeRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool | None:
            digits = re.sub(r"\D", "", pattern_text.split("x")[0].split("ext")[0])
            if not 7 <= len(digits) <= 15:
                return False
            # Dates, decimals and plain long numbers look like phones; demand phone-like grouping.
            if re.fullmatch(r"\d{4}[\-./]\d{1,2}[\-./]\d{1,2}|\d{1,2}[\-./]\d{1,2}[\-./]\d{2,4}", pattern_text):
                return False
            if re.fullmatch(r"\d{3}-\d{2}-\d{4}", pattern_text):  # SSN shape
                return False
            if re.search(r"\d{4}-\d{2}-\d{2}", pattern_text):  # ISO timestamps
                return False
            return None

    secrets = PatternRecognizer(
        supported_entity="API_KEY",
        name="SecretRecognizer",
        patterns=[Pattern(n, p, s) for n, p, s in SECRET_PATTERNS],
    )
    cards = LuhnCardRecognizer(
        supported_entity="CREDIT_CARD",
        name="LuhnCardRecognizer",
        patterns=[
            Pattern("card", r"(?<![\w\-])\d(?:[ \-]?\d){12,18}(?![\w\-])", 0.6),
            # 12-digit Maestro numbers only count next to a card word (context adds the rest).
            Pattern("card12", r"(?<![\w\-])\d{12}(?![\w\-])", 0.3),
        ],
        context=["card", "credit", "visa", "mastercard", "amex", "payment", "pay", "cc"],
    )
    ibans = IbanChecksumRecognizer(
        supported_entity="IBAN_CODE",
        name="IbanChecksumRecognizer",
        patterns=[Pattern("iban", r"\b[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]{2,4}){3,8}\b", 0.9)],
    )
    phones = PhoneShapeRecognizer(
        supported_entity="PHONE_NUMBER",
        name="PhoneShapeRecognizer",
        patterns=[Pattern("phone", PHONE_PATTERN, 0.45), Pattern("labelled_phone", LABELLED_PHONE, 0.8)],
        context=list(PHONE_CONTEXT),
    )
    licenses = _GroupPatternRecognizer(
        entity="US_DRIVER_LICENSE", name="LabelledLicenseRecognizer", patterns=[(DRIVER_LICENSE, 0.9)]
    ).build()
    addresses = PatternRecognizer(
        supported_entity="STREET_ADDRESS",
        name="StreetAddressRecognizer",
        patterns=[Pattern(n, p, s) for n, p, s in ADDRESS_PATTERNS],
        context=list(ADDRESS_CONTEXT),
    )
    name_cues = _GroupPatternRecognizer(
        entity="PERSON",
        name="NameCueRecognizer",
        patterns=[(_TITLE_NAME, 0.9), (_INTRO_NAME, 0.9), (_VERB_NAME, 0.9), (_VOCATIVE_NAME, 0.9)],
    )
    places = _GroupPatternRecognizer(entity="LOCATION", name="LocationCueRecognizer", patterns=[(_LOCATION_CUE, 0.9)])
    if not names:
        return [secrets, cards, ibans, phones, licenses]
    return [secrets, cards, ibans, phones, licenses, addresses, name_cues.build(), places.build()]


def name_tagger_recognizer(tagger: NameTagger | None = None) -> EntityRecognizer:
    """Presidio recognizer around :class:`~portico.guards.ner.NameTagger` (PERSON, LOCATION,
    STREET_ADDRESS), scored by the tagger's mean label probability over the span."""
    from presidio_analyzer import LocalRecognizer, RecognizerResult

    from portico.guards.ner import ENTITY_OF, NameTagger

    model = tagger or NameTagger()

    class NameTaggerRecognizer(LocalRecognizer):
        reads_nlp_artifacts = False  # FastAnalyzer may skip the spaCy pass for it

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            return [RecognizerResult(s.type, s.start, s.end, s.score) for s in model.tag(text) if s.type in entities]

    return NameTaggerRecognizer(supported_entities=sorted(set(ENTITY_OF.values())), name="NameTaggerRecognizer")


class _GroupPatternRecognizer:
    """A recognizer whose patterns mark only their first capture group (a name after a title)."""

    def __init__(self, *, entity: str, name: str, patterns: list[tuple[str, float]]) -> None:
        self.entity = entity
        self.name = name
        import regex

        self.patterns = [(regex.compile(p), s) for p, s in patterns]

    def build(self) -> EntityRecognizer:
        from presidio_analyzer import LocalRecognizer, RecognizerResult

        outer = self

        class GroupRecognizer(LocalRecognizer):
            reads_nlp_artifacts = False  # FastAnalyzer may skip the spaCy pass for it

            def load(self) -> None:
                pass

            def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
                if outer.entity not in entities:
                    return []
                found = []
                for regex, score in outer.patterns:
                    for m in regex.finditer(text):
                        found.append(RecognizerResult(outer.entity, m.start(1), m.end(1), score))
                return found

        return GroupRecognizer(supported_entities=[self.entity], name=self.name)
