"""Cleaning traps of the real reports (data/reports/README.md), one test per trap.

Every line number below was read from the shipped files; each test first checks that the raw
line really shows the trap, so a changed corpus fails loudly instead of testing nothing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pytest

from baocao.config import PROJECT_ROOT, Settings
from index.cleaning import ROLE_FOOTNOTE, ROLE_JUNK, ROLE_PAGE, CleanLine, clean_lines, split_markers
from index.communes import detect_commune, load_overrides
from index.embedding import get_embedder
from index.loaders import list_reports, read_report
from index.passages import build_passages
from index.schema import KIND_FOOTNOTE, Passage

REPORTS = PROJECT_ROOT / "data" / "reports"
ODD_SPACES = ("\u00a0", "\u202f")


@dataclass
class Parsed:
    raw: list[str]
    clean: list[CleanLine]
    passages: list[Passage]

    def line(self, no: int) -> str:
        return self.raw[no - 1]

    def role(self, no: int) -> str:
        return self.clean[no - 1].role

    def covering(self, no: int) -> list[Passage]:
        return [p for p in self.passages if p.line_start <= no <= p.line_end]

    def only(self, no: int) -> Passage:
        found = self.covering(no)
        assert len(found) == 1, f"line {no}: {[(p.line_start, p.line_end, p.kind) for p in found]}"
        return found[0]


@pytest.fixture(scope="module")
def corpus() -> dict[str, Parsed]:
    """Every shipped report parsed once: raw lines, clean lines, passages (no index, no embedding)."""
    settings = Settings(data_dir=PROJECT_ROOT / "data")
    overrides = load_overrides(settings.communes_path)
    count = get_embedder(settings.embedder).count_tokens
    out = {}
    for path in list_reports(REPORTS):
        raw = read_report(path)
        commune = detect_commune(raw.lines, raw.name, overrides)
        passages = build_passages(raw.name, raw.lines, commune, count, settings.max_passage_tokens)
        out[raw.name] = Parsed(raw.lines, clean_lines(raw.lines), passages)
    assert sorted(out) == ["bo-sinh.txt", "chieng-hac.txt", "mai-son.txt", "muong-la.txt", "phieng-pan.txt"]
    return out


def _nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


# --- mixed Unicode ---------------------------------------------------------------------------------


def test_nfd_lines_give_nfc_passages(corpus: dict[str, Parsed]) -> None:
    mai, muong = corpus["mai-son.txt"], corpus["muong-la.txt"]
    assert not _nfc(mai.line(1)) and "nhiệm kỳ" not in mai.line(1)  # decomposed in the file
    assert not _nfc(muong.line(340)) and "Công tác giáo dục" not in muong.line(340)
    head = mai.only(1)
    assert _nfc(head.text) and "nhiệm kỳ 2025 - 2030" in head.text
    item = muong.only(340)
    assert _nfc(item.text) and item.text.startswith("(1)- Công tác giáo dục chính trị, tư tưởng")
    for parsed in corpus.values():
        assert all(_nfc(p.text) for p in parsed.passages)


def test_odd_spaces_are_plain_spaces(corpus: dict[str, Parsed]) -> None:
    mai, muong = corpus["mai-son.txt"], corpus["muong-la.txt"]
    assert "Ngã\u202fba\u202fCò\u202fNòi" in mai.line(205)
    assert "giao đất\u00a0lâm nghiệp" in muong.line(68)
    assert "Ngã ba Cò Nòi" in mai.only(205).text
    assert "giao đất lâm nghiệp" in muong.only(68).text
    for parsed in corpus.values():
        for p in parsed.passages:
            assert not any(ch in p.text for ch in ODD_SPACES), (p.file, p.line_start)
            assert "  " not in p.text, (p.file, p.line_start)


def test_wrong_breve_letter_is_fixed(corpus: dict[str, Parsed]) -> None:
    phieng = corpus["phieng-pan.txt"]
    assert "nǎng suất" in phieng.line(1703)  # U+01CE, not U+0103
    text = phieng.only(1703).text
    assert "năng suất và chất lượng cao" in text and "ǎ" not in text
    for parsed in corpus.values():
        assert not any("ǎ" in p.text or "Ǎ" in p.text for p in parsed.passages)


# --- page numbers ----------------------------------------------------------------------------------


def test_bare_page_numbers_are_dropped(corpus: dict[str, Parsed]) -> None:
    muong, hac, bo = corpus["muong-la.txt"], corpus["chieng-hac.txt"], corpus["bo-sinh.txt"]
    assert muong.line(132).strip() == "5" and muong.role(132) == ROLE_PAGE
    assert muong.covering(132) == []  # a page break between paragraphs: in no passage
    # A page number inside a sentence: the sentence reads on, the number is not glued in.
    assert hac.line(434).strip() == "10" and hac.role(434) == ROLE_PAGE
    text = hac.only(434).text
    assert "luyện tập trong khu vực phòng thủ" in text and "trong 10" not in text
    assert muong.line(1488).strip() == "41" and muong.role(1488) == ROLE_PAGE
    text = muong.only(1488).text
    assert text.endswith("trên tổng số dân quân tự vệ và dự bị động viên.") and "dự bị 41" not in text
    assert bo.line(368).strip() == "1" and bo.role(368) == ROLE_PAGE


# --- footnote markers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "line", "raw", "kept", "gone"),
    [
        ("chieng-hac.txt", 138, "54,57%2.", "tỷ lệ che phủ rừng đạt 54,57%.", "54,572"),
        ("muong-la.txt", 158, "8,9%2.", "Tỷ lệ hộ nghèo giảm còn 8,9%.", "8,9%2"),
        ("chieng-hac.txt", 212, "18 km7", "chiều dài 18 km thiết thực", "km7"),
        ("chieng-hac.txt", 231, "85,37% số bản8.", "đạt 85,37% số bản.", "bản8"),
        ("chieng-hac.txt", 145, "85.500 con3.", "đàn gia cầm hiện có 85.500 con.", "con3"),
    ],
)
def test_footnote_markers_split_from_figures(
    corpus: dict[str, Parsed], file: str, line: int, raw: str, kept: str, gone: str
) -> None:
    parsed = corpus[file]
    assert raw in parsed.line(line)
    text = parsed.only(line).text
    assert kept in text
    assert gone not in text


def test_unit_powers_are_not_footnote_markers(corpus: dict[str, Parsed]) -> None:
    for file, line, area in [
        ("mai-son.txt", 155, "164,40 km2"),
        ("bo-sinh.txt", 89, "153,82 km2"),
        ("chieng-hac.txt", 54, "239,91 km2"),
        ("phieng-pan.txt", 149, "320 km2"),
    ]:
        parsed = corpus[file]
        assert area in parsed.line(line)
        assert area in parsed.only(line).text, (file, line)
        assert parsed.clean[line - 1].markers == ()
    assert split_markers("diện tích 5 m2 sàn")[1] == ()
    assert split_markers("đạt10 triệu")[0] == "đạt 10 triệu"  # a glued number, not a marker


# --- footnote bodies -------------------------------------------------------------------------------


def test_footnote_bodies_are_their_own_passages(corpus: dict[str, Parsed]) -> None:
    muong = corpus["muong-la.txt"]
    assert muong.line(160).startswith("2* (1) Địa bàn Ít Ong")
    assert all(muong.role(n) == ROLE_FOOTNOTE for n in range(160, 166))
    note = muong.only(160)
    assert (note.kind, note.line_start, note.line_end) == (KIND_FOOTNOTE, 160, 165)
    assert note.text.startswith("2* (1) Địa bàn Ít Ong")
    assert "Nặm Păm: Tỷ lệ hộ nghèo giảm còn 15,46%" in note.text
    # The sentence the footnote follows ends before it and carries none of its text.
    before = muong.only(158)
    assert before.line_end == 158 and "Địa bàn" not in before.text
    assert sum(p.kind == KIND_FOOTNOTE for p in muong.passages) >= 8


def test_sentence_resumes_across_footnote_and_page_break(corpus: dict[str, Parsed]) -> None:
    bo, muong = corpus["bo-sinh.txt"], corpus["muong-la.txt"]
    # bo-sinh 366 "…hưởng / ứng1, góp phần …, tham nhũng," / blank / page "1" / " lãng phí, quan liêu;"
    assert bo.line(366).startswith("ứng1, góp phần") and bo.line(369).startswith(" lãng phí, quan liêu")
    p = bo.only(366)
    assert p.line_start <= 365 and p.line_end >= 369
    assert "hưởng ứng, góp phần đẩy mạnh cải cách hành chính, đấu tranh phòng chống tham nhũng, " \
           "lãng phí, quan liêu" in p.text
    # muong-la 205 "…chương trình y tế quốc gia, y tế" / footnote 3* (206-212) / " cộng đồng, …" (213)
    assert muong.line(206).startswith("3* (1) Địa bàn Ít Ong")
    item = next(x for x in muong.passages if x.line_start == 200)
    assert item.line_end == 217 and "y tế quốc gia, y tế cộng đồng, Tỉ lệ người dân" in item.text
    assert "Địa bàn" not in item.text
    note = next(x for x in muong.covering(206) if x.kind == KIND_FOOTNOTE)
    assert (note.line_start, note.line_end) == (206, 212)


# --- junk tail -------------------------------------------------------------------------------------


def test_junk_tail_yields_no_passages(corpus: dict[str, Parsed]) -> None:
    phieng = corpus["phieng-pan.txt"]
    tail = 2035
    assert not phieng.line(tail - 1).startswith("\t") and phieng.line(tail).startswith("\t")
    assert phieng.line(tail).strip() == "BỐI CẢNH VÀ TÌNH HÌNH"
    tabbed = [n for n in range(tail, len(phieng.raw) + 1) if phieng.line(n).startswith("\t")]
    assert len(tabbed) >= 60 and all(phieng.role(n) == ROLE_JUNK for n in tabbed)
    assert not [p for p in phieng.passages if p.line_start >= tail or p.line_end >= tail]
    assert phieng.line(2030).strip() == "Hà Xuân Liêm"
    assert "Hà Xuân Liêm" in phieng.only(2030).text
    # The tail repeats body text: that text is in exactly one (body) passage.
    assert phieng.line(2039).startswith("\tDiện tích tự nhiên lớn, có không gian phát triển rộng")
    repeats = [p for p in phieng.passages if "có không gian phát triển rộng, có 02 tuyến Quốc lộ" in p.text]
    assert len(repeats) == 1 and repeats[0].line_end < tail
