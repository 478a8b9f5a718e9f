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


# --- follow-ups that compare, rank, switch period, or add a commune to a table (issue 14, class 7) -----------
# Checked against the reports: health insurance 2030 — Mường La 98% trở lên (muong-la:900), Mai Sơn 96%
# (mai-son:1629), Phiêng Pằn 100 % trở lên (phieng-pan:1336); forest cover — 2030: Chiềng Hặc 54,63%
# (chieng-hac:979), Phiêng Pằn 48% (phieng-pan:1375), Mường La 51,51% (muong-la:884); 2020-2025: Chiềng Hặc
# 54,57% (chieng-hac:138), Phiêng Pằn 48,13% (phieng-pan:325); Chiềng Hặc poor households 528 → 428 (983-985).


def converse(assistant, questions: list[str]) -> list:
    """Ask each question with the conversation so far (our own answers as the assistant turns)."""
    history: list[dict] = []
    answers = []
    for question in questions:
        answer = assistant.ask(question, history)
        answers.append(answer)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
    return answers


def rows(answer) -> dict:
    assert answer.table is not None, answer.answer
    return {r.commune: r for r in answer.table}


def row_cites(answer, commune: str, file: str, line: int) -> bool:
    row = rows(answer)[commune]
    return any(c.n == row.citation and c.file == file and c.line_start <= line <= c.line_end
               for c in answer.citations)


def verdict(answer) -> str:
    return answer.answer.strip().splitlines()[-1]


def test_compare_them_compares_every_commune_named_so_far(assistant):
    *_, answer = converse(assistant, ["What is Mường La's health insurance target?", "And Phiêng Pằn?",
                                      "compare them"])
    assert answer.status == STATUS_ANSWERED
    assert set(rows(answer)) == {"Mường La", "Phiêng Pằn"}
    assert row_cites(answer, "Mường La", "muong-la.txt", 900)
    assert row_cites(answer, "Phiêng Pằn", "phieng-pan.txt", 1336)
    assert answer.period == "2025-2030"


def test_so_sanh_hai_xa_nay_compares_the_two_communes_of_the_conversation(assistant):
    *_, answer = converse(assistant, ["Tỷ lệ dân số tham gia bảo hiểm y tế của xã Mai Sơn đến năm 2030?",
                                      "còn xã Mường La thì sao?", "so sánh hai xã này"])
    assert answer.status == STATUS_ANSWERED
    assert set(rows(answer)) == {"Mai Sơn", "Mường La"}
    assert row_cites(answer, "Mai Sơn", "mai-son.txt", 1629)
    assert row_cites(answer, "Mường La", "muong-la.txt", 900)
    assert "bảo hiểm y tế" in answer.answer.splitlines()[0]  # the table is headed in the question's words


def test_which_is_lower_names_the_lower_commune(assistant):
    *_, answer = converse(assistant, ["What is Mai Sơn's health insurance target for 2030?",
                                      "what about Mường La?", "which is lower?"])
    assert answer.status == STATUS_ANSWERED
    assert set(rows(answer)) == {"Mai Sơn", "Mường La"}
    assert "Mai Sơn" in verdict(answer) and "96%" in verdict(answer), verdict(answer)
    assert re.search(r"lowest", verdict(answer), re.IGNORECASE)


def test_xa_nao_cao_hon_typed_without_diacritics_names_the_higher_commune(assistant):
    *_, answer = converse(assistant, ["ty le che phu rung cua xa Phieng Pan den nam 2030",
                                      "con xa Chieng Hac?", "xa nao cao hon?"])
    assert answer.status == STATUS_ANSWERED
    assert set(rows(answer)) == {"Phiêng Pằn", "Chiềng Hặc"}
    assert "Chiềng Hặc" in verdict(answer) and "54,63" in verdict(answer), verdict(answer)
    assert row_cites(answer, "Chiềng Hặc", "chieng-hac.txt", 979)


def test_period_follow_up_after_a_table_gives_the_table_for_that_period(assistant):
    first, answer = converse(assistant, ["Compare the 2030 forest-cover targets of Chiềng Hặc and Phiêng Pằn",
                                         "and in 2020-2025?"])
    assert first.period == "2025-2030"
    assert answer.status == STATUS_ANSWERED
    assert answer.period == "2020-2025"
    assert set(rows(answer)) == {"Chiềng Hặc", "Phiêng Pằn"}
    assert row_cites(answer, "Chiềng Hặc", "chieng-hac.txt", 138)
    assert row_cites(answer, "Phiêng Pằn", "phieng-pan.txt", 325)
    assert "54,63" not in answer.answer and "54.63" not in answer.answer  # the 2030 target is not repeated


def test_con_nhiem_ky_truoc_switches_to_the_previous_term(assistant):
    _, answer = converse(assistant, ["Chỉ tiêu tỷ lệ che phủ rừng của xã Chiềng Hặc đến năm 2030?",
                                     "còn nhiệm kỳ trước?"])
    assert answer.status == STATUS_ANSWERED
    assert answer.period == "2020-2025"
    assert answer.communes == ["Chiềng Hặc"]
    assert "54,57" in answer.answer.splitlines()[0]
    assert cites(answer, "chieng-hac.txt", 138)


