"""End to end in headless Chromium (Debian's package, driven by Playwright for Python).

Log in, create a key and use it for a chat request, find that request with its explanation,
revoke the key and see the next request fail, view spend and health. Every page is
screenshotted to ``var/screenshots/`` and any browser console error fails the test.
Chromium is installed by ``scripts/browser.sh`` (``make test`` runs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from .conftest import MASTER, Served

CHROMIUM = os.environ.get("PORTICO_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Without the background-networking flags Chromium tries Google's hosts, which this machine refuses.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _chromium_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}: scripts/browser.sh installs Debian's chromium (needs root and apt)"
    return None


pytestmark = pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing()))


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[tuple[Any, list[str]]]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        page.on(
            "console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        )
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on("dialog", lambda dialog: dialog.accept())
        page.set_default_timeout(15_000)
        try:
            yield page, errors
        finally:
            context.close()
            browser.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_admin_ui_in_a_real_browser(served_ui: Served, browser_page: tuple[Any, list[str]]) -> None:
    page, errors = browser_page
    base = served_ui.url

    # anonymous: sent to the login page
    page.goto(f"{base}/ui/keys")
    assert page.url.endswith("/ui/login")
    _shot(page, "01-login")
    page.fill("#master_key", "sk-not-the-master")
    page.click("#login")
    assert page.locator(".error").inner_text() == "That is not the master key."
    errors.clear()  # Chromium logs the 400 answer to a wrong key as a failed resource
    page.fill("#master_key", MASTER)
    page.click("#login")
    page.wait_for_url(f"{base}/ui/requests")

    # create a key: the secret is shown once
    page.goto(f"{base}/ui/keys")
    page.fill("#key-name", "browser-ci")
    page.fill("#create-key input[name=allowed_models]", "gpt")
    page.fill("#create-key input[name=budget_usd]", "5")
    page.click("#create-key-button")
    secret = page.locator("#new-secret").inner_text().strip()
    key_id = page.locator("#new-key-id").inner_text().strip()
    assert secret.startswith("sk-") and key_id.startswith("key_")
    _shot(page, "02-key-created")
    page.goto(f"{base}/ui/keys")
    assert secret not in page.content()

    # use it for a chat request with the official client
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0)
    question = [{"role": "user", "content": "What is the capital of France? Answer to jane.doe@example.com"}]
    raw = client.chat.completions.with_raw_response.create(model="gpt", messages=question, temperature=0)
    request_id = raw.headers["x-request-id"]
    assert "Paris" in (raw.parse().choices[0].message.content or "")

    # the live table picks it up by itself; its row expands into the explanation
    page.goto(f"{base}/ui/requests")
    row = page.locator("tr.request", has_text=request_id)
    row.wait_for()
    row.click()
    detail = page.locator(f"tr.explain[data-for='{row.get_attribute('data-record')}']")
    detail.wait_for(state="visible")
    text = detail.inner_text()
    assert "reason: direct" in text and "upstream" in text and "overhead" in text and "1 upstream call" in text
    assert "pii: redact" in text and "EMAIL_ADDRESS" in text
    _shot(page, "03-requests-explained")
    # the same question again (temperature 0: cacheable): it appears without a reload, served from the cache
    raw2 = client.chat.completions.with_raw_response.create(model="gpt", messages=question, temperature=0)
    assert raw2.headers["x-portico-cache"] == "exact"
    row2 = page.locator("tr.request", has_text=raw2.headers["x-request-id"])
    row2.wait_for()
    row2.click()
    detail2 = page.locator(f"tr.explain[data-for='{row2.get_attribute('data-record')}']")
    detail2.wait_for(state="visible")
    assert "exact" in detail2.inner_text() and "0 upstream calls" in detail2.inner_text()
    _shot(page, "03b-requests-cache-hit")
    # search by request id
    page.fill("#q", request_id)
    page.click("#search button")
    page.wait_for_url(f"**/ui/requests?q={request_id}")
    assert page.locator("tr.request").count() == 1
    _shot(page, "04-request-search")

    # spend: the key's cost shows up, with charts and its budget burn
    page.goto(f"{base}/ui/spend")
    assert key_id in page.locator("#by-key").inner_text()
    assert page.locator("#chart-day rect").count() >= 1
    assert "browser-ci" in page.locator("#burn").inner_text()
    assert page.locator("#spend-total").inner_text() != "$0.0000"
    _shot(page, "05-spend")

    # health: deployments and circuits
    page.goto(f"{base}/ui/health")
    assert "gpt#0" in page.locator("#deployments").inner_text()
    assert page.locator("#cache-rate").inner_text() == "50.0%"
    assert "pii" in page.locator("#verdicts").inner_text()
    assert page.locator("#batches").count() == 1  # the batch API is on with the files API
    assert page.locator("#vector-stores").count() == 1  # and so are vector stores
    _shot(page, "06-health")

    # revoke: the next request with the key fails
    page.goto(f"{base}/ui/keys")
    page.locator(f"#key-{key_id} button.revoke").click()
    page.wait_for_url(f"{base}/ui/keys")
    assert page.locator(f"#key-{key_id}").get_attribute("data-status") == "revoked"
    _shot(page, "07-key-revoked")
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "again"}])

    assert errors == []
