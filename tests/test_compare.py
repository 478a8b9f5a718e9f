"""Comparisons across communes: one row per commune, its figure and citation; missing ≠ zero.

Checked against the reports:
- 2030 forest cover: Mường La 51,51% (muong-la:884), Bó Sinh 30,2% (bo-sinh:984), Chiềng Hặc 54,63%
  (chieng-hac:979), Mai Sơn 32,5% (mai-son:1612), Phiêng Pằn 48% (phieng-pan:1375).
- 2030 poverty: Mường La −2%/năm (muong-la:896), Bó Sinh −2%/năm (bo-sinh:968), Chiềng Hặc 528 → 428 hộ
  (chieng-hac:983-985), Mai Sơn no poor households left (mai-son:1623-1627), Phiêng Pằn below 20%
  (phieng-pan:1339).
- 2030 tourism revenue: Mường La 54 tỷ (muong-la:875-876), Mai Sơn 3 tỷ (mai-son:1600-1602), Chiềng Hặc
  954 triệu (chieng-hac:970-972); Bó Sinh and Phiêng Pằn set no tourism target (no "lượt khách" or
  tourism-revenue figure in their target lists).
"""

from __future__ import annotations

import re

from assistant.schema import STATUS_ANSWERED

ALL = {"Mường La", "Bó Sinh", "Chiềng Hặc", "Mai Sơn", "Phiêng Pằn"}


def rows_by_commune(answer) -> dict:
    assert answer.table is not None, answer.answer
    communes = [r.commune for r in answer.table]
    assert len(communes) == len(set(communes)), communes  # one row per commune
    return {r.commune: r for r in answer.table}


def citation_of(answer, row):
    assert row.citation is not None, row
    found = [c for c in answer.citations if c.n == row.citation]
    assert len(found) == 1, (row, answer.citations)
    return found[0]


def covers(citation, file: str, line: int) -> bool:
    return citation.file == file and citation.line_start <= line <= citation.line_end


def test_compare_two_communes_forest_cover(assistant):
    answer = assistant.ask("Compare the 2030 forest-cover targets of Mường La and Bó Sinh")
    assert answer.status == STATUS_ANSWERED
    rows = rows_by_commune(answer)
    assert set(rows) == {"Mường La", "Bó Sinh"}
    assert "51,51" in rows["Mường La"].figure
    assert "30,2" in rows["Bó Sinh"].figure
    assert covers(citation_of(answer, rows["Mường La"]), "muong-la.txt", 884)
    assert covers(citation_of(answer, rows["Bó Sinh"]), "bo-sinh.txt", 984)
    assert "51,51" in answer.answer and "30,2" in answer.answer
    assert answer.period == "2025-2030"


def test_vietnamese_comparison_of_two_communes(assistant):
    answer = assistant.ask("so sanh chi tieu ty le che phu rung den nam 2030 cua Chieng Hac va Mai Son")
    assert answer.status == STATUS_ANSWERED
    rows = rows_by_commune(answer)
    assert set(rows) == {"Chiềng Hặc", "Mai Sơn"}
    assert "54,63" in rows["Chiềng Hặc"].figure
    assert "32,5" in rows["Mai Sơn"].figure
    assert covers(citation_of(answer, rows["Chiềng Hặc"]), "chieng-hac.txt", 979)
    assert covers(citation_of(answer, rows["Mai Sơn"]), "mai-son.txt", 1612)


def test_highest_forest_cover_target_is_chieng_hac(assistant):
    answer = assistant.ask("Which of the five communes has the highest forest-cover target for 2030?")
    assert answer.status == STATUS_ANSWERED
    rows = rows_by_commune(answer)
    assert set(rows) == ALL
    assert "54,63" in rows["Chiềng Hặc"].figure
    assert covers(citation_of(answer, rows["Chiềng Hặc"]), "chieng-hac.txt", 979)
    verdict = answer.answer.strip().splitlines()[-1]
    assert "Chiềng Hặc" in verdict and "54.63" in verdict, verdict  # an English answer writes 54,63 as 54.63
    assert re.search(r"highest", verdict, re.IGNORECASE)


def test_lowest_forest_cover_target_is_bo_sinh(assistant):
    answer = assistant.ask("Which commune has the lowest forest cover target for 2030?")
    assert answer.status == STATUS_ANSWERED
    verdict = answer.answer.strip().splitlines()[-1]
    assert "Bó Sinh" in verdict and "30.2" in verdict, verdict


