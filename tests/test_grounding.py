"""The number-grounding check: every figure an answer shows must stand in a cited passage."""

from __future__ import annotations

import json

import pytest

from assistant.grounding import is_grounded, ungrounded_figures
from assistant.schema import Answer, Citation
from baocao.config import PROJECT_ROOT

ML_FOREST = "(7)- Tỷ lệ che phủ rừng đạt 51,51% trở lên."  # muong-la.txt:884
ML_FOREST_RESULT = (  # muong-la.txt:66-70
    "Chăm sóc, bảo vệ 17.732 ha diện tích rừng và 1.851 ha cây cao su, độ che phủ rừng đạt 48,27 %.")


def cite(text: str, n: int = 1) -> Citation:
    return Citation(n=n, file="muong-la.txt", line_start=884, line_end=884, section="2.1. Về kinh tế",
                    text=text)


def answer(text: str, *citations: Citation, language: str = "en") -> Answer:
    return Answer(status="answered", answer=text, citations=list(citations), language=language)


def test_figure_that_no_cited_passage_holds_is_flagged():
    a = answer("Mường La (2025-2030 target): 99% [1].\nThe report says: “…” [1]", cite(ML_FOREST))
    assert ungrounded_figures(a) == ["99%"]
    assert not is_grounded(a)


def test_figure_from_the_cited_passage_is_grounded():
    text = f"Mường La (2025-2030 target): 51,51% [1].\nThe report says: “{ML_FOREST}” [1]"
    a = answer(text, cite(ML_FOREST))
    assert ungrounded_figures(a) == []
    assert is_grounded(a)


def test_figure_is_grounded_by_any_of_several_citations():
    a = answer("Mường La: 51,51% [1]; 48,27% [2].", cite(ML_FOREST), cite(ML_FOREST_RESULT, 2))
    assert ungrounded_figures(a) == []


def test_figure_without_any_citation_is_flagged():
    assert ungrounded_figures(answer("Mường La: 51,51%.")) == ["51,51%"]


def test_spacing_inside_a_figure_does_not_matter():
    # the report writes "48,27 %" across a line break; the answer "48,27%"
    assert ungrounded_figures(answer("48,27% [1]", cite(ML_FOREST_RESULT))) == []
    assert ungrounded_figures(answer("17.732 ha [1]", cite(ML_FOREST_RESULT), language="vi")) == []


@pytest.mark.parametrize(
    "label",
    ["2025-2030", "2020-2025", "2021-2025", "2026-2030", "2020 - 2025", "2025 – 2030", "2025–2030"],
)
def test_period_labels_are_not_figures(label):
    a = answer(f"Mường La ({label}): 51,51% [1].", cite(ML_FOREST))
    assert ungrounded_figures(a) == []


def test_citation_markers_are_not_figures():
    a = answer("Mường La: 51,51% [1] [12] [3].", cite(ML_FOREST))
    assert ungrounded_figures(a) == []


def test_vietnamese_figures_with_thousands_and_decimals():
    a = answer("Bảo vệ 17.732 ha rừng, 1.851 ha cao su; che phủ 48,27% [1].", cite(ML_FOREST_RESULT), language="vi")
    assert ungrounded_figures(a) == []
    wrong = answer("Bảo vệ 17.733 ha rừng; che phủ 48,28% [1].", cite(ML_FOREST_RESULT), language="vi")
    assert set(ungrounded_figures(wrong)) == {"17.733", "48,28%"}


@pytest.mark.parametrize(("shown", "cited"), [("51.51%", ML_FOREST), ("17,732 ha", ML_FOREST_RESULT)],
                         ids=["51.51%", "17,732 ha"])
def test_english_format_of_a_cited_vietnamese_figure_is_grounded(shown, cited):
    """51.51% is 51,51% and 17,732 is 17.732 written the English way: the same figure."""
    a = answer(f"Mường La (2025-2030 target): {shown} [1].", cite(cited))
    a.language = "en"
    assert ungrounded_figures(a) == []


@pytest.mark.parametrize(("shown", "cited"), [
    ("17.732 ha", ML_FOREST_RESULT),  # 17.732 in English is not the report's 17.732 (17732) ha
    ("2.045 ha", "bảo vệ 2.045,93 ha rừng"),  # 2045.93 is 2,045.93 in English
    ("5,151%", ML_FOREST),
], ids=["17.732 ha", "2.045 ha", "5,151%"])
def test_a_wrongly_converted_figure_in_an_english_answer_is_flagged(shown, cited):
    a = answer(f"Mường La (2025-2030 target): {shown} [1].\nThe report says: “{cited}” [1]", cite(cited))
    assert ungrounded_figures(a) == [shown.split()[0]]


def test_an_english_comma_in_a_report_grounds_the_whole_number():
    """mai-son.txt:438 writes "649,652 con" the English way: 649,652 head is grounded."""
    a = answer("Mai Sơn: 649,652 head [1].", cite("Gia cầm 649,652 con;"))
    assert ungrounded_figures(a) == []


def test_quoted_report_text_keeps_the_reports_number_format():
    a = answer(f"Mường La: 48.27% [1].\nThe report says: “{ML_FOREST_RESULT}” [1]", cite(ML_FOREST_RESULT))
    assert ungrounded_figures(a) == []


def test_english_format_of_a_different_figure_is_flagged():
    a = answer("Mường La (2025-2030 target): 51.52% [1].", cite(ML_FOREST))
    a.language = "en"
    assert ungrounded_figures(a) == ["51.52%"]


@pytest.mark.parametrize(
    ("shown", "cited", "flagged"),
    [("1%", ML_FOREST, "1%"), ("5 ha", "trồng mới 15 ha rừng", "5"), ("2,5%", "đạt 12,5%", "2,5%")],
    ids=["1% in 51,51%", "5 ha in 15 ha", "2,5% in 12,5%"],
)
def test_a_figure_must_stand_whole_in_the_passage_not_inside_another(shown, cited, flagged):
    """"1%" is not grounded by "51,51%", nor "5 ha" by "15 ha"."""
    a = answer(f"Mường La: {shown} [1].", cite(cited))
    assert ungrounded_figures(a) == [flagged]


# --- end to end -------------------------------------------------------------------------------


def _public_items() -> list[dict]:
    path = PROJECT_ROOT / "evals" / "public.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("item", _public_items(), ids=lambda it: it["id"])
def test_every_public_eval_answer_is_grounded(assistant, item):
    a = assistant.ask(item["question"], item.get("history"))
    assert ungrounded_figures(a) == [], a.answer
