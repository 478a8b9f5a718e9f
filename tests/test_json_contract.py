"""The JSON contract of ``Answer.to_json``, ``baocao ask --json`` and ``baocao ask --jsonl``.

Contract keys: id, status, answer, citations, communes, period, latency_ms. Extra keys are
allowed (today: language, mode, resolved_question, and table for comparisons). Each citation
has file, line_start, line_end, section and text (extras today: n, commune, period), and its
line range must exist in the shipped report with its text found in those lines.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from baocao.config import PROJECT_ROOT
from index.text import fold

CONTRACT = {"id", "status", "answer", "citations", "communes", "period", "latency_ms"}
CITATION = {"file", "line_start", "line_end", "section", "text"}
STATUSES = {"answered", "not_found", "error"}
PERIODS = {None, "2020-2025", "2025-2030"}
REPORTS = PROJECT_ROOT / "data" / "reports"

QUESTIONS = [
    "What is Mường La's forest cover target for 2030?",  # answered, en
    "Chỉ tiêu giảm tỷ lệ hộ nghèo của xã Bó Sinh đến năm 2030 là bao nhiêu?",  # answered, vi
    "ty le ho ngheo cua xa Chieng Hac nam 2024 la bao nhieu",  # answered, vi-ascii, 2020-2025
    "What is the number of doctors per 10,000 people in Phiêng Pằn by 2030?",  # not_found
    "Compare the 2030 forest-cover targets of Mường La and Bó Sinh",  # comparison
    "list the poverty targets of all communes",  # comparison of all five
    "Nêu các khâu đột phá của Đảng bộ xã Mai Sơn nhiệm kỳ 2025-2030.",  # list
    "How many tourist visits did Mường La receive in 2020-2025?",  # result
    "",  # error
]


def baocao_command() -> list[str]:
    exe = Path(sys.executable).parent / "baocao"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "baocao.cli"]


def run_baocao(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*baocao_command(), *args], capture_output=True, text=True, encoding="utf-8",
                          cwd=cwd or PROJECT_ROOT, timeout=600)


def report_lines(file: str) -> list[str]:
    return (REPORTS / file).read_text(encoding="utf-8").splitlines()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", fold(unicodedata.normalize("NFC", text)))


def check_contract(record: dict, item_id: str | None) -> None:
    assert record.keys() >= CONTRACT, sorted(CONTRACT - record.keys())
    assert record["id"] == item_id
    assert record["status"] in STATUSES
    assert isinstance(record["answer"], str) and record["answer"].strip()
    assert isinstance(record["citations"], list)
    assert isinstance(record["communes"], list) and all(isinstance(c, str) for c in record["communes"])
    assert record["period"] in PERIODS
    assert isinstance(record["latency_ms"], int | float) and record["latency_ms"] >= 0
    for citation in record["citations"]:
        check_citation(citation)


def check_citation(citation: dict) -> None:
    assert citation.keys() >= CITATION, sorted(CITATION - citation.keys())
    assert isinstance(citation["section"], str)
    lines = report_lines(citation["file"])
    start, end = citation["line_start"], citation["line_end"]
    assert isinstance(start, int) and isinstance(end, int)
    assert 1 <= start <= end <= len(lines), (citation["file"], start, end, len(lines))
    block = squash(" ".join(lines[start - 1 : end]))
    first_words = squash(" ".join(citation["text"].split()[:5]))
    assert first_words and first_words in block, (citation["file"], start, end, citation["text"][:80])


@pytest.fixture(scope="module")
def records(assistant) -> dict[str, dict]:
    return {q: assistant.ask(q).to_json(f"q{i}") for i, q in enumerate(QUESTIONS)}


@pytest.mark.parametrize("index", range(len(QUESTIONS)), ids=lambda i: f"q{i}")
def test_to_json_has_the_contract_keys_and_valid_citations(records, index):
    record = records[QUESTIONS[index]]
    check_contract(record, f"q{index}")
    json.loads(json.dumps(record, ensure_ascii=False))  # serialisable as is


def test_extra_keys_are_the_documented_ones(records):
    extras = set().union(*(r.keys() for r in records.values())) - CONTRACT
    assert extras <= {"language", "mode", "resolved_question", "table", "confidence"}, extras
    citation_extras = {k for r in records.values() for c in r["citations"] for k in c} - CITATION
    assert citation_extras <= {"n", "commune", "period", "figures"}, citation_extras


def test_answered_records_cite_something_and_errors_cite_nothing(records):
    for question, record in records.items():
        if record["status"] == "answered":
            assert record["citations"], question
        if record["status"] == "error":
            assert record["citations"] == [], question


def test_comparison_table_rows_point_at_citations(records):
    record = records["Compare the 2030 forest-cover targets of Mường La and Bó Sinh"]
    numbers = {c["n"] for c in record["citations"]}
    assert [r["commune"] for r in record["table"]] == ["Mường La", "Bó Sinh"]
    assert all(r["citation"] in numbers for r in record["table"])


def test_citations_of_public_eval_answers_exist_in_the_reports(assistant):
    items = [json.loads(line) for line in (PROJECT_ROOT / "evals" / "public.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    for item in items[::6]:  # a spread over communes and kinds
        record = assistant.ask(item["question"], item.get("history")).to_json(item["id"])
        check_contract(record, item["id"])


# --- the command line -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ask_json() -> subprocess.CompletedProcess:
    return run_baocao("ask", "--json", "What is Mường La's forest cover target?")


def test_ask_json_prints_one_valid_json_answer(ask_json):
    assert ask_json.returncode == 0, ask_json.stderr
    record = json.loads(ask_json.stdout)
    assert record["status"] == "answered"
    assert "51,51" in record["answer"]
    assert any(c["file"] == "muong-la.txt" and c["line_start"] <= 884 <= c["line_end"]
               for c in record["citations"])
    for citation in record["citations"]:
        check_citation(citation)


def test_ask_json_has_every_contract_key(ask_json):
    record = json.loads(ask_json.stdout)
    check_contract(record, None)  # no id given: "id" is null, but the key is there


def test_ask_jsonl_writes_one_record_per_line_with_ids(tmp_path):
    questions = [
        {"id": "ml-forest", "question": "What is Mường La's forest cover target?"},
        {"id": "bs-follow", "question": "And Bó Sinh?",
         "history": [{"role": "user", "content": "What is Mường La's forest cover target?"},
                     {"role": "assistant", "content": "Mường La: 51,51%."}]},
        {"id": "ms-bhyt", "question": "muc tieu ty le bao hiem y te xa Mai Son den nam 2030"},
        {"id": "none", "question": "How many OCOP products does Chiềng Hặc target by 2030?"},
    ]
    src, out = tmp_path / "questions.jsonl", tmp_path / "answers.jsonl"
    src.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    done = run_baocao("ask", "--jsonl", str(src), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [q["id"] for q in questions]
    for record, question in zip(records, questions, strict=True):
        check_contract(record, question["id"])
    by_id = {r["id"]: r for r in records}
    assert "51,51" in by_id["ml-forest"]["answer"]
    assert "30,2" in by_id["bs-follow"]["answer"]
    assert "96%" in by_id["ms-bhyt"]["answer"]
    assert by_id["none"]["status"] == "not_found"


def test_ask_jsonl_reports_bad_lines_by_number_and_answers_the_rest(tmp_path):
    good = json.dumps({"id": "good-1", "question": "What is Mường La's forest cover target?"},
                      ensure_ascii=False)
    lines = [
        good.encode("utf-8"),  # 1
        b'{"id": "broken", "question": ',  # 2: malformed JSON
        b'{"id": "latin1", "question": "M\xfd\xf4ng La \xff\xfe"}',  # 3: not UTF-8
        # 4: raw control characters inside a JSON string
        b'{"id": "ctrl", "question": "What\x01\x02 is \x07 Bo Sinh\x1b[31m forest cover?"}',
        json.dumps({"id": "good-2", "question": "Chỉ tiêu che phủ rừng của xã Bó Sinh đến năm 2030?"},
                   ensure_ascii=False).encode("utf-8"),  # 5
        b"",  # 6: blank: an error record too, so output line N stays input line N
        json.dumps({"id": "escaped-ctrl", "question": "\u0000\u0007 What is Mai S\u01a1n's health insurance "
                    "target for 2030?"}).encode("utf-8"),  # 7: escaped control chars are valid JSON
    ]
    src, out = tmp_path / "bad.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    done = run_baocao("ask", "--jsonl", str(src), "--out", str(out))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 7  # every input line has its record
    errors = {r["line"]: r for r in records if r["status"] == "error"}
    assert set(errors) == {2, 3, 4, 6}
    for line_no, record in errors.items():
        assert f"line {line_no}" in record["answer"]
    answered = [r for r in records if r["status"] != "error"]
    assert [r["id"] for r in answered] == ["good-1", "good-2", "escaped-ctrl"]
    assert "51,51" in answered[0]["answer"]
    assert "30,2" in answered[1]["answer"]
    assert answered[2]["status"] in ("answered", "not_found")


def test_batch_error_records_follow_the_contract(tmp_path):
    """A consumer reading the output reads the same keys on every line, errors included."""
    src, out = tmp_path / "bad.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b'{"id": "broken", "question": \n\xff\xfe\n')
    done = run_baocao("ask", "--jsonl", str(src), "--out", str(out))
    assert done.returncode != 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in records] == [1, 2]
    for record in records:
        assert record["status"] == "error"
        assert record.keys() >= CONTRACT, sorted(CONTRACT - record.keys())
