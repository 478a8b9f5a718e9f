"""Hostile input in a real browser (Debian Chromium via Playwright): a report that holds Markdown and HTML pointing
at a server is quoted in the chat and its sources, and the browser never requests that URL; the login page still
works behind the guard that covers every route; an upload leaves no copy in Gradio's cache once imported and removed.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from baocao.config import Settings
from bench.load import free_port, live_app
from index.build import build_index
from tests.test_app_browser import CHROMIUM, CHROMIUM_ARGS, LAPTOP, TIMEOUT, ask, shot, tab
from tests.test_hardening import FOREST, FOREST_LINE, copy_data
from tests.test_hostile import NEW_REPORT, PASSWORD, USER

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian Chromium at /usr/bin/chromium (run `make browser`)"),
]


class Bait:
    """A loopback HTTP server the planted report points at: it counts every request that reaches it."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        bait = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                bait.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def bait() -> Iterator[Bait]:
    server = Bait()
    yield server
    server.close()


@pytest.fixture(scope="module")
def planted_app(tmp_path_factory: pytest.TempPathFactory, settings: Settings, assistant, bait: Bait) -> Iterator:
    """The app on a copy of the reports whose forest-cover target line also holds an image, a tag and a link."""
    tmp = tmp_path_factory.mktemp("planted")
    data = copy_data(tmp / "data", settings)
    report = data.reports_dir / "muong-la.txt"
    lines = report.read_text(encoding="utf-8").split("\n")
    lines[FOREST_LINE - 1] += (f" ![x](http://{bait.host}/md.png) <img src=http://{bait.host}/tag.png> "
                               f"[xem](http://{bait.host}/link)")
    report.write_text("\n".join(lines), encoding="utf-8")
    build_index(data, show_bar=False)
    cache = tmp / "gradio-cache"
    with live_app(tmp / "app.log", env={"BAOCAO_DATA_DIR": str(data.data_dir), "GRADIO_TEMP_DIR": str(cache)}) as app:
        yield app, data, cache


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_no_url_from_a_report_is_fetched(browser, planted_app, bait: Bait) -> None:
    app, _, _ = planted_app
    page = browser.new_page(viewport=LAPTOP)
    page.set_default_timeout(TIMEOUT)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(app.url)
    page.wait_for_selector("#question textarea")
    ask(page, FOREST, "51,51%")
    chat = page.locator("#chatbot").inner_text()
    assert f"![x](http://{bait.host}/md.png)" in chat, chat[-1500:]  # quoted as the text it is
    assert f"<img src=http://{bait.host}/tag.png>" in chat
    card = page.locator('.src-card[data-file="muong-la.txt"]').first
    card.locator("summary").click()  # the raw report lines around the quote
    assert f"![x](http://{bait.host}/md.png)" in card.inner_text()
    assert page.locator("#chatbot img, #sources img").count() == 0
    page.wait_for_timeout(1500)  # time for any image request to leave
    shot(page, "hostile-1-planted-image-shown-as-text")
    assert not [url for url in requested if bait.host in url], requested
    assert bait.hits == []
    page.close()


def test_upload_then_remove_leaves_no_copy_anywhere(browser, planted_app, tmp_path: Path) -> None:
    app, data, cache = planted_app
    upload = tmp_path / "Mường Ảng.txt"
    upload.write_text(NEW_REPORT, encoding="utf-8")
    page = browser.new_page(viewport=LAPTOP)
    page.set_default_timeout(TIMEOUT)
    uploaded: list[str] = []  # where Gradio cached the file: the upload route answers with the paths
    page.on("response", lambda r: uploaded.extend(r.json()) if "/gradio_api/upload?" in r.url + "?" and
            r.request.method == "POST" else None)
    page.goto(app.url)
    page.wait_for_selector("#question textarea")
    tab(page, "Documents")
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.locator("#documents-message .notice-ok").wait_for()
    assert (data.reports_dir / "muong-ang.txt").exists()
    report_bytes = NEW_REPORT.encode("utf-8")[:200]  # the upload itself, not an export that quotes its figures
    copies = [p for p in cache.rglob("*") if p.is_file() and report_bytes in p.read_bytes()]
    assert copies == [], copies  # Gradio's copy is gone once the report is stored
    page.locator("#remove-file input").click()
    page.get_by_role("option", name="muong-ang.txt").click()
    page.get_by_label("Yes, remove this report").check()
    page.get_by_role("button", name="Remove report").click()
    page.locator("#documents-message .notice-ok").filter(has_text="Removed").wait_for()
    assert not list(data.reports_dir.rglob("muong-ang*"))
    assert not [p for p in cache.rglob("*") if p.is_file() and report_bytes in p.read_bytes()]
    assert uploaded and all(Path(p).is_relative_to(cache) for p in uploaded), uploaded
    for path in [*uploaded, data.reports_dir / "muong-ang.txt"]:  # nothing left to download
        try:
            status = urllib.request.urlopen(f"{app.url}gradio_api/file={quote(str(path))}", timeout=20).status
        except urllib.error.HTTPError as err:
            status = err.code
        assert status in (403, 404), (path, status)
    page.close()


@pytest.fixture(scope="module")
def authed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    import sys

    command = [sys.executable, "-m", "baocao.cli", "serve", "--port", "{port}", "--auth", f"{USER}:{PASSWORD}"]
    with live_app(tmp_path_factory.mktemp("authed-browser") / "app.log", command) as app:
        yield app


def test_login_page_works_behind_the_guard(browser, authed_app) -> None:
    """Everything but the login page's own files answers 401, and the page still logs in and the app answers."""
    page = browser.new_page(viewport=LAPTOP)
    page.set_default_timeout(TIMEOUT)
    refused: list[str] = []
    page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
    page.goto(authed_app.url)
    page.get_by_label("username").fill(USER)
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#question textarea")
    ask(page, FOREST, "51,51%")
    shot(page, "hostile-2-logged-in-behind-the-guard")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert any(name.startswith("access-token") for name in cookies)
    body = json.dumps({"session_hash": "someone-else", "event_id": "theirs", "fn_index": 0}).encode()
    request = urllib.request.Request(authed_app.url + "gradio_api/cancel", body, {"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused_cancel:
        urllib.request.urlopen(request, timeout=20)  # without the cookie: another user's request stays running
    assert refused_cancel.value.code == 401
    page.close()
