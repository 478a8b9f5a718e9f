"""The Evals tab's HTML (``ui/eval_views.py``): eval-file text is shown, never run; outcomes add up.

An uploaded eval set is user input: its ids, questions and reference answers, and the answers
and report passages shown beside them, must reach the page escaped.
"""

from __future__ import annotations

from baocao.config import PROJECT_ROOT
from evals.check import check_text
from evals.history import make_record
from evals.runner import EvalRun, build_report
from evals.scoring import summarize
from ui.eval_views import check_html, failures_html, moved_html, outcome_frame

REPORTS = PROJECT_ROOT / "data" / "reports"
XSS = "<img src=x onerror=alert(1)>"


def item(**over) -> dict:
    base = {"id": f"q-{XSS}", "question": f"Forest cover {XSS}?", "lang": "en", "communes": ["Mường La"],
            "kind": "target", "period": "2025-2030", "answer": f"51,51% {XSS}", "must_include": [["51,51"]],
            "evidence": [{"file": "muong-la.txt", "line": 884, "quote": "Tỷ lệ che phủ rừng đạt 51,51%"}]}
    return {**base, **over}


def wrong_result() -> dict:
    cite = {"n": 1, "file": "muong-la.txt", "line_start": 884, "line_end": 884, "section": f"II {XSS}",
            "text": f"(7)- Tỷ lệ che phủ rừng {XSS}", "commune": "Mường La", "period": "2025-2030"}
    return {"id": "q", "status": "answered", "answer": f"48% {XSS} [1]", "citations": [cite], "latency_ms": 5.0}


def test_a_failure_shows_question_expected_answer_and_source_card_escaped():
    items, results = [item()], [wrong_result()]
    report = build_report(EvalRun(items=items, results=results), ["mine.jsonl"], [])
    html = failures_html(report, REPORTS)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'class="src-card" data-file="muong-la.txt" data-lines="884-884"' in html  # the chat's card
    assert "answered wrong" in html and 'class="fig fig-missing">51,51<' in html
    assert '<span class="ln">884</span>' in html  # the raw report lines around the citation


def test_check_report_escapes_what_the_file_holds():
    report = check_text('{"id": "' + XSS.replace('"', "'") + '", "kind": 1}\n', REPORTS, f"set{XSS}.jsonl")
    html = check_html(report)
    assert XSS not in html and "notice-error" in html and "<td>1</td>" in html


def test_outcomes_add_up_to_one_hundred_in_every_group():
    items = [item(id="a"), item(id="b", lang="vi"), item(id="c", kind="unanswerable", must_include=[], evidence=[])]
    results = [{"status": "answered", "answer": "51,51%"}, {"status": "not_found", "answer": ""},
               {"status": "answered", "answer": "12%"}]
    frame = outcome_frame(summarize(items, results))
    totals = frame.groupby("group")["percent"].sum()
    assert set(totals.index) == {"overall", "kind target", "kind unanswerable", "lang en", "lang vi"}
    assert all(abs(t - 100) < 0.2 for t in totals)
    wrong = frame[(frame.group == "overall") & (frame.outcome == "answered wrong")]["percent"].item()
    assert wrong == 33.3


def test_moved_items_are_escaped_and_marked():
    items = [item(id=f"m-{XSS}")]
    right, wrong = [{"status": "answered", "answer": "51,51%"}], [wrong_result()]
    runs = [make_record(items, res, summarize(items, res), sets=["s"], generation="g", answer_mode="extractive")
            for res in (right, wrong)]
    html = moved_html(runs)
    assert runs[0]["run_id"] != runs[1]["run_id"]  # even when made within the same second
    assert XSS not in html and "1 right → wrong" in html and 'class="broke"' in html
