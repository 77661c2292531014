"""The admin UI over plain HTTP: who gets in, CSRF, cookie flags, the secret shown once."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import openai
import orjson

from .conftest import MASTER, Served


def _login(client: httpx.Client) -> str:
    answer = client.post("/ui/login", data={"master_key": MASTER})
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/requests"
    page = client.get("/ui/keys")
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def test_anonymous_visitors_only_reach_the_login_page(served_ui: Served) -> None:
    with httpx.Client(base_url=served_ui.url) as client:
        for path in ("/ui", "/ui/keys", "/ui/spend", "/ui/requests", "/ui/health"):
            answer = client.get(path)
            assert answer.status_code == 303 and answer.headers["location"] == "/ui/login", path
        assert client.get("/ui/requests/rows").headers["location"] == "/ui/login"
        login = client.get("/ui/login")
        assert login.status_code == 200 and 'type="password"' in login.text
        assert "default-src 'self'" in login.headers["content-security-policy"]
        assert client.post("/ui/keys", data={"name": "x"}).headers["location"] == "/ui/login"
        forged = client.get("/ui/keys", cookies={"portico_ui": "e30.0000"})
        assert forged.status_code == 303


def test_wrong_master_key_is_refused(served_ui: Served) -> None:
    with httpx.Client(base_url=served_ui.url) as client:
        answer = client.post("/ui/login", data={"master_key": "sk-wrong"})
        assert answer.status_code == 400 and "not the master key" in answer.text
        assert "portico_ui" not in answer.cookies


def test_session_cookie_flags_and_csrf(served_ui: Served) -> None:
    with httpx.Client(base_url=served_ui.url) as client:
        answer = client.post("/ui/login", data={"master_key": MASTER})
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ui" in cookie
        csrf = _login(client)
        # no CSRF token (or a wrong one): nothing is created and the session is not trusted
        assert client.post("/ui/keys", data={"name": "no-csrf"}).status_code == 303
        assert client.post("/ui/keys", data={"name": "bad-csrf", "csrf": "x" * 32}).status_code == 303
        admin = {"authorization": f"Bearer {MASTER}"}
        names = [k["name"] for k in client.get("/admin/keys", headers=admin).json()["data"]]
        assert "no-csrf" not in names and "bad-csrf" not in names
        created = client.post("/ui/keys", data={"name": "ok", "csrf": csrf, "budget_usd": "5", "rpm": ""})
        assert created.status_code == 200
        secret = re.search(r'id="new-secret">([^<]+)<', created.text)
        assert secret is not None and secret.group(1).startswith("sk-")
        assert "no-store" in created.headers["cache-control"]
        again = client.get("/ui/keys")
        assert secret.group(1) not in again.text  # shown once, never rendered back
        key = next(k for k in client.get("/admin/keys", headers=admin).json()["data"] if k["name"] == "ok")
        assert key["budget_usd"] == 5 and key["rpm"] is None


def test_bad_form_values_get_a_message_not_a_traceback(served_ui: Served) -> None:
    with httpx.Client(base_url=served_ui.url) as client:
        csrf = _login(client)
        answer = client.post("/ui/keys", data={"name": "k", "csrf": csrf, "rpm": "-3"})
        assert answer.status_code == 400 and 'class="error"' in answer.text and "rpm" in answer.text
        answer = client.post("/ui/keys/key_missing/revoke", data={"csrf": csrf})
        assert answer.status_code == 404
        answer = client.post("/ui/keys", data={"name": "k", "csrf": csrf, "team_id": "team_missing"})
        assert answer.status_code == 400 and "team_missing" in answer.text


def test_edit_limits_and_logout(served_ui: Served) -> None:
    with httpx.Client(base_url=served_ui.url) as client:
        csrf = _login(client)
        client.post("/ui/teams", data={"name": "research", "csrf": csrf})
        admin = {"authorization": f"Bearer {MASTER}"}
        team = client.get("/admin/teams", headers=admin).json()["data"][0]
        answer = client.post(
            f"/ui/teams/{team['id']}/edit",
            data={"csrf": csrf, "allowed_models": "gpt, echo", "budget_usd": "12.5", "budget_period": "day"},
        )
        assert answer.status_code == 303
        team = client.get(f"/admin/teams/{team['id']}", headers=admin).json()
        assert team["allowed_models"] == ["gpt", "echo"] and team["budget_usd"] == 12.5
        assert team["budget_period"] == "day"
        assert client.post("/ui/logout", data={"csrf": csrf}).headers["location"] == "/ui/login"
        assert client.get("/ui/keys").status_code == 303


def test_health_summarises_batches(served_ui: Served, tmp_path: Path) -> None:
    lines = tmp_path / "in.jsonl"
    body = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}
    lines.write_text(
        "\n".join(
            orjson.dumps({"custom_id": f"l{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}).decode()
            for i in range(3)
        )
    )
    client = openai.OpenAI(base_url=f"{served_ui.url}/v1", api_key=MASTER, max_retries=0)
    file = client.files.create(file=lines.open("rb"), purpose="batch")
    client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    with httpx.Client(base_url=served_ui.url) as ui:
        _login(ui)
        page = ui.get("/ui/health").text
    # the table is in the page body once (a bad merge had also put it inside <title>)
    assert "<title>Health · Portico admin</title>" in page and page.count('id="batches"') == 1
    table = page[page.index('id="batches"') :]
    assert re.search(r'<td class="num">1</td>', table), table[:800]


def test_health_summarises_vector_stores(served_ui: Served) -> None:
    client = openai.OpenAI(base_url=f"{served_ui.url}/v1", api_key=MASTER, max_retries=0)
    client.vector_stores.create(name="handbook")
    with httpx.Client(base_url=served_ui.url) as ui:
        _login(ui)
        page = ui.get("/ui/health").text
    assert re.search(r"Vector stores <small>1 store</small>", page)
    assert page.count('id="vector-stores"') == 1