def test_what_was_achieved_asks_for_the_result_of_the_same_topic(assistant):
    _, answer = converse(assistant, ["What is Chiềng Hặc's forest-cover target?", "what was achieved?"])
    assert answer.status == STATUS_ANSWERED
    assert answer.period == "2020-2025"
    assert "54.57%" in answer.answer.splitlines()[0]
    assert cites(answer, "chieng-hac.txt", 138)


def test_a_new_commune_after_a_table_is_added_to_the_table(assistant):
    """After a table of two communes, "and Mường La?" shows the same table with Mường La added."""
    _, answer = converse(assistant, ["Compare the 2030 forest-cover targets of Chiềng Hặc and Phiêng Pằn",
                                     "and Mường La?"])
    assert answer.status == STATUS_ANSWERED
    assert list(rows(answer)) == ["Chiềng Hặc", "Phiêng Pằn", "Mường La"]
    assert row_cites(answer, "Mường La", "muong-la.txt", 884)
    assert row_cites(answer, "Chiềng Hặc", "chieng-hac.txt", 979)


def test_a_commune_already_in_the_table_is_answered_alone(assistant):
    *_, answer = converse(assistant, ["Compare the 2030 forest-cover targets of Chiềng Hặc and Phiêng Pằn",
                                      "and Mường La?", "and Phiêng Pằn?"])
    assert answer.status == STATUS_ANSWERED
    assert answer.table is None
    assert answer.communes == ["Phiêng Pằn"]
    assert cites(answer, "phieng-pan.txt", 1375)


def test_a_period_chosen_in_a_follow_up_stays_for_the_next_one(assistant):
    *_, answer = converse(assistant, ["What is Chiềng Hặc's forest-cover target?", "and in 2020-2025?",
                                      "And Phiêng Pằn?"])
    assert answer.status == STATUS_ANSWERED
    assert answer.period == "2020-2025"
    assert cites(answer, "phieng-pan.txt", 325)


def test_a_new_topic_led_by_and_keeps_the_commune(assistant):
    _, answer = converse(assistant, ["What is Mường La's forest-cover target?", "and the health insurance target?"])
    assert answer.status == STATUS_ANSWERED
    assert answer.communes == ["Mường La"]
    assert cites(answer, "muong-la.txt", 900)


def test_a_complete_question_after_a_table_is_answered_on_its_own(assistant):
    _, answer = converse(assistant, ["Compare the 2030 forest-cover targets of Chiềng Hặc and Phiêng Pằn",
                                     "How many poor households should Chiềng Hặc have left by 2030?"])
    assert answer.status == STATUS_ANSWERED
    assert answer.table is None
    assert answer.communes == ["Chiềng Hặc"]
    assert "428" in answer.answer.splitlines()[0]
    assert cites(answer, "chieng-hac.txt", 984)
    assert answer.question == "How many poor households should Chiềng Hặc have left by 2030?"


def test_the_topic_comes_from_the_last_question_that_had_one(assistant):
    """Follow-ups without a topic of their own never become the topic: the chain keeps health insurance."""
    *_, answer = converse(assistant, ["What is Mai Sơn's health insurance target for 2030?", "which is higher?",
                                      "and Phiêng Pằn?", "compare them"])
    assert answer.status == STATUS_ANSWERED
    assert {"Mai Sơn", "Phiêng Pằn"} <= set(rows(answer))
    assert row_cites(answer, "Mai Sơn", "mai-son.txt", 1629)
    assert row_cites(answer, "Phiêng Pằn", "phieng-pan.txt", 1336)


def test_compare_them_without_any_conversation_is_not_a_guess(assistant):
    answer = assistant.ask("compare them")
    assert answer.status in (STATUS_NOT_FOUND, STATUS_ERROR)


@pytest.mark.parametrize("follow_up", ["the same for all communes", "các xã khác thì sao?"])
def test_all_communes_follow_up_gives_every_communes_row(assistant, follow_up):
    _, answer = converse(assistant, ["What is Mường La's forest-cover target?", follow_up])
    assert answer.status == STATUS_ANSWERED
    assert set(rows(answer)) == {"Mường La", "Bó Sinh", "Chiềng Hặc", "Mai Sơn", "Phiêng Pằn"}
    assert row_cites(answer, "Chiềng Hặc", "chieng-hac.txt", 979)
    assert row_cites(answer, "Mường La", "muong-la.txt", 884)


def test_cue_words_typed_with_or_without_diacritics_resolve_alike(assistant):
    with_marks = converse(assistant, ["Tỷ lệ che phủ rừng của xã Mường La đến năm 2030?", "còn nhiệm kỳ trước?"])[-1]
    without = converse(assistant, ["Tỷ lệ che phủ rừng của xã Mường La đến năm 2030?", "con nhiem ky truoc?"])[-1]
    assert with_marks.status == without.status == STATUS_ANSWERED
    assert with_marks.period == without.period == "2020-2025"
    assert [c.line_start for c in with_marks.citations][:1] == [c.line_start for c in without.citations][:1]
    assert cites(without, "muong-la.txt", 69)
