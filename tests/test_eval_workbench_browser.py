"""The eval workbench in a real browser: a researcher's loop in the app alone (issue 13).

On a private copy of the data: add a report of a new commune (Documents), upload a broken
eval set and see its faults by line, upload a well-formed set about the new report, run it,
read the failure with the passage we cited, download the report, fix the set and run again,
and see the item that moved. Screenshots at laptop and phone width in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evals.history import load_runs
from tests.test_app_browser import (  # noqa: F401 - ``browser`` is a fixture used by name
    LAPTOP,
    PHONE,
    ROOT,
    browser,
    open_page,
    running_app,
    shot,
    tab,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian Chromium")]

REPORT_NAME = "Báo cáo xã Mường Ảng.txt"
REPORT_FILE = "bao-cao-xa-muong-ang.txt"  # the name the Documents tab stores it under
NEW_REPORT = """ĐẢNG BỘ XÃ MƯỜNG ẢNG
BÁO CÁO CHÍNH TRỊ CỦA BAN CHẤP HÀNH ĐẢNG BỘ XÃ MƯỜNG ẢNG KHÓA I, NHIỆM KỲ 2025-2030
Đại hội đại biểu Đảng bộ xã Mường Ảng lần thứ I là sự kiện chính trị quan trọng của Đảng bộ xã Mường Ảng.
Phần thứ nhất: KẾT QUẢ THỰC HIỆN NGHỊ QUYẾT ĐẠI HỘI NHIỆM KỲ 2020-2025
Phát triển kinh tế nông nghiệp theo hướng hàng hóa, ứng dụng công nghệ cao, bền vững.
Giữ vững quốc phòng, an ninh; xây dựng Đảng bộ, hệ thống chính trị trong sạch, vững mạnh.
Phần thứ hai: MỤC TIÊU, NHIỆM VỤ, GIẢI PHÁP NHIỆM KỲ 2025-2030
2. Các chỉ tiêu chủ yếu
(1) Tỷ lệ che phủ rừng đạt 61,5% trở lên.
"""
SET_NAME = "my-questions.jsonl"


def item(id_: str, question: str, answer: str, must: list[list[str]], file: str, line: int, quote: str,
         lang: str = "vi", commune: str = "Mường Ảng") -> dict:
    return {"id": id_, "question": question, "lang": lang, "communes": [commune], "kind": "target",
            "period": "2025-2030", "answer": answer, "must_include": must,
            "evidence": [{"file": file, "line": line, "quote": quote}]}


def new_commune_item(fixed: bool) -> dict:
    """The researcher's item about the report they added. First version: the figure only in English form
    (61.5), a slip the checker cannot see (the reference answer has it); the answer says 61,5%."""
    answer = "61,5% trở lên" if fixed else "61.5% trở lên <i>(chỉ tiêu 1)</i>"
    must = [["61,5", "61.5"]] if fixed else [["61.5"]]
    return item("ma-forest", "Tỷ lệ che phủ rừng của xã Mường Ảng đến năm 2030 là bao nhiêu?", answer, must,
                REPORT_FILE, 9, "(1) Tỷ lệ che phủ rừng đạt 61,5% trở lên.")


def good_set(fixed: bool) -> list[dict]:
    return [
        new_commune_item(fixed),
        item("ml-forest", "Tỷ lệ che phủ rừng của xã Mường La đến năm 2030 là bao nhiêu?", "51,51% trở lên",
             [["51,51", "51.51"]], "muong-la.txt", 884, "(7)- Tỷ lệ che phủ rừng đạt 51,51% trở lên.",
             commune="Mường La"),
        item("bs-forest", "What is Bó Sinh's forest-cover target?", "A stable forest cover of 30.2%.",
             [["30,2", "30.2"]], "bo-sinh.txt", 983, "duy trì tỷ lệ độ che phủ rừng ổn định đạt 30,2%",
             lang="en", commune="Bó Sinh"),
    ]


def broken_lines() -> list[str]:
    """One fault a line: quote off its line, figure not in the answer, bad kind, bad JSON, repeated id."""
    good = good_set(fixed=True)
    moved = {**good[1], "id": "off-line", "evidence": [{**good[1]["evidence"][0], "line": 880}]}
    no_figure = {**good[2], "id": "no-figure", "question": "Bó Sinh forest cover 2030?", "must_include": [["31"]]}
    bad_kind = {**good[0], "id": "bad-kind", "question": "Che phủ rừng Mường Ảng?", "kind": "goal"}
    return [json.dumps(x, ensure_ascii=False) for x in (good[0], moved, no_figure, bad_kind)] + [
        '{"id": "cut-off", "question": "Tỷ lệ', json.dumps(good[0], ensure_ascii=False)]


def write_set(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def upload_set(page, path: Path, expect: str) -> str:
    """Upload a set and wait for *its* check (the text changes: another file, another content hash)."""
    before = page.locator("#eval-check").inner_text()
    page.locator("#eval-upload input[type=file]").set_input_files(str(path))
    page.wait_for_function("([old, want]) => { const t = document.querySelector('#eval-check').innerText;"
                           " return t !== old && t.includes(want); }", arg=[before, expect])
    return page.locator("#eval-check").inner_text()


def run_set(page) -> str:
    """Press Run and wait for this run's headline (it names the new run id); returns it."""
    before = page.locator("#eval-headline").inner_text()
    page.get_by_role("button", name="Run the eval set").click()
    page.wait_for_function("old => { const t = document.querySelector('#eval-headline').innerText;"
                           " return t !== old && t.includes('accuracy'); }", arg=before, timeout=300_000)
    page.wait_for_timeout(800)  # let the outputs' loading fade finish before a screenshot
    return page.locator("#eval-headline").inner_text()


