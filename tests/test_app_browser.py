"""The Gradio app in a real browser (Debian Chromium via Playwright), on the real index.

What a user does: ask, follow up, read the cited lines, compare communes in the matrix, read a commune's
scorecard, run the evals, upload a broken file, and try to inject a script. Screenshots at laptop and phone width go to
``test-artifacts/`` so the layout can be looked at, not just asserted.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import stop

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
REPORTS = ["bo-sinh.txt", "chieng-hac.txt", "mai-son.txt", "muong-la.txt", "phieng-pan.txt"]
QUESTION = "What is Mường La's forest-cover target?"
XSS = "<script>window.__xss=1</script>"
TIMEOUT = 60_000  # ms: an answer takes well under a second; the first one also warms the index up

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian Chromium at /usr/bin/chromium (run `make browser`)"),
]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(log: Path, data_dir: Path | None = None) -> Iterator[str]:
    """``python app.py`` on a free loopback port; the shipped data unless ``data_dir`` is given."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if data_dir is not None:
        env["BAOCAO_DATA_DIR"] = str(data_dir)
    else:  # the shipped data: eval runs go to a scratch history, not data/eval_history.jsonl
        env["BAOCAO_EVAL_HISTORY"] = str(log.parent / "eval_history.jsonl")
    port = free_port()
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                                env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, proc, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the shipped reports and index (read-only use: refused uploads change nothing)."""
    with running_app(tmp_path_factory.mktemp("app") / "app.log") as url:
        yield url


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the app exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "config", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the app did not start within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url: str, viewport: dict):
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.wait_for_selector("#question textarea")
    return page


def ask(page, question: str, expect: str) -> None:
    """Type a question, press Enter, wait until the last answer shows ``expect``."""
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")
    page.locator("#chatbot .message-row").last.filter(has_text=expect).wait_for()
    page.wait_for_timeout(300)  # the sources panel is updated in the same event


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def tab(page, name: str) -> None:
    """Open a tab; on a narrow screen Gradio puts the last tabs in a "More tabs" (⋯) menu."""
    button = page.get_by_role("tab", name=name)
    if not button.count():
        page.get_by_role("button", name="More tabs").click()
        button = page.locator(".overflow-dropdown button", has_text=name)
    button.click()


def state_of_data() -> dict[str, str]:
    """Every report file and the index pointer, by content hash: what a refused upload must not touch."""
    files = sorted((ROOT / "data" / "reports").rglob("*")) + [ROOT / "data" / "index" / "CURRENT"]
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def test_chat_follow_up_and_sources_on_a_laptop(browser, app_url: str) -> None:
    page = open_page(browser, app_url, LAPTOP)
    shot(page, "laptop-1-start")
    ask(page, QUESTION, "51,51%")
    card = page.locator('.src-card[data-file="muong-la.txt"]').first
    card.wait_for()
    start, end = (int(n) for n in card.get_attribute("data-lines").split("-"))
    assert start <= 884 <= end
    assert "muong-la.txt:" in card.inner_text()
    assert card.locator("mark").first.inner_text() == "51,51%"
    card.locator("summary").click()  # the raw report lines around the quote
    assert "884" in card.locator(".ctx-line.cited").first.inner_text()
    shot(page, "laptop-2-answer-with-sources")
    ask(page, "And Bó Sinh?", "30,2%")
    page.locator('.src-card[data-file="bo-sinh.txt"]').first.wait_for()
    shot(page, "laptop-3-follow-up")


def test_script_typed_as_a_question_is_shown_not_run(browser, app_url: str) -> None:
    page = open_page(browser, app_url, LAPTOP)
    page.fill("#question textarea", XSS)
    page.keyboard.press("Enter")
    page.locator("#chatbot .message-row").nth(1).wait_for()  # the answer to it has arrived
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert XSS in page.locator("#chatbot").inner_text()
    assert XSS in page.locator("#sources").inner_text()  # "Sources for <question>", escaped too
    shot(page, "laptop-4-script-shown-as-text")


def matrix_on_screen(page, period: str):
    """The Compare matrix for ``period``, once it is on the page (it is computed on open: nothing clicked)."""
    table = page.locator(f'#compare-matrix table.mx[data-period="{period}"]')
    table.wait_for()
    return table


def test_compare_matrix_is_filled_on_open_switches_period_and_downloads(browser, app_url: str,
                                                                         tmp_path: Path) -> None:
    import pandas as pd

    page = open_page(browser, app_url, LAPTOP)
    tab(page, "Compare")
    table = matrix_on_screen(page, "2025-2030")
    communes = [t.strip() for t in table.locator("thead th").all_text_contents()[1:]]  # not upper-cased
    assert len(communes) == len(REPORTS)
    rows = table.locator("tbody tr")
    assert rows.count() >= 1
    forest = table.locator('tr[data-key="forest_cover"]')  # the same indicator in all five reports
    for commune, figure, cited in [("Mường La", "51,51%", "muong-la.txt:884"), ("Bó Sinh", "30,2%", "bo-sinh.txt:98"),
                                   ("Phiêng Pằn", "48%", "phieng-pan.txt:13")]:
        cell = forest.locator(f'td[data-commune="{commune}"]')
        assert figure in cell.locator(".mx-fig").inner_text() and cell.get_attribute("data-cite").startswith(cited)
    cell = table.locator("td.mx-cell").first
    cite = cell.get_attribute("data-cite")
    file, _, lines = cite.partition(":")
    assert file in REPORTS and all(n.isdigit() for n in lines.split("-")), cite
    cell.locator("summary").click()  # the quoted line opens under the figure
    quote = cell.locator(".mx-quote")
    quote.wait_for()
    report = (ROOT / "data" / "reports" / file).read_text(encoding="utf-8").split("\n")
    start, end = (int(n) for n in (lines.split("-") * 2)[:2])
    assert " ".join(quote.inner_text().split())[:40] in " ".join(" ".join(report[start - 1:end]).split())
    page.locator("#compare-chart g.mark-rect path").nth(1).wait_for()  # a chart, also without a click
    shot(page, "laptop-5-compare")

    page.get_by_label("2020-2025 results").check()
    results = matrix_on_screen(page, "2020-2025")
    with page.expect_download() as download:
        page.locator("#compare-csv").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".csv" and "2020-2025" in saved.name
    frame = pd.read_csv(saved, dtype=str, keep_default_na=False)
    assert len(frame) == results.locator("tbody tr").count()
    assert [c for c in communes if c in frame.columns] == communes
    shown = [" ".join(t.split()) for t in results.locator("tbody th .mx-en").all_inner_texts()]
    assert list(frame["indicator"]) == shown
    shot(page, "laptop-5b-compare-results")


def test_scorecard_is_filled_on_open_and_follows_the_commune(browser, app_url: str) -> None:
    page = open_page(browser, app_url, LAPTOP)
    tab(page, "Scorecard")
    counts = page.locator("#scorecard .sc-counts")
    counts.wait_for()
    first = counts.get_attribute("data-commune")
    assert first == "Bó Sinh"  # the first commune, without choosing it
    met, not_met, unassessed = (int(page.locator(f"#scorecard .sc-counts .{c}").inner_text().split()[0])
                                for c in ("sc-met", "sc-not-met", "sc-none"))
    assert met + not_met + unassessed == page.locator("#scorecard tbody tr[data-status]").count() > 0
    assert met == page.locator('#scorecard tbody tr[data-status="met"]').count()
    source = page.locator("#scorecard td.mx-cell .mx-cite").first.inner_text()
    assert source.startswith("bo-sinh.txt:")
    shot(page, "laptop-9-scorecard")
    page.locator("#scorecard-show").get_by_label("Not met").check()
    page.locator("#scorecard tbody tr[data-status]").nth(not_met).wait_for(state="detached")
    statuses = page.locator("#scorecard tbody tr[data-status]").evaluate_all("rs => rs.map(r => r.dataset.status)")
    assert statuses == ["not met"] * not_met
    page.locator("#scorecard-show").get_by_label("All").check()
    page.locator("#scorecard tbody tr[data-status]").nth(not_met).wait_for()
    page.locator("#scorecard-commune input").click()
    page.get_by_role("option", name="Mai Sơn").click()
    page.locator('#scorecard .sc-counts[data-commune="Mai Sơn"]').wait_for()
    assert page.locator("#scorecard td.mx-cell .mx-cite").first.inner_text().startswith("mai-son.txt:")


def test_evals_tab_runs_the_eval_set(browser, app_url: str) -> None:
    page = open_page(browser, app_url, LAPTOP)
    tab(page, "Evals")
    page.get_by_role("button", name="Run the eval set").click()
    page.locator("#eval-headline").filter(has_text="Accuracy").wait_for(timeout=300_000)
    scores = page.locator("#eval-scores").inner_text()
    assert "overall" in scores and "lang en" in scores and "kind target" in scores
    page.wait_for_timeout(800)  # let the outputs' loading fade finish before the screenshot
    shot(page, "laptop-6-evals")


@pytest.mark.parametrize(("name", "payload", "message"), [
    ("broken.pdf", b"", "empty"),
    ("noise.txt", random.Random(7).randbytes(4096), "binary file"),
])
def test_broken_upload_is_refused_and_changes_nothing(browser, app_url: str, tmp_path: Path, name: str,
                                                      payload: bytes, message: str) -> None:
    before = state_of_data()
    upload = tmp_path / name
    upload.write_bytes(payload)
    page = open_page(browser, app_url, LAPTOP)
    tab(page, "Documents")
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.locator("#documents-message .notice-error").wait_for()
    shown = page.locator("#documents-message").inner_text()
    assert name in shown and message in shown.lower(), shown
    listing = page.locator("#documents-table").inner_text()
    assert all(report in listing for report in REPORTS)
    assert state_of_data() == before
    shot(page, f"laptop-7-upload-refused-{Path(name).suffix[1:]}")


def test_phone_width_is_usable(browser, app_url: str) -> None:
    page = open_page(browser, app_url, PHONE)
    shot(page, "phone-1-start")
    ask(page, QUESTION, "51,51%")
    card = page.locator('.src-card[data-file="muong-la.txt"]').first
    card.wait_for()
    chat_box, card_box = page.locator("#chat-col").bounding_box(), card.bounding_box()
    assert card_box["y"] > chat_box["y"] + chat_box["height"] - 1  # stacked under the chat, not squeezed beside it
    assert card_box["width"] > PHONE["width"] * 0.7
    no_sideways_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert no_sideways_scroll
    shot(page, "phone-2-answer-with-sources")
    tab(page, "Compare")
    matrix_on_screen(page, "2025-2030")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # the matrix scrolls inside
    shot(page, "phone-3-compare")
    tab(page, "Scorecard")
    page.locator("#scorecard .sc-counts").wait_for()
    card = page.locator("#scorecard tbody tr[data-status]").first.bounding_box()
    assert card["width"] <= PHONE["width"]  # one card per target, not a table wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "phone-5-scorecard")
    tab(page, "Documents")
    page.locator("#documents-table").filter(has_text="muong-la.txt").wait_for()
    shot(page, "phone-4-documents")


NEW_REPORT = """ĐẢNG BỘ XÃ MƯỜNG ẢNG
BÁO CÁO CHÍNH TRỊ CỦA BAN CHẤP HÀNH ĐẢNG BỘ XÃ MƯỜNG ẢNG KHÓA I, NHIỆM KỲ 2025-2030
Phần thứ nhất: KẾT QUẢ THỰC HIỆN NGHỊ QUYẾT ĐẠI HỘI NHIỆM KỲ 2020-2025
Phát triển kinh tế nông nghiệp theo hướng hàng hóa, ứng dụng công nghệ cao, bền vững.
Giữ vững quốc phòng, an ninh; xây dựng Đảng bộ, hệ thống chính trị trong sạch, vững mạnh.
Phần thứ hai: MỤC TIÊU, NHIỆM VỤ, GIẢI PHÁP NHIỆM KỲ 2025-2030
2. Các chỉ tiêu chủ yếu
(1) Tỷ lệ che phủ rừng đạt 61,5% trở lên.
"""


def test_first_run_build_upload_and_remove(browser, tmp_path: Path) -> None:
    """On a private copy with no index: the app builds it, then adds and removes a report."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "reports", data / "reports")
    (data / "index").mkdir(parents=True)
    shutil.copy2(ROOT / "data" / "index" / "embeddings.sqlite", data / "index")  # unchanged text: no re-embedding
    upload = tmp_path / "Báo cáo xã Mường Ảng.txt"
    upload.write_text(NEW_REPORT, encoding="utf-8")
    with running_app(tmp_path / "app.log", data) as url:
        page = open_page(browser, url, LAPTOP)
        page.locator("#status-banner").wait_for(state="hidden", timeout=600_000)  # "building the index…"
        ask(page, QUESTION, "51,51%")
        assert (data / "index" / "CURRENT").exists()
        tab(page, "Documents")
        page.locator("#upload input[type=file]").set_input_files(str(upload))
        page.locator("#documents-message .notice-ok").wait_for()
        assert "bao-cao-xa-muong-ang.txt" in page.locator("#documents-table").inner_text()
        assert (data / "reports" / "bao-cao-xa-muong-ang.txt").exists()
        shot(page, "laptop-8-upload-added")
        page.locator("#remove-file input").click()
        page.get_by_role("option", name="bao-cao-xa-muong-ang.txt").click()
        page.get_by_label("Yes, remove this report").check()
        page.get_by_role("button", name="Remove report").click()
        page.locator("#documents-message .notice-ok").filter(has_text="Removed").wait_for()
        assert "bao-cao-xa-muong-ang.txt" not in page.locator("#documents-table").inner_text()
        assert not (data / "reports" / "bao-cao-xa-muong-ang.txt").exists()
