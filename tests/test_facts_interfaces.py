"""``baocao facts`` as a user runs it, and the app's ``/facts`` API through gradio_client (real server)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest

from tests.servers import stop
from tests.test_app_api import free_port, start_app, wait_until_up
from tests.test_cli import run_baocao

COMMUNES = {"Mường La", "Bó Sinh", "Chiềng Hặc", "Mai Sơn", "Phiêng Pằn"}


def test_facts_json_filters_by_period_commune_and_indicator() -> None:
    done = run_baocao("facts", "--format", "json", "--period", "2025-2030", "--indicator", "forest_cover")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert {r["commune"] for r in records} == COMMUNES
    assert all(r["period"] == "2025-2030" and r["indicator_key"] == "forest_cover" for r in records)
    muong_la = [r for r in records if r["commune"] == "Mường La" and r["line_start"] == 884]
    assert [v["text"] for r in muong_la for v in r["values"]] == ["51,51% trở lên"]
    former = json.loads(run_baocao("facts", "--format", "json", "--commune", "Ít Ong", "--period", "profile").stdout)
    assert former and {r["commune"] for r in former} == {"Mường La"} and {r["period"] for r in former} == {"profile"}


def test_facts_csv_and_table() -> None:
    done = run_baocao("facts", "--format", "csv", "--commune", "Bo Sinh", "--period", "2020-2025")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows and {r["commune"] for r in rows} == {"Bó Sinh"}
    assert any(r["source"] == "table" and r["assessment"] == "không đạt" and r["plan"] for r in rows)
    table = run_baocao("facts", "--commune", "Mai Sơn", "--indicator", "poverty_rate")
    assert table.returncode == 0 and "mai-son.txt:" in table.stdout and "poverty_rate" in table.stdout


def test_facts_unknown_commune_says_so() -> None:
    done = run_baocao("facts", "--commune", "Hà Nội")
    assert done.returncode != 0 and "Hà Nội" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from gradio_client import Client

    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    proc = start_app(port, log)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, proc, log)
        yield Client(url, verbose=False)
    finally:
        stop(proc)


@pytest.mark.slow
def test_the_facts_api_gives_the_cli_records(client) -> None:
    result = client.predict("2025-2030", "Mường La", "forest_cover", api_name="/facts")
    assert result["status"] == "ok" and result["count"] == len(result["facts"]) >= 1
    cli = json.loads(run_baocao("facts", "--format", "json", "--period", "2025-2030", "--commune", "Mường La",
                                "--indicator", "forest_cover").stdout)
    assert result["facts"] == cli
    everything = client.predict("", "", "", api_name="/facts")
    assert everything["count"] > 1000 and {f["commune"] for f in everything["facts"]} == COMMUNES
    bad = client.predict("2040", "", "", api_name="/facts")
    assert bad["status"] == "error" and "period" in bad["message"] and bad["facts"] == []
    unknown = client.predict("", "Hà Nội", "", api_name="/facts")
    assert unknown["status"] == "error" and "Hà Nội" in unknown["message"]
