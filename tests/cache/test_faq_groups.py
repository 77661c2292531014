"""Operator-named answer groups (``x-portico-cache-group``) and ``portico cache warm``: FAQ mode
with an upstream whose answers differ per question (the echo model here, an LLM in production)."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from typer.testing import CliRunner

from portico.cache import CacheSettings, CacheStage
from portico.cache.factory import build_semantic
from portico.cache.keys import semantic_scope
from portico.cache.policy import GROUP_HEADER, Directives
from portico.cli import app as portico_cli
from portico.errors import InvalidRequest
from portico.pipeline import Pipeline
from portico.server import create_app
from portico.testing import make_settings, post_json, serve_in_thread
from portico.types import ChatResponse

from .conftest import Backends, BagOfWordsEmbedder, CountingUpstream, chat, context
from .test_answer_groups import GROUPS, TOPICS, questions

MASTER = "sk-faq-master-0123456789"
PASSWORD = [
    "I forgot my password, how do I reset it?",
    "How can I change my password?",
    "My password does not work any more",
    "Where do I reset my login password?",
    "I can't log in because I lost my password",
    "Password reset link please",
    "How do I recover a forgotten password?",
    "The site says my password is wrong, what now?",
]
CLOSING = [
    "How do I close my account?",
    "I want to delete my account",
    "Please cancel my membership and remove my account",
    "How can I terminate my account for good?",
    "Delete all my data and close the account",
    "Where is the button to deactivate my account?",
    "I would like to shut down my account",
    "Can you remove my profile permanently?",
]
ASK_PASSWORD = "I have forgotten my password and cannot sign in, what should I do?"


def test_group_header_is_validated() -> None:
    assert Directives.of({GROUP_HEADER: "  refunds "}).group == "refunds"
    assert Directives.of({"x-portico-cache": "no-cache", GROUP_HEADER: "Billing / VAT"}).group == "Billing / VAT"
    assert Directives.of({}).group is None
    for bad in ("", "   ", "x" * 65, "tab\there", "caf\u00e9", "new\nline"):
        with pytest.raises(InvalidRequest) as info:
            Directives.of({GROUP_HEADER: bad})
        assert info.value.param == GROUP_HEADER and info.value.status == 400


def faq_stage(backends: Backends) -> CacheStage:
    semantic = {"verifier": False, "threshold": 0.99, "min_similarity": 0.5, "mode": "answer_groups"}
    settings = CacheSettings.model_validate(
        {"enabled": True, "single_flight": False, "semantic": {**semantic, "answer_groups": GROUPS.model_dump()}}
    )
    return CacheStage(settings, backends.exact, build_semantic(settings, backends.vectors, BagOfWordsEmbedder()))


@pytest.mark.parametrize("named", [False, True])
async def test_named_groups_form_where_every_answer_differs(backends: Backends, named: bool) -> None:
    """An upstream that words every answer differently: no groups by answer text, groups by name."""
    stage, upstream, rng = faq_stage(backends), CountingUpstream(), random.Random(7)
    for topic in TOPICS:
        for text in questions(topic, 40, rng):
            headers = {"x-portico-cache": "no-cache"} | ({GROUP_HEADER: topic} if named else {})
            await Pipeline([stage], upstream)(context(chat(text), headers=headers))
    assert stage.semantic is not None and stage.semantic.groups is not None
    await stage.semantic.groups.refit_all()
    ctx = context(chat("please help i forgot my password and i am locked"))
    reply = await Pipeline([stage], upstream)(ctx)
    assert isinstance(reply, ChatResponse)
    if not named:
        assert stage.semantic.groups.models() == [] and ctx.cache_status == "miss"
        return
    (model,) = stage.semantic.groups.models()
    assert model.servable == {"name:password", "name:closing"}
    assert ctx.cache_status.startswith("semantic")
    stored = reply.text.split(" to ", 1)[1]  # "answer N to <the stored question>"
    assert any(w in stored.split() for w in TOPICS["password"])


def _admin(base: str, path: str, body: dict[str, object], key: str = MASTER) -> dict[str, object]:
    return post_json(base, path, body, key=key)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Echo model (every answer differs), FAQ mode fitted from 10 stored questions, real MiniLM."""
    tmp = tmp_path_factory.mktemp("faq")
    groups = {"min_entries": 10, "min_group_entries": 3, "max_wrong_rate": 0.2}
    settings = make_settings(
        auth={"master_key": MASTER},
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp}/faq.db", "wal_dir": str(tmp / "wal")},
        embeddings={"enabled": True},
        cache={
            "enabled": True,
            "semantic": {"mode": "answer_groups", "verifier": False, "threshold": 0.99, "answer_groups": groups},
        },
    )
    with serve_in_thread(create_app(settings), timeout=120) as url:
        yield url


def _client(url: str) -> tuple[openai.OpenAI, str]:
    created = _admin(url, "/admin/keys", {"allowed_models": ["echo"]})
    return openai.OpenAI(base_url=url + "/v1", api_key=str(created["secret"]), max_retries=0), str(created["id"])


