"""Follow-up questions that only make sense with the conversation so far."""

from __future__ import annotations

import re

import pytest

from assistant.schema import STATUS_ANSWERED, STATUS_ERROR, STATUS_NOT_FOUND


def cites(answer, file: str, line: int) -> bool:
    return any(c.file == file and c.line_start <= line <= c.line_end for c in answer.citations)


def assert_english(answer) -> None:
    own = re.sub(r"“[^”]*”", " ", answer.answer)  # the answer's own words, quotations taken out
    assert re.search(r"\b(report|reports|target|result)\b", own, re.IGNORECASE), own
    assert not re.search(r"báo cáo|mục tiêu|kết quả|nhiệm kỳ", own, re.IGNORECASE), own


def turn(assistant, question: str) -> list[dict]:
    """One earlier exchange, as the app and the batch interface pass it."""
    return [{"role": "user", "content": question},
            {"role": "assistant", "content": assistant.ask(question).answer}]


def test_and_other_commune_takes_the_topic_from_the_history(assistant):
    history = turn(assistant, "What is Mường La's forest-cover target?")
    answer = assistant.ask("And Bó Sinh?", history)
    assert answer.status == STATUS_ANSWERED
    assert "30,2" in answer.answer
    assert "51,51" not in answer.answer
    assert cites(answer, "bo-sinh.txt", 984)
    assert answer.communes == ["Bó Sinh"]
    assert answer.period == "2025-2030"
    assert_english(answer)


def test_other_period_follow_up_gives_the_2020_2025_result(assistant):
    history = turn(assistant, "What is Mường La's forest-cover target?")
    answer = assistant.ask("what about the 2020-2025 result?", history)
    assert answer.status == STATUS_ANSWERED
    assert "48,27" in answer.answer
    assert cites(answer, "muong-la.txt", 69)
    assert answer.period == "2020-2025"
    assert "2020-2025" in answer.answer


def test_compare_with_follow_up_compares_both_communes(assistant):
    first = "Chỉ tiêu tỷ lệ thu gom chất thải rắn sinh hoạt của xã Chiềng Hặc đến năm 2030 là bao nhiêu?"
    history = turn(assistant, first)
    answer = assistant.ask("so sánh với Mai Sơn", history)
    assert answer.status == STATUS_ANSWERED
    assert set(answer.communes) == {"Chiềng Hặc", "Mai Sơn"}
    assert "85,3%" in answer.answer  # chieng-hac.txt:999
    assert "98%" in answer.answer  # mai-son.txt:1645
    assert cites(answer, "chieng-hac.txt", 999)
    assert cites(answer, "mai-son.txt", 1645)


def test_vietnamese_follow_up_with_con(assistant):
    history = turn(assistant, "Tỷ lệ che phủ rừng của xã Mường La đến năm 2030 là bao nhiêu?")
    answer = assistant.ask("còn xã Bó Sinh thì sao?", history)
    assert answer.status == STATUS_ANSWERED
    assert "30,2" in answer.answer
    assert cites(answer, "bo-sinh.txt", 984)


def test_vietnamese_period_follow_up(assistant):
    history = turn(assistant, "Tỷ lệ che phủ rừng của xã Mường La đến năm 2030 là bao nhiêu?")
    answer = assistant.ask("kết quả nhiệm kỳ 2020-2025 thì sao?", history)
    assert answer.status == STATUS_ANSWERED
    assert answer.communes == ["Mường La"]
    assert "48,27" in answer.answer
    assert cites(answer, "muong-la.txt", 69)


def test_follow_up_chain_uses_the_last_full_question(assistant):
    history = turn(assistant, "What is Mường La's forest-cover target?")
    history += [{"role": "user", "content": "And Bó Sinh?"},
                {"role": "assistant", "content": "Bó Sinh: 30,2%."}]
    answer = assistant.ask("And Mai Sơn?", history)
    assert answer.status == STATUS_ANSWERED
    assert "32,5%" in answer.answer  # mai-son.txt:1612
    assert cites(answer, "mai-son.txt", 1612)


def test_a_new_full_question_is_not_rewritten_by_the_history(assistant):
    history = turn(assistant, "What is Mường La's forest-cover target?")
    answer = assistant.ask("What is Mai Sơn's health insurance target for 2030?", history)
    assert answer.status == STATUS_ANSWERED
    assert "96%" in answer.answer
    assert cites(answer, "mai-son.txt", 1629)
    assert answer.question == "What is Mai Sơn's health insurance target for 2030?"


def test_follow_up_without_history_is_not_answered_with_a_guess(assistant):
    answer = assistant.ask("And Bó Sinh?")
    assert answer.status in (STATUS_NOT_FOUND, STATUS_ERROR)
    assert answer.language == "en"  # "And …?" is English: the reply is too
    assert_english(answer)


@pytest.mark.parametrize(
    "history",
    [
        [{"role": "user"}],
        [{"role": "user", "content": None}],
        [None],
        ["What is Mường La's forest-cover target?"],
        "What is Mường La's forest-cover target?",
        [{"role": "user", "content": 5}],
    ],
)
def test_malformed_history_does_not_raise(assistant, history):
    answer = assistant.ask("And Bó Sinh?", history)
    assert answer.status in (STATUS_ANSWERED, STATUS_NOT_FOUND, STATUS_ERROR)
