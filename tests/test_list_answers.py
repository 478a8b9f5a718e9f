"""List questions are answered with every item of the list they name, in the report's order.

Questions are written from the reports for this test; none is in an eval set.
"""

from __future__ import annotations

import pytest

from index.text import fold


def _lines_in_order(answer) -> bool:
    starts = [c.line_start for c in answer.citations]
    return starts == sorted(starts) and len({c.file for c in answer.citations}) == 1


@pytest.mark.parametrize("commune", ["Bó Sinh", "Mai Sơn", "Mường La", "Phiêng Pằn"])
def test_lessons_are_listed_whole(assistant, commune):
    answer = assistant.ask(f"Nêu các bài học kinh nghiệm của Đảng bộ xã {commune} nhiệm kỳ 2020-2025.")
    assert answer.status == "answered", answer.answer
    assert len(answer.citations) >= 3, answer.answer  # every lesson, not the one nearest the question
    assert all("bai hoc" in fold(c.section) for c in answer.citations), [c.section for c in answer.citations]
    assert _lines_in_order(answer)


def test_lessons_in_english_come_whole_and_in_order(assistant):
    answer = assistant.ask("What lessons did Phiêng Pằn's Party Committee draw from the 2020-2025 term?")
    assert answer.status == "answered", answer.answer
    assert len(answer.citations) >= 3 and _lines_in_order(answer), answer.answer
    assert answer.answer.startswith("Phiêng Pằn")  # worded in English, quoting the Vietnamese items