def _ask(client: openai.OpenAI, text: str, headers: dict[str, str] | None = None) -> tuple[str, str]:
    raw = client.chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": text}], temperature=0, extra_headers=headers or {}
    )
    return raw.parse().choices[0].message.content or "", raw.headers["x-portico-cache"]


def test_a_bad_group_header_is_an_openai_400(gateway: str) -> None:
    client, _ = _client(gateway)
    with pytest.raises(openai.BadRequestError) as info:
        _ask(client, "hello", {GROUP_HEADER: "x" * 100})
    body = info.value.body
    assert isinstance(body, dict)
    error = body.get("error", body)  # the SDK keeps the whole body or its "error" member, by version
    assert error["param"] == GROUP_HEADER and error["type"] == "invalid_request_error"


def test_named_groups_stay_inside_their_tenant(gateway: str) -> None:
    """Tenant B files A's group names over the opposite questions: A's groups do not move."""
    alice, _ = _client(gateway)
    bob, _ = _client(gateway)
    for group, texts in (("password", PASSWORD), ("closing", CLOSING)):
        for text in texts:
            _ask(alice, text, {GROUP_HEADER: group, "x-portico-cache": "no-cache"})
    for group, texts in (("closing", PASSWORD), ("password", CLOSING)):  # the poisoning attempt
        for text in texts:
            _ask(bob, "Hi! " + text, {GROUP_HEADER: group, "x-portico-cache": "no-cache"})
    fitted = _admin(gateway, "/admin/cache/refit", {})["models"]
    answer, status = _ask(alice, ASK_PASSWORD)
    assert status.startswith("semantic") and answer in PASSWORD  # the echo of one of Alice's questions
    assert isinstance(fitted, list) and len(fitted) >= 2  # one model per tenant's scope
    answer, status = _ask(bob, ASK_PASSWORD)
    assert answer not in PASSWORD  # Bob never gets Alice's stored answers


def test_warm_loads_an_faq_for_one_key(gateway: str, tmp_path: Path) -> None:
    """``portico cache warm``: the FAQ's own answers, served to the warmed key only."""
    client, key_id = _client(gateway)
    other, _ = _client(gateway)
    answers = {"password": "Use the reset link on the login page.", "closing": "Write to support to close it."}
    faq = tmp_path / "faq.csv"
    lines = ["question,answer,group"]
    lines += [f'"{q}",{answers["password"]},password' for q in PASSWORD]
    lines += [f'"{q}",{answers["closing"]},' for q in CLOSING]  # no name: grouped by the equal answers
    faq.write_text("\n".join(lines) + "\n")
    args = ["cache", "warm", str(faq), "--model", "echo", "--key-id", key_id, "--url", gateway, "--key", MASTER]
    result = CliRunner().invoke(portico_cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["stored"] == summary["semantic"] == 16 and summary["models"]
    answer, status = _ask(client, ASK_PASSWORD)
    assert status.startswith("semantic") and answer == answers["password"]
    answer, status = _ask(client, "How do I get rid of my account completely?")
    assert status.startswith("semantic") and answer == answers["closing"]
    answer, status = _ask(other, ASK_PASSWORD)
    assert status == "miss" and answer == ASK_PASSWORD


def test_warm_needs_the_master_key_and_a_cacheable_request(gateway: str, tmp_path: Path) -> None:
    _, key_id = _client(gateway)
    secret = str(_admin(gateway, "/admin/keys", {"allowed_models": ["echo"]})["secret"])
    entry = {"request": {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}, "answer": "hello"}
    with pytest.raises(urllib.error.HTTPError) as denied:
        _admin(gateway, "/admin/cache/entries", {**entry, "key_id": key_id}, key=secret)
    assert denied.value.code in (401, 403)
    with pytest.raises(urllib.error.HTTPError) as sampled:  # no temperature: sampled, never cached
        _admin(gateway, "/admin/cache/entries", entry)
    assert sampled.value.code == 400 and "temperature 0" in json.loads(sampled.value.read())["error"]["message"]
    faq = tmp_path / "faq.jsonl"
    faq.write_text(json.dumps({"question": "hi", "answer": "hello", "group": "bad\tname"}) + "\n")
    args = ["cache", "warm", str(faq), "-m", "echo", "--url", gateway, "--key", MASTER]
    result = CliRunner().invoke(portico_cli, args)
    assert result.exit_code == 1 and GROUP_HEADER in result.output


async def test_filing_a_stored_question_again_moves_it_to_the_named_group(backends: Backends) -> None:
    stage, upstream = faq_stage(backends), CountingUpstream()
    text = "how do i reset my password"
    await Pipeline([stage], upstream)(context(chat(text)))
    ctx = context(chat(text), headers={GROUP_HEADER: "password"})
    await Pipeline([stage], upstream)(ctx)
    assert ctx.cache_status == "exact"  # served: the name is not recorded without no-cache
    await Pipeline([stage], upstream)(
        context(chat(text), headers={GROUP_HEADER: "password", "x-portico-cache": "no-cache"})
    )
    (entry,) = await backends.vectors.entries(semantic_scope(chat(text), "m1", "key:k1"))
    assert entry.group == "name:password"