def test_poverty_targets_of_all_communes_one_cited_row_each(assistant):
    answer = assistant.ask("list the poverty targets of all communes")
    assert answer.status == STATUS_ANSWERED
    rows = rows_by_commune(answer)
    assert set(rows) == ALL
    expected = {"Mường La": ("muong-la.txt", 896), "Bó Sinh": ("bo-sinh.txt", 968),
                "Chiềng Hặc": ("chieng-hac.txt", 983), "Mai Sơn": ("mai-son.txt", 1625),
                "Phiêng Pằn": ("phieng-pan.txt", 1339)}
    for commune, (file, line) in expected.items():
        assert covers(citation_of(answer, rows[commune]), file, line), commune


def test_poverty_row_shows_the_2030_target_not_the_2025_baseline(assistant):
    rows = rows_by_commune(assistant.ask("list the poverty targets of all communes"))
    # 528 households is the 2025 baseline; 428 is the 2030 target
    assert "428" in (rows["Chiềng Hặc"].figure or ""), rows["Chiềng Hặc"]
    assert "2%" in rows["Mường La"].figure and "2%" in rows["Bó Sinh"].figure
    assert "20%" in rows["Phiêng Pằn"].figure


def test_a_period_label_is_never_shown_as_a_commune_figure(assistant):
    rows = rows_by_commune(assistant.ask("list the poverty targets of all communes"))
    for row in rows.values():  # Mai Sơn's item starts "… giai đoạn 2026-2030": a period, not its target
        assert not re.fullmatch(r"\s*20\d\d\s*[-–]\s*20\d\d\s*", row.figure or ""), row


def test_commune_without_such_target_is_missing_not_zero(assistant):
    answer = assistant.ask("Compare the 2030 tourism revenue targets of all five communes")
    assert answer.status == STATUS_ANSWERED
    rows = rows_by_commune(answer)
    assert set(rows) == ALL
    for commune in ("Bó Sinh", "Phiêng Pằn"):
        assert rows[commune].figure is None, rows[commune]
        assert rows[commune].citation is None
        line = next(ln for ln in answer.answer.splitlines() if commune in ln)
        assert not re.search(r"(?<![\d,.])0(?![\d,.])", line), line  # shown as missing, never as 0
    assert "54" in rows["Mường La"].figure
    assert "3" in rows["Mai Sơn"].figure
    assert "954" in rows["Chiềng Hặc"].figure
    assert covers(citation_of(answer, rows["Mường La"]), "muong-la.txt", 875)
    assert covers(citation_of(answer, rows["Chiềng Hặc"]), "chieng-hac.txt", 970)
    cited_files = {c.file for c in answer.citations}
    assert "bo-sinh.txt" not in cited_files and "phieng-pan.txt" not in cited_files


def test_ranking_reads_amounts_in_their_units(assistant):
    """54 tỷ (Mường La) is more than 954 triệu (Chiềng Hặc); missing communes are skipped."""
    answer = assistant.ask("Which commune has the highest tourism revenue target for 2030?")
    assert answer.status == STATUS_ANSWERED
    verdict = answer.answer.strip().splitlines()[-1]
    assert "Mường La" in verdict and "54" in verdict, verdict


def test_words_that_ask_how_communes_differ_are_not_part_of_the_indicator(assistant):
    """"… chênh lệch thế nào?" / "how do they differ": every commune still gets its row (mai-son:1629,
    muong-la:900 for health insurance; bo-sinh:984, muong-la:884 for forest cover)."""
    cases = [
        ("Tỷ lệ dân số tham gia bảo hiểm y tế của Mường La và Mai Sơn đến năm 2030 chênh lệch thế nào?",
         {"Mường La": ("muong-la.txt", 900), "Mai Sơn": ("mai-son.txt", 1629)}),
        ("ty le che phu rung den nam 2030 cua Bo Sinh va Muong La khac nhau the nao",
         {"Bó Sinh": ("bo-sinh.txt", 984), "Mường La": ("muong-la.txt", 884)}),
    ]
    for question, expected in cases:
        answer = assistant.ask(question)
        assert answer.status == STATUS_ANSWERED, answer.answer
        rows = rows_by_commune(answer)
        for commune, (file, line) in expected.items():
            assert covers(citation_of(answer, rows[commune]), file, line), (question, commune)
