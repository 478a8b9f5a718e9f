"""The ``baocao`` command as a user runs it (a subprocess of the venv's entry point)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from baocao.config import PROJECT_ROOT

COMMUNES = {"Mường La", "Bó Sinh", "Chiềng Hặc", "Mai Sơn", "Phiêng Pằn"}
CSV_HEADER = ["commune", "group", "number", "indicator", "value", "unit", "file", "line_start", "line_end"]


def baocao_command() -> list[str]:
    exe = Path(sys.executable).parent / "baocao"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "baocao.cli"]


def run_baocao(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*baocao_command(), *args], capture_output=True, text=True, encoding="utf-8",
                          cwd=PROJECT_ROOT, timeout=600, env={**os.environ, **(env or {})})


def csv_rows(text: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def all_targets() -> subprocess.CompletedProcess:
    return run_baocao("targets", "--format", "csv")


def test_targets_csv_has_a_header_and_rows_for_all_five_communes(all_targets):
    assert all_targets.returncode == 0, all_targets.stderr
    header, rows = csv_rows(all_targets.stdout)
    assert header == CSV_HEADER
    assert {r["commune"] for r in rows} == COMMUNES
    for commune in COMMUNES:
        assert sum(r["commune"] == commune for r in rows) >= 10, commune  # each report lists its main targets


def test_targets_csv_rows_point_at_real_lines(all_targets):
    _, rows = csv_rows(all_targets.stdout)
    forest = [r for r in rows if r["commune"] == "Mường La" and "che phủ rừng" in r["indicator"] + r["value"]]
    assert forest, "Mường La's forest-cover target is missing"
    assert any("51,51" in r["value"] and int(r["line_start"]) <= 884 <= int(r["line_end"]) for r in forest)
    for r in rows:
        lines = (PROJECT_ROOT / "data" / "reports" / r["file"]).read_text(encoding="utf-8").splitlines()
        assert 1 <= int(r["line_start"]) <= int(r["line_end"]) <= len(lines), r


@pytest.mark.parametrize("name", ["Muong La", "Mường La", "muong la", "Ít Ong"])
def test_targets_commune_filter(all_targets, name):
    done = run_baocao("targets", "--format", "csv", "--commune", name)
    assert done.returncode == 0, done.stderr
    header, rows = csv_rows(done.stdout)
    assert header == CSV_HEADER
    assert rows and {r["commune"] for r in rows} == {"Mường La"}
    _, everything = csv_rows(all_targets.stdout)
    assert len(rows) == sum(r["commune"] == "Mường La" for r in everything)


def test_targets_unknown_commune_says_so(all_targets):
    done = run_baocao("targets", "--format", "csv", "--commune", "Hà Nội")
    assert done.returncode != 0
    assert "Hà Nội" in done.stderr
    assert "Traceback" not in done.stderr


def test_targets_json_is_valid():
    done = run_baocao("targets", "--format", "json", "--commune", "Bo Sinh")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert records and {r["commune"] for r in records} == {"Bó Sinh"}


@pytest.mark.parametrize("question", ["", "   "])
def test_ask_empty_question_gives_a_clear_message_and_non_zero_exit(question):
    done = run_baocao("ask", question)
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    assert "question" in (done.stdout + done.stderr).lower()


def test_ask_without_a_question_gives_usage_not_a_traceback():
    done = run_baocao("ask")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "question" in done.stderr.lower()


def test_ask_prints_the_answer_and_its_citation():
    done = run_baocao("ask", "What is Mường La's forest cover target?")
    assert done.returncode == 0, done.stderr
    assert "51,51" in done.stdout
    assert "muong-la.txt:884" in done.stdout


def test_index_on_an_unchanged_corpus_says_unchanged(isolated_settings):
    """On a private copy of the reports (the shipped index is left alone): build, then re-index."""
    env = {"BAOCAO_DATA_DIR": str(isolated_settings.data_dir)}
    first = run_baocao("index", env=env)
    assert first.returncode == 0, first.stderr
    again = run_baocao("index", env=env)
    assert again.returncode == 0, again.stderr
    assert "unchanged" in again.stdout
    assert "Traceback" not in again.stderr
