"""The Compare matrix and the Scorecard, shaped from the real fact records of the five reports.

A user trusts a cell only if it says what the report says where it says it: every figure must
stand in the cited lines of the cited file, a commune without the indicator must read as missing
(never 0), the exports must hold exactly the matrix on screen, and report text must never become
markup in the page.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pytest

from baocao.config import PROJECT_ROOT
from index.cleaning import ROLE_FOOTNOTE, clean_lines
from index.text import squash
from ui.compare import matrix_html
from ui.matrix import (
    PERIODS,
    cells_frame,
    chart_frame,
    chartable,
    citation,
    export_files,
    matrix,
    matrix_frame,
    score_counts,
    scorecard,
    value_text,
)
from ui.scorecard import _row

REPORTS = PROJECT_ROOT / "data" / "reports"
COMPARED = ["2025-2030", "2020-2025"]


@lru_cache(maxsize=8)
def report(file: str) -> tuple:
    return tuple(clean_lines((REPORTS / file).read_text(encoding="utf-8").split("\n")))


def cited_lines(file: str, start: int, end: int, skip_footnotes: bool = False) -> str:
    """The cited lines as the index reads them (footnote markers split off "54,57%2."), squashed.

    ``skip_footnotes``: without the footnote bodies a page break dropped into the middle of a paragraph.
    """
    lines = report(file)[start - 1:end]
    return squash(" ".join(line.text for line in lines if not (skip_footnotes and line.role == ROLE_FOOTNOTE)))


def quoted_in(text: str, file: str, start: int, end: int) -> bool:
    return any(squash(text) in cited_lines(file, start, end, skip) for skip in (False, True))


@pytest.fixture(scope="module")
def communes(assistant) -> list[str]:
    return assistant.registry.names()


@pytest.fixture(scope="module")
def rows(assistant, communes) -> dict[str, list]:
    return {p: matrix(assistant.facts(period=p), p, communes) for p in PERIODS}


@pytest.mark.parametrize("period", COMPARED)
def test_rows_are_indicators_two_or_more_communes_state(assistant, communes, rows, period) -> None:
    facts = assistant.facts(period=period)
    stated = {(f["indicator_key"], f["commune"]) for f in facts if f["indicator_key"]}
    keys = {k for k, _ in stated}
    shared = {k for k in keys if sum((k, c) in stated for c in communes) >= 2}
    assert rows[period], f"no indicator is aligned across communes for {period}"
    assert {r.key for r in rows[period]} == shared  # every shared key is a row, nothing else
    for row in rows[period]:
        assert set(row.cells) == set(communes)
        for commune, cell in row.cells.items():
            assert (cell is not None) == ((row.key, commune) in stated), (row.key, commune)
            if cell is not None:  # the cell's figure plus every other one the report gives, each cited
                same = [f for f in facts if (f["indicator_key"], f["commune"]) == (row.key, commune)]
                assert len(cell.others) + 1 == len(same)
                cited = {citation(f["file"], f["line_start"], f["line_end"]) for f in same}
                assert {c for _, _, c in cell.others} <= cited


@pytest.mark.parametrize("period", list(PERIODS))
def test_every_cell_cites_lines_that_hold_its_figure(assistant, rows, period) -> None:
    by_id = {f["id"]: f for f in assistant.facts(period=period)}
    for row in rows[period]:
        for commune, cell in row.cells.items():
            if cell is None:
                continue
            record = by_id[cell.record_id]
            assert (record["commune"], record["indicator_key"], record["file"]) == (commune, row.key, cell.file)
            assert (record["line_start"], record["line_end"]) == (cell.line_start, cell.line_end)
            lines = cited_lines(cell.file, cell.line_start, cell.line_end)
            assert quoted_in(cell.text, cell.file, cell.line_start, cell.line_end), (cell.citation, cell.text)
            for value in record["values"]:
                assert squash(value["text"]) in lines, (cell.citation, value)
                assert value["text"] in cell.figure  # the figure as written, not reformatted
            assert cell.citation.startswith(f"{cell.file}:{cell.line_start}")


def test_missing_cells_read_missing_and_stay_out_of_the_chart(rows, communes) -> None:
    gaps = [(p, r, c) for p in COMPARED for r in rows[p] for c, cell in r.cells.items() if cell is None]
    assert gaps, "every commune states every aligned indicator: nothing to check"
    for period, row, commune in gaps:
        frame = matrix_frame([row], communes)
        assert frame.loc[0, commune] == "" and frame.loc[0, f"{commune} source"] == ""
        assert commune not in set(chart_frame(row)[0]["commune"])
        html = matrix_html([row], communes, period)
        assert 'title="not in report"' in html
        assert f'data-commune="{commune}"' not in html


def test_chart_shows_one_unit_and_only_stated_numbers(rows) -> None:
    charted = chartable(rows["2025-2030"])
    assert charted
    for row in charted:
        frame, unit = chart_frame(row)
        assert len(frame) >= 2
        for commune, value in zip(frame["commune"], frame["value"], strict=True):
            cell = row.cells[commune]
            assert cell.unit == unit and cell.number == value


@pytest.mark.parametrize("period", COMPARED)
def test_csv_and_xlsx_open_with_pandas_and_hold_the_matrix(rows, communes, period, tmp_path) -> None:
    csv_path, xlsx_path = export_files(rows[period], communes, period, tmp_path)
    expected = matrix_frame(rows[period], communes)
    read_csv = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    read_xlsx = pd.read_excel(xlsx_path, sheet_name=None, dtype=str, keep_default_na=False)
    assert list(read_csv.columns) == list(expected.columns)  # the BOM does not leak into the first name
    pd.testing.assert_frame_equal(read_csv, expected.astype(str), check_dtype=False)
    pd.testing.assert_frame_equal(read_xlsx["matrix"], expected.astype(str), check_dtype=False)
    evidence = read_xlsx["cells"]
    assert len(evidence) == len(cells_frame(rows[period])) == sum(r.present for r in rows[period])
    again = export_files(rows[period], communes, period, tmp_path)
    assert again == (csv_path, xlsx_path) and len(list(tmp_path.iterdir())) == 2  # same content, same files


def test_scorecard_of_each_commune_is_cited_and_counted(assistant, communes) -> None:
    assessed_somewhere = False
    for commune in communes:
        rows = scorecard(assistant.facts(period="2020-2025", commune=commune), commune)
        counts = score_counts(rows)
        assert sum(counts.values()) == len(rows)
        for r in rows:
            assert quoted_in(r.text, r.file, r.line_start, r.line_end), r.citation
            assert r.plan or r.ratio or r.assessment
            assert r.status in {"met", "not met", None}
            assessed_somewhere |= r.status is not None
    assert assessed_somewhere


def test_scorecard_row_reads_plan_result_ratio_and_assessment_from_the_table(assistant) -> None:
    """bo-sinh.txt:1590, the appendix table of former commune Chiềng En: plan 18, result 27,5, 152,7%, Vượt."""
    rows = [r for r in scorecard(assistant.facts(period="2020-2025", commune="Bó Sinh"), "Bó Sinh")
            if r.file == "bo-sinh.txt" and r.line_start <= 1590 <= r.line_end]
    assert len(rows) == 1
    (row,) = rows
    assert row.plan.startswith("18") and row.result.startswith("27,5") and row.ratio == "152,7%"
    assert row.status == "met" and row.assessment.startswith("vượt") and row.unit == "Chiềng En"


# --- pure shaping on hand-made records (what no report happens to contain) ----------------------

def record(commune: str, text: str, **extra) -> dict:
    base = {"id": f"{commune}:1", "commune": commune, "unit": None, "period": "2025-2030", "indicator": "Tỷ lệ x",
            "indicator_en": "X rate", "indicator_key": "x_rate", "plan": None, "ratio": None, "assessment": None,
            "source": "target_list", "file": "x.txt", "line_start": 3, "line_end": 4, "section": "§",
            "text": text, "values": [{"number": 5.0, "high": None, "text": "5%", "unit": "%", "qualifier": None}]}
    return {**base, **extra}


def test_report_text_is_shown_as_text_never_as_markup() -> None:
    hostile = '<img src="http://example.com/x.png" onerror="alert(1)"> [link](http://example.com) **5%**'
    rows = matrix([record("A", hostile), record("B", "<script>x()</script> 5%")], "2025-2030", ["A", "B"])
    html = matrix_html(rows, ["A", "B"], "2025-2030")
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=&quot;http://example.com/x.png&quot;" in html and "&lt;script&gt;" in html
    card = _row(scorecard([record("A", hostile, period="2020-2025", assessment="đạt")], "A")[0])
    assert "<img" not in card and "&lt;img" in card


def test_values_keep_their_wording_unit_and_qualifier() -> None:
    assert value_text({"text": "51,51%", "unit": "%", "qualifier": "at_least"}) == "51,51% (at least)"
    assert value_text({"text": "3.550", "unit": "con", "qualifier": None}) == "3.550 con"
    assert value_text({"text": "không còn hộ nghèo", "unit": "", "qualifier": "zero"}) == \
        "không còn hộ nghèo (none left)"


def test_a_cell_prefers_the_whole_commune_over_a_former_commune() -> None:
    former = record("A", "x", unit="Chiềng En", line_start=1)
    namesake = record("A", "w", unit="A", line_start=2, line_end=2)  # the former commune A, not the merged one
    whole = record("A", "y", line_start=9, line_end=9)
    cell = matrix([former, namesake, whole, record("B", "z")], "2025-2030", ["A", "B"])[0].cells["A"]
    assert cell.line_start == 9
    assert cell.others == (("5%", "Chiềng En", "x.txt:1-4"), ("5%", "A", "x.txt:2"))  # the rest, cited too
