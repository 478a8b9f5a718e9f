"""The scorer defines what "correct" means for every number we report: pin its rules down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baocao.config import PROJECT_ROOT
from evals.scoring import (
    EvalSetError,
    item_cited,
    item_correct,
    load_eval_set,
    matches_alternative,
    normalize,
    percentile,
    retrieval_recall,
    summarize,
)

PUBLIC = PROJECT_ROOT / "evals" / "public.jsonl"
REPORTS = PROJECT_ROOT / "data" / "reports"


def make_item(**over) -> dict:
    item = {
        "id": "x-01",
        "question": "Tỷ lệ che phủ rừng?",
        "lang": "vi",
        "communes": ["Mường La"],
        "kind": "target",
        "period": "2025-2030",
        "answer": "51,51%",
        "must_include": [["51,51", "51.51"]],
        "evidence": [{"file": "muong-la.txt", "line": 100, "quote": "Tỷ lệ che phủ rừng đạt 51,51%."}],
    }
    item.update(over)
    return item


def unanswerable_item(**over) -> dict:
    return make_item(**{"id": "x-99", "kind": "unanswerable", "must_include": [], "evidence": [], **over})


def result(answer="", status="answered", citations=(), latency_ms=10.0) -> dict:
    return {"status": status, "answer": answer, "citations": list(citations), "latency_ms": latency_ms}


def cite(file="muong-la.txt", start=100, end=100, text="") -> dict:
    return {"n": 1, "file": file, "line_start": start, "line_end": end, "section": "", "text": text}


# --- normalize -----------------------------------------------------------------------------


def test_normalize_strips_diacritics_and_d_bar():
    assert normalize("Mường Lầm") == "muong lam"
    assert normalize("ĐẢNG BỘ xã Đông") == "dang bo xa dong"
    assert normalize("  Phiêng\n\tPằn  ") == "phieng pan"


def test_normalize_composes_decomposed_input():
    decomposed = "Mu\u031bo\u031b\u0300ng"  # "Mường" typed as base letters plus combining marks
    assert normalize(decomposed) == "muong"


# --- matches_alternative: text -------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "alt"),
    [
        ("Gồm xã Mường Lầm và Bó Sinh", "Muong Lam"),
        ("Includes Muong Lam commune", "Mường Lầm"),
        ("KHÔNG CÒN HỘ NGHÈO", "không còn hộ nghèo"),
        ("Hà Xuân Liêm", "ha xuan liem"),
    ],
)
def test_text_alternatives_are_case_and_diacritics_insensitive(answer, alt):
    assert matches_alternative(answer, alt)


def test_text_alternative_absent():
    assert not matches_alternative("Gồm xã Mường Lựm", "Mường Lầm")
    assert not matches_alternative("", "Mường Lầm")


# --- matches_alternative: numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "alt"),
    [
        ("Tỷ lệ che phủ rừng đạt 51,51%.", "51,51"),
        ("Forest cover reaches 51.51%.", "51.51"),
        ("Dân số 17.732 người", "17.732"),
        ("Population 17,732 people", "17,732"),
        ("Mục tiêu đạt 48.", "48"),  # sentence-final period does not continue the number
        ("đạt 48, vượt kế hoạch", "48"),  # a list comma neither
        ("đạt 48%", "48"),
        ("(48)", "48"),
        ("tăng 8-10%/năm", "8-10"),
        ("BHTN 10%", "10%"),
        ("BHTN 10 %", "10 %"),
        ("30 triệu đồng/người", "30 trieu"),
        ("đạt 80%[1] và 90%[2]", "90"),
        ("Ngày 16/6/2025", "16/6/2025"),
        ("1681 đảng viên", "1681"),
    ],
)
def test_numbers_that_match(answer, alt):
    assert matches_alternative(answer, alt)


@pytest.mark.parametrize(
    ("answer", "alt"),
    [
        ("tăng trưởng 48,13%", "48"),  # decimal comma continues the number
        ("growth 48.13%", "48"),
        ("đạt 48.5", "48"),
        ("đạt 148 tỷ", "48"),
        ("đạt 1,48%", "48"),  # right part of a decimal is not a whole number either
        ("đạt 1.48%", "48"),
        ("tỷ lệ 10%", "0%"),
        ("17.732 người", "17"),
        ("17,732 people", "17"),
        ("17.732 người", "732"),
        ("17.732 người", "17.73"),
        ("51,51%", "51.51"),  # the set lists both forms; the scorer does not convert
        ("đạt 8-10%", "8-1"),
        ("đạt 07 chỉ tiêu", "7"),
        ("Tổng 115 tỷ", "15"),
    ],
)
def test_numbers_that_must_not_match(answer, alt):
    assert not matches_alternative(answer, alt)


def test_whole_number_found_after_a_partial_occurrence():
    # the first "48" is part of 48,13; the second stands alone and must be found
    assert matches_alternative("từ 48,13% lên 48%", "48")


def test_citation_markers_do_not_count_as_numbers():
    assert not matches_alternative("Tỷ lệ đạt như báo cáo [3].", "3")
    assert not matches_alternative("Xem [1, 7].", "7")
    assert matches_alternative("Có 3 trường [1].", "3")


# --- item_correct / item_cited -------------------------------------------------------------


def test_correct_needs_every_group():
    item = make_item(must_include=[["80"], ["90"]])
    assert item_correct(item, result("đạt 80% và 90%"))
    assert not item_correct(item, result("đạt 80%"))
    assert not item_correct(item, result("đạt 80% và 90%", status="not_found"))


def test_correct_any_alternative_in_group():
    item = make_item()
    assert item_correct(item, result("Forest cover 51.51% by 2030"))
    assert item_correct(item, result("che phủ rừng 51,51%"))
    assert not item_correct(item, result("che phủ rừng 51%"))


def test_unanswerable_is_correct_only_when_refused():
    item = unanswerable_item()
    assert item_correct(item, result("Báo cáo không có thông tin.", status="not_found"))
    assert not item_correct(item, result("Có lẽ là 51,51%", status="answered"))
    assert not item_correct(item, result("", status="error"))
    assert item_cited(item, result("", status="not_found"))
    assert not item_cited(item, result("51,51", status="answered"))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (100, 100, True),  # exact
        (95, 105, True),  # inside
        (101, 104, True),  # starts one line after the evidence line
        (96, 99, True),  # ends one line before it
        (102, 110, False),  # two lines after
        (90, 98, False),  # two lines before
    ],
)
def test_cited_line_range_has_one_line_of_slack(start, end, expected):
    item = make_item()
    assert item_cited(item, result("51,51%", citations=[cite(start=start, end=end)])) is expected


def test_cited_requires_matching_file():
    item = make_item()
    assert not item_cited(item, result("51,51%", citations=[cite(file="bo-sinh.txt")]))
    assert item_cited(item, result("51,51%", citations=[cite(file="data/reports/muong-la.txt")]))


def test_cited_by_quote_across_line_breaks_and_diacritics():
    item = make_item()
    text = "... mục tiêu: Tỷ lệ che phủ\nrừng   đạt 51,51%. Tiếp theo ..."
    assert item_cited(item, result("51,51%", citations=[cite(start=300, end=305, text=text)]))
    # joined lines may gain or lose a space ("phủ\nrừng" -> "phủrừng", a footnote split "51,51 %")
    squeezed = "Tỷ lệ che phủrừng đạt 51,51 %."
    assert item_cited(item, result("51,51%", citations=[cite(start=300, end=305, text=squeezed)]))
    other = "Tỷ lệ che phủ rừng đạt 50%."
    assert not item_cited(item, result("51,51%", citations=[cite(start=300, end=305, text=other)]))


def test_cited_requires_correct_and_any_citation():
    item = make_item()
    assert not item_cited(item, result("51,51%"))  # no citations
    assert not item_cited(item, result("50%", citations=[cite()]))  # cited but wrong
    assert item_cited(item, result("51,51%", citations=[cite(file="bo-sinh.txt"), cite()]))


# --- summarize / recall --------------------------------------------------------------------


def test_summarize_counts():
    items = [
        make_item(id="a", lang="en"),
        make_item(id="b", lang="vi", kind="result"),
        unanswerable_item(id="c", lang="vi"),
        unanswerable_item(id="d", lang="en"),
    ]
    results = [
        result("51.51%", citations=[cite()], latency_ms=10),
        result("", status="not_found", latency_ms=20),  # false refusal
        result("", status="not_found", latency_ms=30),
        result("51,51%", latency_ms=40),  # guessed instead of refusing
    ]
    s = summarize(items, results)
    assert s["n"] == 4 and s["correct"] == 2 and s["accuracy"] == 0.5
    assert s["cited_accuracy"] == 0.5
    assert s["by_kind"]["target"] == {"n": 1, "correct": 1, "accuracy": 1.0, "cited_accuracy": 1.0,
                                      "answered_wrong": 0, "answered_wrong_rate": 0.0}
    assert s["by_kind"]["result"]["accuracy"] == 0.0
    assert s["by_kind"]["unanswerable"]["accuracy"] == 0.5
    assert s["by_lang"]["en"]["correct"] == 1 and s["by_lang"]["vi"]["correct"] == 1
    assert s["unanswerable"] == {"n": 2, "refused": 1, "refusal_rate": 0.5}
    assert s["false_refusals"] == {"n": 2, "count": 1, "rate": 0.5}
    assert s["latency_ms"]["p50"] == pytest.approx(25.0)
    assert s["latency_ms"]["p95"] == pytest.approx(38.5)


def test_answered_wrong_counts_confident_wrong_answers_not_refusals():
    """Answered with the wrong figure, or any answer to an unanswerable item; a refusal is not 'answered wrong'."""
    items = [
        make_item(id="right", lang="en"),
        make_item(id="wrong-figure", lang="en"),
        make_item(id="refused", lang="vi", kind="result"),
        unanswerable_item(id="guessed", lang="vi"),
        unanswerable_item(id="declined", lang="vi"),
    ]
    results = [
        result("51,51%"),
        result("48,13%"),
        result("", status="not_found"),
        result("51,51%"),
        result("", status="not_found"),
    ]
    s = summarize(items, results)
    assert (s["answered_wrong"], s["answered_wrong_rate"]) == (2, 0.4)
    assert s["by_lang"]["en"]["answered_wrong"] == 1 and s["by_lang"]["vi"]["answered_wrong"] == 1
    assert s["by_kind"]["unanswerable"]["answered_wrong_rate"] == 0.5
    assert s["by_kind"]["result"]["answered_wrong"] == 0  # a false refusal costs accuracy, not confidence


def test_summarize_by_id_counts_missing_results_as_wrong():
    items = [make_item(id="a"), make_item(id="b")]
    s = summarize(items, {"a": result("51,51")})
    assert s["correct"] == 1 and s["accuracy"] == 0.5


def test_summarize_rejects_misaligned_lists():
    with pytest.raises(ValueError):
        summarize([make_item()], [])


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4], 50) == 2.5


def test_retrieval_recall():
    items = [
        make_item(id="a"),
        make_item(id="b", evidence=[{"file": "bo-sinh.txt", "line": 951, "quote": "q"}]),
        make_item(id="c"),
        unanswerable_item(id="u"),
    ]
    retrieved = {
        "a": [("muong-la.txt", 101, 120)],  # rank 1, evidence line one before start
        "b": [("bo-sinh.txt", 900, 940), ("muong-la.txt", 951, 951), ("x", 1, 2), ("bo-sinh.txt", 940, 950)],
        "c": [("muong-la.txt", 102, 120)],  # two lines off: a miss
        "u": [("muong-la.txt", 100, 100)],  # unanswerable: not scored
    }
    r = retrieval_recall(items, retrieved)
    assert r["n"] == 3
    assert r["recall@1"] == pytest.approx(1 / 3)
    assert r["recall@3"] == pytest.approx(1 / 3)
    assert r["recall@5"] == pytest.approx(2 / 3)
    assert r["recall@10"] == pytest.approx(2 / 3)
    assert r["mrr"] == pytest.approx((1 + 1 / 4) / 3)


# --- loading -------------------------------------------------------------------------------


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_reports_malformed_json_with_line_number(tmp_path):
    good = json.dumps(make_item(id="a"), ensure_ascii=False)
    path = write_jsonl(tmp_path / "set.jsonl", [good, "", '{"id": "b", "question": '])
    with pytest.raises(EvalSetError, match=r"set\.jsonl:3: not valid JSON"):
        load_eval_set(path)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({k: v for k, v in make_item(id="b").items() if k != "must_include"}, "missing field.*must_include"),
        (make_item(id="b", kind="guess"), "kind 'guess'"),
        (make_item(id="b", lang="fr"), "lang 'fr'"),
        (make_item(id="a"), "duplicate id 'a'"),
        (make_item(id="b", must_include=[[]]), "must_include"),
        (make_item(id="b", evidence=[{"file": "f.txt", "line": "9", "quote": "q"}]), "evidence line"),
        (make_item(id="b", kind="unanswerable"), "unanswerable item must have empty"),
        (make_item(id="b", history=[{"role": "bot", "content": "x"}]), "history"),
    ],
)
def test_load_reports_invalid_item_with_line_number(tmp_path, bad, message):
    lines = [json.dumps(make_item(id="a")), json.dumps(bad, ensure_ascii=False)]
    path = write_jsonl(tmp_path / "set.jsonl", lines)
    with pytest.raises(EvalSetError, match=rf":2: .*{message}"):
        load_eval_set(path)


def test_public_set_loads_and_every_quote_starts_at_its_line():
    items = load_eval_set(PUBLIC)
    assert len(items) >= 50
    assert {it["kind"] for it in items} == {"target", "result", "fact", "list", "comparison", "unanswerable"}
    squash = lambda s: normalize(s).replace(" ", "")  # noqa: E731
    for it in items:
        for ev in it["evidence"]:
            lines = (REPORTS / ev["file"]).read_text(encoding="utf-8").splitlines()
            first = squash(lines[ev["line"] - 1])
            window = squash(" ".join(lines[ev["line"] - 1 : ev["line"] + 20]))
            quote = squash(ev["quote"])
            assert quote in window, f"{it['id']}: quote not at {ev['file']}:{ev['line']}"
            assert window.find(quote) < len(first), f"{it['id']}: quote does not start on its line"


def test_public_reference_answers_pass_their_own_must_include():
    """Each reference answer should satisfy its own must_include: catches typos in the set."""
    for it in load_eval_set(PUBLIC):
        if it["kind"] == "unanswerable":
            continue
        assert item_correct(it, result(it["answer"])), it["id"]
