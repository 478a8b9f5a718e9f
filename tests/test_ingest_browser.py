"""The Documents tab in real Chromium: a commune typed at upload names the new document's commune."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_app_browser import CHROMIUM, LAPTOP, ROOT, ask, open_page, running_app, tab
from tests.test_app_browser import browser as browser  # noqa: PLC0414 - the module-scoped Chromium fixture

RESOLUTION = Path(__file__).parent / "data" / "cam-thuy-nghi-quyet.txt"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian Chromium at /usr/bin/chromium (run `make browser`)"),
]


def test_upload_with_a_typed_commune_shows_it_and_answers_for_it(browser, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "reports", data / "reports")
    (data / "index").mkdir(parents=True)
    shutil.copy2(ROOT / "data" / "index" / "embeddings.sqlite", data / "index")
    with running_app(tmp_path / "app.log", data) as url:
        page = open_page(browser, url, LAPTOP)
        page.locator("#status-banner").wait_for(state="hidden", timeout=600_000)
        tab(page, "Documents")
        page.fill("#upload-commune input, #upload-commune textarea", "xã Cẩm Tú")
        page.locator("#upload input[type=file]").set_input_files(str(RESOLUTION))
        page.locator("#documents-message .notice-ok").wait_for(timeout=600_000)
        table = page.locator("#documents-table").filter(has_text="cam-thuy-nghi-quyet.txt").inner_text()
        assert "Cẩm Tú" in table and "Thanh Hóa" in table and "Sơn La" in table, table
        assert "Cẩm Thủy" not in table  # the typed name, not the one in the text
        tab(page, "Chat")
        ask(page, "What is Cẩm Tú's food output target for 2030?", "24.000")
