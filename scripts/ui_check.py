"""``make ui-check``: the Vobiz connection form in a real browser, against a real Airflow API server.

Starts ``airflow api-server`` (temporary home, simple auth manager, connection testing enabled)
and the fake Vobiz server on 127.0.0.1, then drives Debian's Chromium with Playwright: log in,
Admin > Connections > Add, pick "Vobiz", check the relabelled, hidden and extra fields, save,
read the connection back through the REST API, and press "Test" for good and for wrong
credentials. Screenshots go to ``docs/img/``. Exit code 0 only when every check holds.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ui_stack import FAKE_AUTH_ID, FAKE_AUTH_TOKEN, ROOT, USER, Stack, running_stack

CHROMIUM = "/usr/bin/chromium"
# As root, in a sandbox with no route out: no sandboxing, and none of Chromium's own network calls.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IMAGES = ROOT / "docs" / "img"
GOOD, WRONG = "vobiz_ui_check", "vobiz_ui_check_wrong_token"
WRONG_TOKEN = "wrong-token-must-not-show"
EXTRA_FIELDS = {
    "Timeout (seconds)": "Connect and read timeout of each request.",
    "Max retries": "Retries for rate limits, transient 5xx and connection errors.",
    "Credential hosts": "Further hosts (patterns like *.example.com allowed) that may receive the Auth ID and Token",
}


def _field(page: Page, label: str) -> Locator:
    """The form row (label, input and help text) of one field."""
    return page.get_by_role("dialog").get_by_role("group").filter(has=page.get_by_text(label, exact=True))


def _log_in(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.airflow_url}/")
    page.get_by_label("Username").fill(USER)
    page.get_by_label("Password").fill(stack.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{stack.airflow_url}/")


def _open_add_form(page: Page) -> None:
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("menuitem", name="Connections").click()
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Connection ID").fill(GOOD)
    dialog.get_by_role("combobox", name="Connection Type").fill("Vobiz")
    page.get_by_role("option", name="Vobiz", exact=True).click()


def _check_standard_fields(page: Page, stack: Stack) -> None:
    dialog = page.get_by_role("dialog")
    for label in ("API base URL", "Port", "Auth ID", "Auth Token", "Description"):
        expect(_field(page, label)).to_be_visible()
    for hidden in ("Login", "Password", "Host", "Schema"):
        expect(dialog.get_by_text(hidden, exact=True)).to_have_count(0)
    host = dialog.get_by_label("API base URL")
    expect(host).to_have_attribute("placeholder", "https://api.vobiz.ai")
    expect(dialog.get_by_label("Auth ID")).to_have_attribute("placeholder", "MA_XXXXXXXX")
    expect(dialog.get_by_label("Auth Token")).to_have_attribute("type", "password")
    # Host and port apart: Airflow 3.3.2's Test button refuses a connection without a port (apache/airflow#73298).
    host.fill(stack.vobiz_url.rsplit(":", 1)[0])
    dialog.get_by_label("Port").fill(stack.vobiz_url.rsplit(":", 1)[1])
    dialog.get_by_label("Auth ID").fill(FAKE_AUTH_ID)
    dialog.get_by_label("Auth Token").fill(FAKE_AUTH_TOKEN)
    dialog.screenshot(path=str(IMAGES / "connection-form.png"))


def _check_extra_fields(page: Page) -> None:
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    for label, help_text in EXTRA_FIELDS.items():
        expect(_field(page, label)).to_contain_text(help_text)
    timeout, retries = _field(page, "Timeout (seconds)"), _field(page, "Max retries")
    hosts = _field(page, "Credential hosts").get_by_role("textbox")
    expect(timeout.get_by_role("spinbutton")).to_have_value("30")
    expect(retries.get_by_role("spinbutton")).to_have_value("5")
    expect(hosts).to_have_value("*.vobiz.ai")
    timeout.get_by_role("spinbutton").fill("20")
    retries.get_by_role("spinbutton").fill("2")
    hosts.fill("*.vobiz.ai\nmedia.example.com")
    dialog.screenshot(path=str(IMAGES / "connection-extra-fields.png"))
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("row").filter(has_text=GOOD)).to_be_visible()


def _api(stack: Stack, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    token_request = urllib.request.Request(
        f"{stack.airflow_url}/auth/token",
        data=json.dumps({"username": USER, "password": stack.password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(token_request, timeout=30) as response:
        token = json.load(response)["access_token"]
    request = urllib.request.Request(
        f"{stack.airflow_url}/api/v2{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _check_saved_connection(stack: Stack) -> None:
    saved = _api(stack, "GET", f"/connections/{GOOD}")
    extra = json.loads(saved["extra"])
    # The proxy field was left empty: the form saves null, which the hook reads as "the environment's".
    expected = {"timeout": 20, "max_retries": 2, "auth_hosts": ["*.vobiz.ai", "media.example.com"], "proxy": None}
    _require(extra == expected, f"saved extra {extra!r}, expected the plain keys {expected!r}")
    fields = (saved["conn_type"], f"{saved['host']}:{saved['port']}", saved["login"])
    _require(fields == ("vobiz", stack.vobiz_url, FAKE_AUTH_ID), f"saved connection {fields!r}")


def _press_test(page: Page, connection_id: str, screenshot: str) -> str:
    """Press the row's Test button; returns the toast's text once Airflow answered."""
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=connection_id, exact=True))
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as answer:
        row.get_by_role("button", name="Test Connection").click()
    _require(answer.value.ok, f"POST /connections/test answered {answer.value.status}: {answer.value.text()}")
    toast = page.get_by_role("status").filter(has_text=re.compile("Connection|Vobiz")).last
    expect(toast).to_be_visible()
    page.screenshot(path=str(IMAGES / screenshot))
    return toast.inner_text()


def _check_test_button(page: Page, stack: Stack) -> None:
    host, port = stack.vobiz_url.rsplit(":", 1)
    wrong = {"connection_id": WRONG, "conn_type": "vobiz", "host": host, "port": int(port)}
    _api(stack, "POST", "/connections", {**wrong, "login": FAKE_AUTH_ID, "password": WRONG_TOKEN})
    page.reload()
    success = _press_test(page, GOOD, "connection-test-success.png")
    _require(f"Connected to Vobiz at {stack.vobiz_url} as {FAKE_AUTH_ID}" in success, f"success toast: {success!r}")
    page.reload()
    failure = _press_test(page, WRONG, "connection-test-wrong-token.png")
    for words in ("Vobiz answered 401", "Check the Auth ID and Token"):
        _require(words in failure, f"failure toast lacks {words!r}: {failure!r}")
    _require(WRONG_TOKEN not in failure and FAKE_AUTH_TOKEN not in failure, "the failure toast shows a token")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"ui-check failed: {message}")


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with running_stack() as stack, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)  # a shared, busy machine
            _log_in(page, stack)
            _open_add_form(page)
            _check_standard_fields(page, stack)
            print("form: Auth ID / Auth Token / API base URL relabelled, schema hidden, placeholders ok")
            _check_extra_fields(page)
            print("form: extra fields with their help texts and defaults; connection saved")
            _check_saved_connection(stack)
            print("REST API: the saved connection has plain extra keys")
            _check_test_button(page, stack)
            print("Test: success for good credentials, a clear 401 message (no token) for a wrong one")
        finally:
            browser.close()
    print(f"ui-check passed; screenshots in {IMAGES.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
