"""The eval-set checker (``evals/check.py``): each kind of fault is found and reported by line.

Small files written here, against a small report written here (and the real reports for the
shipped sets): what a researcher's first draft of a set typically gets wrong.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from baocao.config import PROJECT_ROOT
from evals.check import check_file, check_text

REPORT = """ĐẢNG BỘ XÃ MƯỜNG ẢNG
Phần thứ hai: MỤC TIÊU, NHIỆM VỤ, GIẢI PHÁP NHIỆM KỲ 2025-2030
(1) Tỷ lệ che phủ rừng đạt
61,5% trở lên.
(2) Thu nhập bình quân đầu người đạt 60 triệu đồng/năm.
"""


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "muong-ang.txt").write_text(REPORT, encoding="utf-8")
    return folder


def good(**over) -> dict:
    item = {"id": "ma-01", "question": "Tỷ lệ che phủ rừng của xã Mường Ảng đến năm 2030?", "lang": "vi",
            "communes": ["Mường Ảng"], "kind": "target", "period": "2025-2030", "answer": "61,5% trở lên",
            "must_include": [["61,5", "61.5"]],
            "evidence": [{"file": "muong-ang.txt", "line": 3, "quote": "Tỷ lệ che phủ rừng đạt 61,5% trở lên."}]}
    item.update(over)
    return item


def income(**over) -> dict:
    base = {"id": "ma-02", "question": "What is Mường Ảng's income-per-head target?", "lang": "en",
            "answer": "60 million dong per year", "must_include": [["60"]],
            "evidence": [{"file": "muong-ang.txt", "line": 5, "quote": "Thu nhập bình quân đầu người đạt 60 triệu"}]}
    return good(**{**base, **over})


def check(reports: Path, *items: dict | str):
    lines = [x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in items]
    return check_text("\n".join(lines) + "\n", reports, "mine.jsonl")


def only_problem(report) -> tuple[int, str]:
    assert len(report.problems) == 1, report.text()
    return report.problems[0].line, report.problems[0].message


def test_a_good_set_passes_with_a_quote_over_a_line_break_and_odd_spacing(reports):
    spaced = good(evidence=[{"file": "muong-ang.txt", "line": 3, "quote": "Tỷ lệ  che phủ\trừng đạt 61,5%"}])
    report = check(reports, spaced, income())
    assert report.ok and not report.problems, report.text()
    assert [it["id"] for it in report.items] == ["ma-01", "ma-02"]
    assert report.summary() == "mine.jsonl: 2 items, all well formed"


def test_a_quote_given_in_decomposed_unicode_still_stands(reports):
    nfd = unicodedata.normalize("NFD", "Tỷ lệ che phủ rừng đạt 61,5%")
    assert check(reports, good(evidence=[{"file": "muong-ang.txt", "line": 3, "quote": nfd}])).ok


def test_a_line_that_is_not_json(reports):
    report = check(reports, good(), '{"id": "ma-02", "question": "Tỷ lệ', income())
    assert only_problem(report)[0] == 2 and "not valid JSON" in report.problems[0].message
    assert [it["id"] for it in report.items] == ["ma-01", "ma-02"]  # the others stay usable


@pytest.mark.parametrize(("change", "words"), [
    ({"kind": "goal"}, "kind 'goal' not one of"),
    ({"lang": "fr"}, "lang 'fr' not one of"),
    ({"period": "2030"}, "period '2030' not one of"),
    ({"communes": "Mường Ảng"}, "communes must be a list"),
    ({"answer": ""}, "answer must be a non-empty string"),
    ({"answer": 61.5}, "answer must be a non-empty string"),
    ({"question": "  "}, "question must be a non-empty string"),
    ({"must_include": [[]]}, "must_include must be a list of non-empty lists"),
    ({"must_include": []}, "needs at least one must_include group"),
    ({"evidence": [{"file": "muong-ang.txt", "line": "3", "quote": "x"}]}, "evidence line must be a positive"),
    ({"kind": "unanswerable"}, "unanswerable item must have empty must_include and evidence"),
])
def test_fields_and_allowed_values(reports, change, words):
    line, message = only_problem(check(reports, income(), good(**change)))
    assert line == 2 and words in message, message


def test_a_missing_field(reports):
    item = good()
    del item["period"]
    assert "missing field(s): period" in only_problem(check(reports, item))[1]


def test_a_quote_not_at_its_line_says_where_it_is(reports):
    line, message = only_problem(check(reports, good(evidence=[{**good()["evidence"][0], "line": 5}])))
    assert line == 1 and "quote not at muong-ang.txt:5 (it starts on line 3)" in message


def test_a_quote_that_is_not_in_the_report(reports):
    wrong = good(evidence=[{"file": "muong-ang.txt", "line": 3, "quote": "Tỷ lệ che phủ rừng đạt 65,1%"}])
    assert "it is not in the file" in only_problem(check(reports, wrong))[1]


def test_a_quote_is_verbatim_not_case_folded(reports):
    shouting = good(evidence=[{"file": "muong-ang.txt", "line": 3, "quote": "TỶ LỆ CHE PHỦ RỪNG"}])
    assert "quote not at" in only_problem(check(reports, shouting))[1]


@pytest.mark.parametrize(("evidence", "words"), [
    ({"file": "mai-son.txt", "line": 3, "quote": "x"}, "mai-son.txt is not among the reports"),
    ({"file": "../secrets.txt", "line": 1, "quote": "x"}, "file must be a report file name"),
    ({"file": "muong-ang.txt", "line": 99, "quote": "x"}, "has 6 lines, not 99"),
    ({"file": "muong-ang.txt", "line": 3, "quote": "  "}, "empty quote"),
])
def test_evidence_files_and_lines(reports, evidence, words):
    assert words in only_problem(check(reports, good(evidence=[evidence])))[1]


def test_an_uploaded_report_counts_as_soon_as_it_is_in_the_reports_folder(reports):
    later = income(evidence=[{"file": "added.txt", "line": 1, "quote": "Thu nhập đạt 60 triệu"}])
    assert "added.txt is not among the reports" in only_problem(check(reports, later))[1]
    (reports / "added.txt").write_text("Thu nhập đạt 60 triệu đồng.\n", encoding="utf-8")
    assert check(reports, later).ok


def test_a_must_include_group_the_reference_answer_does_not_match(reports):
    # the scorer's rule: "6" must stand as a whole number, so it does not match inside "60"
    line, message = only_problem(check(reports, income(must_include=[["60"], ["6", "six"]])))
    assert line == 1 and 'group ["6", "six"] does not match the reference answer' in message
    assert check(reports, income(must_include=[["60"], ["triệu đồng", "million"]])).ok
    assert check(reports, income(must_include=[["trieu dong", "million"]])).ok  # diacritics-insensitive


def test_duplicate_ids_and_repeated_questions(reports):
    report = check(reports, good(), income(id="ma-01"), income(id="ma-03"),
                   good(id="ma-04", question="tỷ lệ  che phủ rừng của xã mường ảng đến năm 2030?"))
    assert [(p.line, p.message) for p in report.problems] == [
        (2, "duplicate id 'ma-01' (first on line 1)"),
        (3, "question already asked on line 2"),
        (4, "question already asked on line 1"),
    ]


def test_the_same_follow_up_in_two_conversations_is_not_a_repeat(reports):
    a = income(id="f-1", history=[{"role": "user", "content": "Mường Ảng forest cover?"}])
    b = income(id="f-2", history=[{"role": "user", "content": "Mường Ảng income?"}])
    assert check(reports, a, b).ok


def test_every_problem_of_a_line_is_reported_at_once(reports):
    bad = income(period="2031", must_include=[["61"]], evidence=[{"file": "muong-ang.txt", "line": 1,
                                                                  "quote": "Thu nhập bình quân"}])
    messages = [p.message for p in check(reports, bad).problems]
    assert len(messages) == 3 and any("period" in m for m in messages)
    assert any("quote not at" in m for m in messages) and any("does not match" in m for m in messages)


def test_the_report_reads_by_line_and_names_the_file(reports):
    report = check(reports, good(), "[1, 2]", good(id="ma-09", kind="goal"))
    text = report.text()
    assert text.splitlines()[0] == "mine.jsonl: 3 lines, 2 with problems (lines 2, 3); 1 usable"
    assert "  mine.jsonl:2: expected a JSON object" in text
    assert "  mine.jsonl:3 (ma-09): kind 'goal'" in text
    assert report.to_json()["problems"][1] == {"line": 3, "id": "ma-09", "message": report.problems[1].message}


def test_files_that_cannot_be_used_at_all(reports, tmp_path):
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_bytes('{"question": "Mường"}'.encode("utf-16"))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    for path, words in [(utf16, "not UTF-8"), (empty, "holds no items"), (tmp_path / "none.jsonl", "cannot be read")]:
        report = check_file(path, reports)
        assert not report.ok and words in report.problems[0].message, report.text()


def test_a_bom_is_not_a_fault(reports, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_text("\ufeff" + json.dumps(good(), ensure_ascii=False) + "\n", encoding="utf-8")
    assert check_file(path, reports).ok


@pytest.mark.parametrize("name", ["public", "dev"])
def test_the_shipped_sets_pass_on_the_real_reports(name):
    report = check_file(PROJECT_ROOT / "evals" / f"{name}.jsonl", PROJECT_ROOT / "data" / "reports")
    assert report.ok, report.text()