def test_upload_check_run_read_failures_download_and_see_what_moved(browser, tmp_path: Path,  # noqa: F811
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAOCAO_EVAL_HISTORY", raising=False)  # the history goes to the private data dir
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "reports", data / "reports")
    shutil.copytree(ROOT / "data" / "index", data / "index")  # the built index: the app starts at once
    report = tmp_path / REPORT_NAME
    report.write_text(NEW_REPORT, encoding="utf-8")
    broken = write_set(tmp_path / "broken" / "broken-set.jsonl", broken_lines())
    first = write_set(tmp_path / "v1" / SET_NAME, [json.dumps(x, ensure_ascii=False) for x in good_set(False)])
    fixed = write_set(tmp_path / "v2" / SET_NAME, [json.dumps(x, ensure_ascii=False) for x in good_set(True)])

    with running_app(tmp_path / "app.log", data) as url:
        page = open_page(browser, url, LAPTOP)
        tab(page, "Documents")  # the report the researcher's questions are about
        page.locator("#upload input[type=file]").set_input_files(str(report))
        page.locator("#documents-message .notice-ok").wait_for(timeout=600_000)

        tab(page, "Evals")
        assert page.locator("#eval-set input").input_value() == "public.jsonl"
        page.locator("#eval-set input").click()
        for shipped in ("public.jsonl", "dev.jsonl", "extra.jsonl"):
            page.get_by_role("option", name=shipped).wait_for()
        page.keyboard.press("Escape")

        # a broken set: every fault by line, and the run refuses it
        shown = upload_set(page, broken, "with problems")
        for line, words in [(2, "quote not at muong-la.txt:880 (it starts on line 884)"),
                            (3, "does not match the reference answer"), (4, "kind 'goal'"),
                            (5, "not valid JSON"), (6, "duplicate id 'ma-forest' (first on line 1)")]:
            row = page.locator("#eval-check tr").filter(has_text=words)
            assert row.count() == 1, (words, shown)
            assert row.locator("td").first.inner_text().strip() == str(line)
        page.get_by_role("button", name="Run the eval set").click()
        page.locator("#eval-headline").filter(has_text="Not run").wait_for()
        shot(page, "laptop-evals-1-broken-set")

        # the well-formed set: validated, run, the failure shown with the passage we cited
        assert "3 items, all well formed" in upload_set(page, first, "all well formed")
        run_set(page)
        assert "my-questions.jsonl" in page.locator("#eval-headline").inner_text()
        scores = page.locator("#eval-scores").inner_text()
        assert "overall" in scores and "kind target" in scores and "lang en" in scores
        # stacked bars in the outcome colours: green for correct, red for answered wrong
        page.locator('#eval-chart g.mark-rect path[fill="#059669"]').first.wait_for()
        page.locator('#eval-chart g.mark-rect path[fill="#dc2626"]').first.wait_for()
        fail = page.locator('.eval-fail[data-id="ma-forest"]')
        assert "<i>(chỉ tiêu 1)</i>" in fail.inner_text() and fail.locator("i").count() == 0  # text, not HTML
        assert "61,5%" in fail.locator(".fail-answer").inner_text()  # our answer, right but in the other form
        card = fail.locator(f'.src-card[data-file="{REPORT_FILE}"]')
        assert card.count() >= 1 and "61,5%" in card.first.inner_text()
        assert page.locator(".eval-fail").count() == 1  # the two other answers are right
        with page.expect_download() as download:
            page.locator("#eval-dl-markdown").click()
        markdown = Path(download.value.path()).read_text(encoding="utf-8")
        assert markdown.startswith("# baocao eval") and "### `ma-forest`" in markdown
        with page.expect_download() as download:
            page.locator("#eval-dl-csv").click()
        assert "ma-forest" in Path(download.value.path()).read_text(encoding="utf-8")
        shot(page, "laptop-evals-2-run-with-failure")

        # fix the set, run again: the item moved wrong → right, side by side with the first run
        assert "all well formed" in upload_set(page, fixed, "all well formed")
        run_set(page)
        assert "No failures" in page.locator("#eval-failures").inner_text()
        moved = page.locator("#eval-moved")
        assert "1 wrong → right" in moved.inner_text() and "0 right → wrong" in moved.inner_text()
        assert moved.locator('tr.fixed[data-id="ma-forest"]').count() == 1
        assert moved.locator("tr[data-id]").count() == 1  # only the item that moved
        shot(page, "laptop-evals-3-moved")

        # a phone: the same loop stays usable (no sideways scrolling of the page)
        phone = open_page(browser, url, PHONE)
        tab(phone, "Evals")
        upload_set(phone, broken, "with problems")
        shot(phone, "phone-evals-1-broken-set")
        upload_set(phone, first, "all well formed")
        run_set(phone)
        assert phone.locator('.eval-fail[data-id="ma-forest"] .src-card').count() >= 1
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(phone, "phone-evals-2-run")

    runs = load_runs(data / "eval_history.jsonl")
    assert [r["items"]["ma-forest"]["correct"] for r in runs] == [False, True, False]
    assert len({r["set_hash"] for r in runs}) == 2 and all(r["index_generation"].startswith("gen-") for r in runs)
