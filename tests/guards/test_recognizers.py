from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from portico.guards import GuardRuntime
from portico.guards.pii import Entity, PiiDetector, resolve_overlaps
from portico.guards.presidio_engine import offline_email_recognizer
from portico.guards.recognizers import iban_valid, luhn_valid


def test_checksums() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def test_email_validation_needs_no_network(no_network: None) -> None:
    recognizer = offline_email_recognizer()
    assert recognizer.validate_result("someone@mail.example.co.uk")
    assert not recognizer.validate_result("someone@localhost")


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("Write to grace.hopper@navy.example.com today", "EMAIL_ADDRESS", "grace.hopper@navy.example.com"),
        ("My card is 4111 1111 1111 1111, thanks", "CREDIT_CARD", "4111 1111 1111 1111"),
        ("Wire it to DE89 3704 0044 0532 0130 00 please", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
        ("Call me on +44 20 7946 0958 after six", "PHONE_NUMBER", "+44 20 7946 0958"),
        ("use key sk-proj-abcdEFGH1234567890abcdXYZ for the test", "API_KEY", "sk-proj-abcdEFGH1234567890abcdXYZ"),
        ("AWS id AKIAIOSFODNN7EXAMPLE leaked", "API_KEY", "AKIAIOSFODNN7EXAMPLE"),
        ("password: hunter2hunter2 is weak", "API_KEY", "hunter2hunter2"),
        ("His SSN is 536-90-4399.", "US_SSN", "536-90-4399"),
        ("My driver's license number is D12-345-678.", "US_DRIVER_LICENSE", "D12-345-678"),
        ("Send it to 221 Baker Street, London", "STREET_ADDRESS", "221 Baker Street, London"),
        ("Dear Mr. Fitzgerald, thanks", "PERSON", "Fitzgerald"),
    ],
)
def test_detects(runtime: GuardRuntime, text: str, entity: str, value: str) -> None:
    found = {(e.type, text[e.start : e.end]) for e in PiiDetector(runtime.analyzer).detect(text)}
    assert (entity, value) in found


def test_invalid_checksums_are_not_pii(runtime: GuardRuntime) -> None:
    text = "Order 4111 1111 1111 1112 and account GB82 WEST 1234 5698 7654 33."
    types = {e.type for e in PiiDetector(runtime.analyzer).detect(text)}
    assert "CREDIT_CARD" not in types and "IBAN_CODE" not in types


def test_overlaps_prefer_structured_types() -> None:
    kept = resolve_overlaps(
        [Entity("PERSON", 0, 10, 0.85), Entity("EMAIL_ADDRESS", 0, 20, 1.0), Entity("URL", 30, 40, 0.5)]
    )
    assert [e.type for e in kept] == ["EMAIL_ADDRESS", "URL"]


def test_analyzer_builds_and_runs_without_network(no_network: None) -> None:
    from portico.guards.presidio_engine import build_analyzer
    from portico.guards.recognizers import build_recognizers

    analyzer = build_analyzer(build_recognizers(), drop=("PhoneRecognizer",))
    found = {r.entity_type for r in analyzer.analyze("Ada Lovelace, ada@example.co.uk", language="en")}
    assert {"PERSON", "EMAIL_ADDRESS"} <= found


def test_a_partly_overlapping_loser_keeps_its_free_part() -> None:
    text = "12 Main St\nSpringfield\n555 123 4567"
    address = Entity("STREET_ADDRESS", 0, len(text), 0.9)
    phone = Entity("PHONE_NUMBER", text.index("555"), len(text), 0.95)
    kept = resolve_overlaps([address, phone, Entity("PERSON", 0, 2, 0.5)], text)
    assert [(e.type, text[e.start : e.end]) for e in kept] == [
        ("STREET_ADDRESS", "12 Main St\nSpringfield"),
        ("PHONE_NUMBER", "555 123 4567"),
    ]


def test_phone_numbers_do_not_run_across_lines(runtime: GuardRuntime) -> None:
    text = "Order 61487\n416 60 039 is my office line"
    phones = [text[e.start : e.end] for e in PiiDetector(runtime.analyzer).detect(text) if e.type == "PHONE_NUMBER"]
    assert phones == ["416 60 039"]
