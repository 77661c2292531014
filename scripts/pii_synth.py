"""Synthetic training sentences for the PII name/place tagger.

The labelled PII data we train on has few sentence patterns, so the tagger would learn
those patterns instead of what a name or an address looks like. This adds sentences from
generic templates written here (chat, e-mail, forms, support requests, lists, dialogue),
filled with names and places drawn from the tagger's own word lists (``read_word_lists()``), in several casings.
Output has the presidio_synth shape: ``{"full_text", "spans": [{entity_type, start_position,
end_position}]}``.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path
from typing import Any

# The tagger's word lists as strings (the package ships only their compiled keys).
WORD_LISTS_PATH = Path(__file__).resolve().parent / "data" / "pii_word_lists_v1.json.gz"


def read_word_lists(path: Path = WORD_LISTS_PATH) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


TEMPLATES = [
    "My name is {PER} and I need help with my account.",
    "Please send the invoice to {PER}.",
    "{PER} will join the call tomorrow.",
    "Can you ask {FIRST} to call me back?",
    "Dear {PER},\nThank you for your order.",
    "Hi {FIRST}, thanks for the update!",
    "Thanks,\n{PER}",
    "Best regards,\n{PER}\n{ORG}",
    "I spoke with {PER} from {ORG} yesterday.",
    "{FIRST}: are you coming tonight?\n{FIRST}: yes, see you at eight.",
    "{PER} lives at {ADDR}.",
    "Ship it to {ADDR}",
    "Our office moved to {ADDR}.",
    "Billing address: {ADDR}",
    "{PER}\n{ADDR}",
    "I was born in {CITY} and moved to {COUNTRY} in 2010.",
    "We are flying from {CITY} to {CITY} next week.",
    "The conference takes place in {CITY}, {COUNTRY}.",
    "{ORG} is hiring engineers in {CITY}.",
    "{ORG} was founded by {LAST} and {LAST}.",
    "Please add {PER} as a secondary card holder.",
    "The account is under the name {PER}.",
    "Is {FIRST} still working at {ORG}?",
    "{FIRST} and {FIRST} went to {CITY} for the weekend.",
    "According to {PER}, the shipment left {CITY} on Monday.",
    "Contact person: {PER}",
    "Name: {PER}\nAddress: {ADDR}",
    "I told {FIRST} that the meeting was moved.",
    "Mr. {LAST} asked about the refund.",
    "Ms. {LAST} will review the contract.",
    "Dr. {PER} is available on Thursday.",
    "Why did {FIRST} leave so early?",
    "{FIRST} said the package arrived damaged.",
    "Send my regards to {FIRST}.",
    "This is {FIRST}, I ordered a blender last week.",
    "Could you update my address to {ADDR}?",
    "{ORG} has its headquarters at {ADDR}.",
    "The hotel is near {ADDR} in {CITY}.",
    "The Project Plan and the Budget were approved by the Board.",
    "Please Review the Attached Document before Friday.",
    "Our Customer Success team will contact you shortly.",
    "The Quarterly Report is due next Monday.",
    "The best Pizza in town is at the corner.",
    "I need to change the Delivery Date of my order.",
    "Summer Sale: everything must go!",
    "Happy Birthday to you!",
    "{FIRST}: Did you see the game last night?\n{FIRST}: No, I was working late.",
    "User: my name is {PER}\nAgent: Thanks {FIRST}, how can I help?",
    "The team is {FIRST}, {FIRST}, {FIRST} and {FIRST}.",
    "Attendees: {PER}, {PER}, {PER}",
    "{PER} ({ORG}) and {PER} ({ORG}) signed the agreement.",
    "Who is {FIRST} talking to?",
    "{FIRST} is the best teacher I ever had.",
    "Yesterday {PER} from {CITY} won the race.",
    "Flight to {CITY} for {PER}, seat 14C.",
    "The new branch of {ORG} in {CITY} opens in May.",
    "Forward this to {PER} at {ORG}, please.",
    "{LAST} told the committee that {LAST} had resigned.",
    "Prof. {LAST} and Dr. {LAST} published the study.",
    "Mrs. {PER} called about her order.",
    "In {COUNTRY}, {FIRST} met {FIRST}.",
    "Remember me, {FIRST}? We met in {CITY}.",
    "Meet me at the corner of {STREET} and {STREET}.",
    "Mail it to P.O. Box {NUM}, {CITY}, {COUNTRY}.",
    "Deliver to {ADDR} before noon, ask for {FIRST}.",
    "{ORG}\n{ADDR}\nTel. 555 0100",
    "Patient: {PER}, age 42, from {CITY}.",
    "Employee {PER} transferred from {CITY} to {CITY}.",
    "I am writing on behalf of {PER}.",
    "{FIRST}'s birthday party is at {ADDR}.",
    "Our Sales Director, {PER}, will present the New Product.",
    "The Annual Meeting will be held in {CITY}.",
    "We'll meet at {ORG} in {CITY} on Friday.",
    "{COUNTRY} is beautiful in the spring.",
    "{CITY} was the best part of our trip.",
    "Have you ever been to {COUNTRY}?",
    "Prices in {CITY} went up again.",
    "{FIRST} is my oldest friend.",
    "We named the dog {FIRST}.",
    "Say hello to {FIRST} for me.",
    "I work for {ORG}.",
    "{FIRST} works at {ORG} now.",
    "{ORG} announced record profits.",
    "My IBAN is on file, and my phone is {PHONE}.",
    "Phone: {PHONE}\nE-mail: {EMAIL}",
    "Bot: How can I help you today?\nUser: I am {PER}, I lost my card.",
    "Agent: Could you confirm your name?\nCustomer: {PER}",
    "ZIP: {ZIP}\nCity: {CITY}",
    "Please call {PHONE} after 5 pm.",
    "The SKU, PIN and CVV fields are required.",
    "Our CEO and CFO met the NGO in the EU office.",
]

STREET_AFTER = ["Street", "St.", "Avenue", "Ave", "Road", "Rd.", "Lane", "Drive", "Boulevard", "Way", "Court", "Place"]
STREET_BEFORE = ["Rue", "Via", "Calle", "Avenida", "ul.", "Rua", "Piazza", "Avenue", "Chemin", "Plac", "Corso"]
STREET_SUFFIX = ["straße", "gasse", "weg", "vej", "gatan", "vägen", "katu", "laan", "straat", "utca", "gade"]
UNITS = ["Apt. {n}", "Suite {n}", "Unit {n}", "Flat {n}", "Floor {n}"]
ORG_SUFFIX = ["Inc", "Inc.", "LLC", "Ltd", "GmbH", "Group", "Corporation", "& Co", "Partners", "Solutions"]


def _latin(word: str) -> bool:
    return word.isalpha() and all(c < "\u0250" for c in word)


class Synth:
    def __init__(self, lists: dict[str, Any], seed: int = 0) -> None:
        self.rng = random.Random(seed)
        english: dict[str, int] = lists["english"]
        self.first = [w for w, b in lists["first"].items() if b <= 2 and _latin(w) and english.get(w, 0) <= 3]
        self.last = [w for w, b in lists["last"].items() if b <= 2 and _latin(w) and english.get(w, 0) <= 3]
        self.cities = [c for c in sorted(set(lists["cities"])) if _latin(c.replace(" ", ""))]
        self.countries = sorted(set(lists["regions"]))
        self.words = sorted(w for w, z in english.items() if z >= 4 and w.isascii() and 3 <= len(w) <= 7)

    def _case(self, text: str) -> str:
        return " ".join(w[:1].upper() + w[1:] for w in text.split())

    def person(self) -> str:
        r = self.rng.random()
        first, last = self._case(self.rng.choice(self.first)), self._case(self.rng.choice(self.last))
        if r < 0.15:
            return f"{first} {self.rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
        if r < 0.25:
            return first
        return f"{first} {last}"

    def address(self) -> str:
        rng = self.rng
        n = rng.randint(1, 9999)
        style = rng.random()
        street = self.street()
        if style < 0.4:
            street = f"{n} {street}"
        elif style < 0.8:
            street = f"{street} {rng.randint(1, 300)}"
        parts = [street]
        if rng.random() < 0.3:
            parts.append(rng.choice(UNITS).format(n=rng.randint(1, 999)))
        city = self._case(rng.choice(self.cities))
        if rng.random() < 0.3:
            city = city.upper()
        zip_code = str(rng.randint(1000, 99999))
        tail = [f"{zip_code} {city}" if rng.random() < 0.5 else f"{city} {zip_code}"]
        if rng.random() < 0.5:
            tail.append(self._case(rng.choice(self.countries)))
        sep = "\n" if rng.random() < 0.3 else ", "
        return sep.join(parts + tail) if rng.random() < 0.85 else street

    def street(self) -> str:
        rng = self.rng
        name = self._case(rng.choice(self.last + self.cities[:5000]))
        style = rng.random()
        if style < 0.45:
            return f"{name} {rng.choice(STREET_AFTER)}"
        if style < 0.75:
            return f"{rng.choice(STREET_BEFORE)} {name}"
        return f"{name}{rng.choice(STREET_SUFFIX)}"

    def phone(self) -> str:
        digits = "".join(str(self.rng.randint(0, 9)) for _ in range(10))
        return self.rng.choice(
            [f"{digits[:4]} {digits[4:6]} {digits[6:8]} {digits[8:]}", f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"]
        )

    def org(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            # Made-up one-word brands: two common words run together ("Flightstats").
            a, b = self.rng.choice(self.words), self.rng.choice(self.words)
            return (a + b).capitalize()
        if r < 0.5:
            last = [self._case(self.rng.choice(self.last)) for _ in range(3)]
            return f"{last[0]}, {last[1]} and {last[2]}"
        return f"{self._case(self.rng.choice(self.last))} {self.rng.choice(ORG_SUFFIX)}"

    def sentence(self) -> dict[str, Any]:
        template = self.rng.choice(TEMPLATES)
        fill = {
            "PER": ("PERSON", self.person),
            "FIRST": ("PERSON", lambda: self._case(self.rng.choice(self.first))),
            "LAST": ("PERSON", lambda: self._case(self.rng.choice(self.last))),
            "CITY": ("GPE", lambda: self._case(self.rng.choice(self.cities))),
            "COUNTRY": ("GPE", lambda: self._case(self.rng.choice(self.countries))),
            "ADDR": ("STREET_ADDRESS", self.address),
            "ORG": ("ORGANIZATION", self.org),
            "STREET": ("STREET_ADDRESS", self.street),
            "NUM": ("", lambda: str(self.rng.randint(1, 99999))),
            "ZIP": ("ZIP_CODE", lambda: str(self.rng.randint(1000, 99999))),
            "PHONE": ("", self.phone),
            "EMAIL": ("", lambda: f"{self.rng.choice(self.first)}.{self.rng.choice(self.last)}@example.com"),
        }
        text, spans, pos = "", [], 0
        for m in re.finditer(r"\{(\w+)\}", template):
            text += template[pos : m.start()]
            kind, make = fill[m.group(1)]
            value = make()
            if kind:
                spans.append({"entity_type": kind, "start_position": len(text), "end_position": len(text) + len(value)})
            text += value
            pos = m.end()
        text += template[pos:]
        r = self.rng.random()
        if r < 0.15:
            text = text.lower()
        elif r < 0.2:
            text = text.upper()
        return {"full_text": text, "spans": spans, "template_id": -1}

    def sentences(self, n: int) -> list[dict[str, Any]]:
        return [self.sentence() for _ in range(n)]
