"""Loaders decide which lines a citation points at and what an upload may put in the index."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from index.loaders import (
    SUPPORTED_SUFFIXES,
    RawReport,
    ReportError,
    extract_text,
    import_report,
    list_reports,
    read_report,
    slugify,
    split_lines,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "reports"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

SENTENCE = "Tỷ lệ che phủ rừng đạt 51,51% trở lên."
# Enough letters to count as a report (the importer refuses fewer than ~200).
BODY = [
    "Báo cáo chính trị của Ban Chấp hành Đảng bộ xã Mường Ảng khóa I, nhiệm kỳ 2025-2030.",
    "Phát triển kinh tế nông nghiệp theo hướng hàng hóa, ứng dụng công nghệ cao, bền vững.",
    "Giữ vững quốc phòng, an ninh; xây dựng Đảng bộ, hệ thống chính trị trong sạch, vững mạnh.",
    SENTENCE,
]


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph(BODY[0])
    table = document.add_table(rows=2, cols=3)
    rows = [["TT", "Chỉ tiêu", "Kết quả"], ["1", "Che phủ rừng", "Đạt"]]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    for line in BODY[1:]:
        document.add_paragraph(line)
    document.save(str(path))
    return path


def make_pdf(path: Path, lines: list[str]) -> Path:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    for line in lines:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def write_report(path: Path, lines: list[str] = BODY) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- read_report: line numbers must be the editor's -----------------------------------------


def test_shipped_report_lines_match_wc_and_editor() -> None:
    path = SHIPPED / "muong-la.txt"
    report = read_report(path)
    wc = int(subprocess.run(["wc", "-l", str(path)], capture_output=True, text=True).stdout.split()[0])
    unterminated_last_line = not path.read_bytes().endswith(b"\n")
    assert len(report.lines) == wc + unterminated_last_line
    assert "51,51" in report.lines[884 - 1]
    assert report.name == "muong-la.txt"
    assert isinstance(report, RawReport)


def test_every_shipped_report_reads() -> None:
    for path in list_reports(SHIPPED):
        assert len(read_report(path).lines) > 100, path.name


def test_lines_split_only_on_newline(tmp_path: Path) -> None:
    prose = " Tỷ lệ che phủ rừng đạt 51,51% trở lên." * 20  # real text: a few separators are not junk
    raw = f"một\u2028vẫn dòng một\r\nhai\x0cvẫn hai\x1c\x1d\x1e\x85{prose}\nba\n"
    path = tmp_path / "x.txt"
    path.write_bytes(b"\xef\xbb\xbf" + raw.encode("utf-8"))
    report = read_report(path)
    assert report.lines == ["một\u2028vẫn dòng một", f"hai\x0cvẫn hai\x1c\x1d\x1e\x85{prose}", "ba"]
    assert report.text == "\n".join(report.lines)


def test_lines_are_not_unicode_normalised(tmp_path: Path) -> None:
    nfd = "Mu\u031bo\u031b\u0300ng La\u00a0 2025"  # decomposed letters and a no-break space, as shipped
    path = tmp_path / "nfd.txt"
    path.write_text(nfd + "\nsecond", encoding="utf-8")
    assert read_report(path).lines == [nfd, "second"]


def test_split_lines_edge_cases() -> None:
    assert split_lines("") == []
    assert split_lines("a") == ["a"]
    assert split_lines("a\n") == ["a"]
    assert split_lines("a\n\n") == ["a", ""]
    assert split_lines("a\r\nb\rc") == ["a", "b\rc"]


def test_read_report_refuses_binary_and_non_utf8(tmp_path: Path) -> None:
    binary = tmp_path / "junk.txt"
    binary.write_bytes(random.Random(1).randbytes(4096))
    with pytest.raises(ReportError, match="binary"):
        read_report(binary)
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"Bao cao\x00\x00 chinh tri")
    with pytest.raises(ReportError, match="binary"):
        read_report(nul)
    legacy = tmp_path / "latin1.txt"  # legacy encodings are detected and converted (tests/test_hostile.py)
    legacy.write_bytes(("Báo cáo chính. " * 50).encode("latin-1"))
    assert read_report(legacy).lines[0].startswith("Báo cáo chính. Báo cáo")
    utf16 = tmp_path / "utf16.txt"
    utf16.write_text("Báo cáo", encoding="utf-16")
    assert read_report(utf16).lines == ["Báo cáo"]


def test_read_report_missing_or_not_txt(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="not found"):
        read_report(tmp_path / "none.txt")
    with pytest.raises(ReportError, match="import_report"):
        read_report(make_pdf(tmp_path / "a.pdf", BODY))


# --- extract_text -----------------------------------------------------------------------------


def test_docx_paragraphs_and_table_rows_in_order(tmp_path: Path) -> None:
    lines = extract_text(make_docx(tmp_path / "r.docx")).split("\n")
    assert lines[:3] == [BODY[0], "TT | Chỉ tiêu | Kết quả", "1 | Che phủ rừng | Đạt"]
    assert lines[-1] == SENTENCE


def test_docx_merged_cells_appear_once(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "Chỉ tiêu"
    table.cell(0, 2).text = "Đạt"
    document.save(str(tmp_path / "m.docx"))
    assert extract_text(tmp_path / "m.docx").split("\n")[-1] == "Chỉ tiêu | Đạt"


def test_pdf_with_vietnamese_text(tmp_path: Path) -> None:
    text = extract_text(make_pdf(tmp_path / "r.pdf", BODY))
    assert SENTENCE in text
    assert "Mường Ảng" in text


def test_pdf_without_text_layer_needs_ocr(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(ReportError, match="no text layer") as err:
        extract_text(tmp_path / "scan.pdf")
    assert "OCR" in str(err.value)


def test_truncated_pdf_and_docx(tmp_path: Path) -> None:
    for made in (make_pdf(tmp_path / "full.pdf", BODY * 20), make_docx(tmp_path / "full.docx")):
        data = made.read_bytes()
        cut = tmp_path / f"cut{made.suffix}"
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(ReportError, match=r"cut\.(pdf|docx)") as err:
            extract_text(cut)
        assert "truncated" in str(err.value)


def test_pdf_damaged_in_the_middle(tmp_path: Path) -> None:
    data = bytearray(make_pdf(tmp_path / "full.pdf", BODY).read_bytes())
    middle = len(data) // 3
    data[middle : middle + 2000] = random.Random(2).randbytes(2000)
    (tmp_path / "bad.pdf").write_bytes(bytes(data))
    try:
        text = extract_text(tmp_path / "bad.pdf")
    except ReportError:
        return  # refused with a message: fine
    assert isinstance(text, str)  # or recovered what it could, but never a raw pypdf traceback


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=11)
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.multi_cell(0, 7, SENTENCE)
    pdf.output(str(tmp_path / "locked.pdf"))
    with pytest.raises(ReportError, match=r"locked\.pdf is password-protected"):
        extract_text(tmp_path / "locked.pdf")


def test_fake_docx_and_pdf(tmp_path: Path) -> None:
    (tmp_path / "fake.docx").write_text("not a zip", encoding="utf-8")
    with pytest.raises(ReportError, match="docx"):
        extract_text(tmp_path / "fake.docx")
    (tmp_path / "fake.pdf").write_text("not a pdf", encoding="utf-8")
    with pytest.raises(ReportError, match="not a PDF"):
        extract_text(tmp_path / "fake.pdf")


# --- import_report ----------------------------------------------------------------------------


def test_import_docx_stores_text_and_original(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    src = make_docx(tmp_path / "upload.tmp")
    stored = import_report(src, reports, original_name="Báo cáo Mường La.docx")
    assert stored == reports / "bao-cao-muong-la.txt"
    lines = read_report(stored).lines
    assert "1 | Che phủ rừng | Đạt" in lines and SENTENCE in lines
    assert (reports / "originals" / "bao-cao-muong-la.docx").read_bytes() == src.read_bytes()
    assert list_reports(reports) == [stored]


def test_import_pdf_slug_and_text(tmp_path: Path) -> None:
    stored = import_report(make_pdf(tmp_path / "Báo cáo Đảng bộ.pdf", BODY), tmp_path / "r")
    assert stored.name == "bao-cao-dang-bo.txt"
    assert SENTENCE in stored.read_text(encoding="utf-8")
    assert (tmp_path / "r" / "originals" / "bao-cao-dang-bo.pdf").is_file()


def test_import_txt_keeps_bytes_and_lines(tmp_path: Path) -> None:
    src = tmp_path / "src.txt"
    src.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(BODY).encode("utf-8"))
    stored = import_report(src, tmp_path / "r", original_name="Chiềng Hặc.TXT")
    assert stored.name == "chieng-hac.txt"
    assert stored.read_bytes() == src.read_bytes()
    assert read_report(stored).lines == BODY


@pytest.mark.parametrize(
    ("upload", "expected"),
    [
        ("../../evil.txt", "evil.txt"),
        ("..\\..\\windows\\evil.txt", "evil.txt"),
        ("/etc/cron.d/evil.txt", "evil.txt"),
        ("../.txt.txt", "txt.txt"),
        ("Ủy ban ??? .txt", "uy-ban.txt"),
        ("中文.txt", "report.txt"),
    ],
)
def test_import_name_cannot_escape_reports_dir(tmp_path: Path, upload: str, expected: str) -> None:
    reports = tmp_path / "a" / "b" / "reports"
    stored = import_report(write_report(tmp_path / "u.txt"), reports, original_name=upload)
    assert stored == reports / expected
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(["u.txt", expected])


def test_import_name_clash_gets_suffix(tmp_path: Path) -> None:
    reports = tmp_path / "r"
    first = import_report(write_report(tmp_path / "a.txt"), reports, original_name="bao-cao.txt")
    second = import_report(write_report(tmp_path / "b.txt", BODY[::-1]), reports, original_name="Bao cao.txt")
    third = import_report(write_report(tmp_path / "c.txt", BODY * 2), reports, original_name="bao_cao.txt")
    assert [first.name, second.name, third.name] == ["bao-cao.txt", "bao-cao-2.txt", "bao-cao-3.txt"]
    assert read_report(first).lines == BODY  # the existing report was not overwritten


def test_import_duplicate_of_shipped_report_names_it(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(SHIPPED / "muong-la.txt", reports / "muong-la.txt")
    shutil.copy(SHIPPED / "README.md", reports / "README.md")
    upload = tmp_path / "copy.txt"
    # Same report with different spacing and line endings is still the same report.
    upload.write_bytes((SHIPPED / "muong-la.txt").read_bytes().replace(b"\n", b"  \r\n"))
    with pytest.raises(ReportError, match=r"muong-la\.txt"):
        import_report(upload, reports, original_name="Mường La (bản 2).txt")
    assert list_reports(reports) == [reports / "muong-la.txt"]


def test_import_pdf_duplicate_of_imported_docx(tmp_path: Path) -> None:
    reports = tmp_path / "r"
    import_report(make_pdf(tmp_path / "one.pdf", BODY), reports)
    with pytest.raises(ReportError, match=r"one\.txt"):
        import_report(make_pdf(tmp_path / "two.pdf", BODY), reports)


@pytest.mark.parametrize("name", ["report.odt", "report", "report.txt.exe", "report.html"])
def test_import_unsupported_extension(tmp_path: Path, name: str) -> None:
    with pytest.raises(ReportError, match="not supported") as err:
        import_report(write_report(tmp_path / "u.txt"), tmp_path / "r", original_name=name)
    assert ".txt, .pdf or .docx" in str(err.value)


def test_import_zero_byte(tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(ReportError, match="empty"):
        import_report(tmp_path / "empty.pdf", tmp_path / "r")


def test_import_binary_renamed_txt(tmp_path: Path) -> None:
    (tmp_path / "photo.txt").write_bytes(os.urandom(10_000))
    with pytest.raises(ReportError, match="binary"):
        import_report(tmp_path / "photo.txt", tmp_path / "r")
    assert not (tmp_path / "r").exists() or list_reports(tmp_path / "r") == []


def test_import_oversized(tmp_path: Path) -> None:
    src = write_report(tmp_path / "big.txt", BODY * 10)
    with pytest.raises(ReportError, match="limit"):
        import_report(src, tmp_path / "r", max_bytes=1000)
    assert import_report(src, tmp_path / "r", max_bytes=src.stat().st_size).is_file()


def test_import_too_little_text(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="too little"):
        import_report(write_report(tmp_path / "note.txt", ["Báo cáo.", "12.345 ha; 51,51%"]), tmp_path / "r")


def test_import_scanned_pdf_leaves_nothing(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60)
    pdf.output(str(tmp_path / "scan.pdf"))
    reports = tmp_path / "r"
    with pytest.raises(ReportError, match="text layer"):
        import_report(tmp_path / "scan.pdf", reports)
    assert not reports.exists() or not any(reports.rglob("*"))


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reports = tmp_path / "r"

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        import_report(write_report(tmp_path / "u.txt"), reports)
    assert list(reports.iterdir()) == []


# --- list_reports and helpers -----------------------------------------------------------------


def test_list_reports_only_txt_sorted(tmp_path: Path) -> None:
    for name in ["b.txt", "a.txt", "README.md", "x.pdf", ".a.txt.123.tmp", ".hidden.txt"]:
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "originals").mkdir()
    (tmp_path / "originals" / "c.txt").write_text("x", encoding="utf-8")
    assert [p.name for p in list_reports(tmp_path)] == ["a.txt", "b.txt"]
    assert list_reports(tmp_path / "missing") == []
    assert [p.name for p in list_reports(SHIPPED)] == [
        "bo-sinh.txt", "chieng-hac.txt", "mai-son.txt", "muong-la.txt", "phieng-pan.txt",
    ]


def test_slugify_vietnamese() -> None:
    assert slugify("Báo cáo Mường La") == "bao-cao-muong-la"
    assert slugify("ĐẢNG BỘ Xã Phiêng Pằn") == "dang-bo-xa-phieng-pan"
    assert slugify("...") == "report"
    assert set(SUPPORTED_SUFFIXES) == {".txt", ".pdf", ".docx", ".doc"}
