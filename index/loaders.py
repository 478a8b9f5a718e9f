"""Report files → lines, and safe import of uploaded reports.

A citation names a report file and 1-based line numbers, so the lines read here must be exactly
the lines a user sees in an editor: no Unicode normalisation of UTF-8 text (``cleaning`` does that later,
keeping the line numbers) and no splitting on exotic separators. Text in another encoding (Windows-1258,
UTF-16, …) is detected by charset-normalizer and converted to UTF-8 NFC, line for line. An uploaded
PDF or DOCX is converted once into a UTF-8 .txt; that .txt is what gets indexed and cited, so it is
validated before it is stored and written atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import docx
from docx.table import Table, _Row
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from index.legacy_doc import DocError, doc_text

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".pdf", ".docx", ".doc")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MIN_LETTERS = 200  # a commune report has tens of thousands; fewer than this is the wrong file
ORIGINALS_DIR = "originals"

_BINARY_SHARE = 0.01  # more than 1% junk characters: not a text file
_JUNK = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_EXTRACTED_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_EXTRACTED_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc, or an encrypted .docx
_PDF_TAIL = 1024  # readers look for %%EOF in the last 1 KiB; missing means a cut-off file
_SLUG_MAX = 80


class ReportError(ValueError):
    """A report that cannot be read or imported; the message is shown to the user as is."""


@dataclass(frozen=True)
class RawReport:
    """A report file's lines exactly as shipped: ``lines[N - 1]`` is what a citation of line N shows."""

    name: str
    path: Path
    lines: list[str]

    @property
    def text(self) -> str:
        """The whole file as one string (line terminators normalised to "\\n")."""
        return "\n".join(self.lines)


def read_report(path: Path) -> RawReport:
    """Read a citable .txt report (UTF-8, or an encoding ``decode_report`` detects); refuse anything else."""
    path = Path(path)
    if path.suffix.lower() != ".txt":
        raise ReportError(
            f"{path.name}: only .txt reports can be read line by line; "
            f"import the {path.suffix or 'file'} with import_report first."
        )
    text = _decode(_read_bytes(path, path.name), path.name)
    return RawReport(name=path.name, path=path, lines=split_lines(text))


def split_lines(text: str) -> list[str]:
    """Split lines the way an editor numbers them, so cited line numbers match what users see.

    Only "\\n" ends a line (a "\\r" before it is dropped). ``str.splitlines`` also breaks at
    U+2028, \\x0c, \\x1c-\\x1e and \\x85, which would shift every later line number.
    """
    if not text:
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return [part[:-1] if part.endswith("\r") else part for part in parts]


def extract_text(path: Path) -> str:
    """The text of a .txt, .pdf or .docx report, chosen by the file's suffix."""
    path = Path(path)
    return _extract(path, path.suffix.lower(), path.name)


def import_report(
    src: Path,
    reports_dir: Path,
    *,
    original_name: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
    notes: list[str] | None = None,
) -> Path:
    """Validate an uploaded report and store it as a citable UTF-8 .txt in ``reports_dir``.

    ``original_name`` is the name the user uploaded (``src`` is often a temp file); only its last
    path component is used. A PDF/DOCX, or a .txt in another encoding than UTF-8 (converted), is kept
    under ``reports_dir/originals/`` next to its text; ``notes`` receives what was converted.
    Returns the path of the stored .txt.
    """
    src, reports_dir = Path(src), Path(reports_dir)
    label = _base_name(original_name or src.name)
    suffix = Path(label).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ReportError(_unsupported_message(label, suffix))
    _check_size(src, label, max_bytes)
    data = _read_bytes(src, label)
    if suffix == ".txt":
        decoded = decode_report(data, label)
        text = decoded.text
        payload = decoded.text.encode("utf-8") if decoded.converted else data  # UTF-8: the user's bytes, cited
        if decoded.converted and notes is not None:
            notes.append(decoded.note(label))
    else:
        text = _clean_extracted(_extract(src, suffix, label))
        payload = text.encode("utf-8")
    _check_is_report(text, label)
    with _reports_lock(reports_dir):  # two uploads at once: the second sees the first (duplicate, name taken)
        _check_not_duplicate(text, reports_dir, label)
        target = _free_target(reports_dir, slugify(Path(label).stem), suffix)
        if payload is not data:
            _write_atomic(reports_dir / ORIGINALS_DIR / f"{target.stem}{suffix}", data)
        _write_atomic(target, payload)
    return target


def list_reports(reports_dir: Path) -> list[Path]:
    """The .txt reports in ``reports_dir``, sorted (README.md, originals and temp files are not reports)."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        return []
    return sorted(p for p in reports_dir.glob("*.txt") if p.is_file() and not p.name.startswith("."))


def slugify(stem: str) -> str:
    """A safe ASCII file stem: "Báo cáo Mường La" → "bao-cao-muong-la" (đ has no decomposition)."""
    ascii_text = unicodedata.normalize("NFKD", stem.replace("đ", "d").replace("Đ", "D"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:_SLUG_MAX].rstrip("-") or "report"


# --- decoding ---------------------------------------------------------------------------------


def _read_bytes(path: Path, label: str) -> bytes:
    """Read a file, turning OS errors into a message the user can act on."""
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ReportError(f"{label}: file not found; check the path and try again.") from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReportError(f"{label} could not be read ({reason}); check the file and try again.") from exc


@dataclass(frozen=True)
class Decoded:
    """A report's text and the encoding it was read from ("utf-8": nothing was converted)."""

    text: str
    encoding: str

    @property
    def converted(self) -> bool:
        return self.encoding != "utf-8"

    def note(self, label: str) -> str:
        """What was converted, for the user: "x.txt was Windows-1258 text; converted to UTF-8"."""
        return f"{label} was {encoding_name(self.encoding)} text; converted to UTF-8" if self.converted else ""


def decode_report(data: bytes, label: str) -> Decoded:
    """UTF-8 as is; otherwise the encoding charset-normalizer detects (Windows-1258, UTF-16 with or without
    BOM, …), normalised to NFC; a ReportError when the bytes are no text at all.

    NFC matters for Windows-1258: it writes tone marks as combining characters ("ộ" = "ô" + dot below),
    which would otherwise never match the precomposed letters of questions and of the other reports.
    Decoding keeps every line break where it was, so cited line numbers stay those of the original file.
    """
    if b"\x00" not in data:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            _refuse_damaged_utf8(data, label, exc)
        else:
            if _junk_share(text) > _BINARY_SHARE:
                raise ReportError(_binary_message(label))
            return Decoded(text, "utf-8")
    match = charset_normalizer.from_bytes(data).best()
    if match is None:
        raise ReportError(_binary_message(label))
    text = unicodedata.normalize("NFC", str(match))
    if _junk_share(text) > _BINARY_SHARE or not text.strip():
        raise ReportError(_binary_message(label))
    encoding = "utf-8" if match.encoding in ("utf_8", "ascii") else match.encoding
    return Decoded(text, encoding)


def _refuse_damaged_utf8(data: bytes, label: str, exc: UnicodeDecodeError) -> None:
    """UTF-8 with a few bad bytes is a damaged file, not a legacy encoding: guessing one would garble
    every correct letter, so it is refused with the offset. Legacy text decodes to almost only U+FFFD."""
    lenient = data.decode("utf-8", "replace")
    bad = lenient.count("\ufffd")
    good = sum(ord(ch) > 127 for ch in lenient) - bad
    if good > 2 * bad:
        raise ReportError(
            f"{label} is not valid UTF-8 text (bad byte at offset {exc.start}); "
            "save it with UTF-8 encoding and upload it again."
        ) from exc


def encoding_name(codec: str) -> str:
    """A codec name as people know it: cp1258 → Windows-1258, utf_16_le → UTF-16 LE."""
    name = codec.lower().replace("_", "-")
    if name.startswith("cp125"):
        return "Windows-" + name[2:]
    if name.startswith("utf-"):
        return name.upper().replace("-LE", " LE").replace("-BE", " BE")
    return {"latin-1": "Latin-1", "iso8859-1": "Latin-1"}.get(name, name.upper())


def convert_to_utf8(path: Path) -> str:
    """Rewrite a report that is not UTF-8 as UTF-8 (NFC), keeping the original under ``originals/``.

    ``baocao index`` runs this on every report, so the files the index cites, the app shows and the eval
    scorer reads are all UTF-8. Returns what was converted ("" when nothing was).
    """
    data = _read_bytes(path, path.name)
    decoded = decode_report(data, path.name)
    if not decoded.converted:
        return ""
    _write_atomic(path.parent / ORIGINALS_DIR / path.name, data)
    _write_atomic(path, decoded.text.encode("utf-8"))
    return f"{decoded.note(path.name)} (original kept in {ORIGINALS_DIR}/{path.name})"


def _decode(data: bytes, label: str) -> str:
    """The text of a report file (any encoding ``decode_report`` reads), or a ReportError saying why not."""
    return decode_report(data, label).text


def _junk_share(text: str) -> float:
    """Share of control and replacement characters: near 0 for any real text, high for binary."""
    return len(_JUNK.findall(text)) / max(len(text), 1)


def _binary_message(label: str) -> str:
    return (
        f"{label} looks like a binary file, not text; upload the report as a UTF-8 .txt, "
        "a .pdf or a .docx."
    )


def _unsupported_message(label: str, suffix: str) -> str:
    kind = f"'{suffix}' files are" if suffix else "files without an extension are"
    return f"{label}: {kind} not supported; upload the report as .txt, .pdf or .docx (or a Word .doc)."


# --- extraction -------------------------------------------------------------------------------


def _extract(path: Path, suffix: str, label: str) -> str:
    """Dispatch on ``suffix`` (the uploaded name's, which a temp file may not carry)."""
    if suffix == ".txt":
        return _decode(_read_bytes(path, label), label)
    if suffix == ".pdf":
        return _pdf_text(path, label)
    if suffix == ".docx":
        return _docx_text(path, label)
    if suffix == ".doc":
        return _legacy_doc_text(path, label)
    raise ReportError(_unsupported_message(label, suffix))


def _pdf_text(path: Path, label: str) -> str:
    """Page texts joined with "\\n"; a damaged, locked or scanned PDF raises ReportError."""
    data = _read_bytes(path, label)
    if b"%PDF-" not in data[:1024]:
        raise ReportError(f"{label} is not a PDF file; upload the report as .txt, .pdf or .docx.")
    if b"%%EOF" not in data[-_PDF_TAIL:]:  # pypdf would guess at a cut-off file and drop pages
        raise ReportError(f"{label} is truncated (incomplete download or upload?); upload the full file.")
    try:
        pages = _pdf_pages(PdfReader(path), label)
    except ReportError:
        raise
    except Exception as exc:  # pypdf raises many exception types on damaged files
        raise ReportError(
            f"{label} could not be read as a PDF (it is damaged or uses unsupported encryption); "
            "export it again from the original document and upload it."
        ) from exc
    if not any(page.strip() for page in pages):
        raise ReportError(
            f"{label} has no text layer (it is probably a scan); run OCR on it first "
            "(e.g. ocrmypdf) or upload the report as .txt or .docx."
        )
    return "\n".join(pages)


def _pdf_pages(reader: PdfReader, label: str) -> list[str]:
    """Texts of all pages; PDFs locked only by an owner password open with an empty password."""
    if reader.is_encrypted and not reader.decrypt(""):
        raise ReportError(f"{label} is password-protected; remove the password and upload it again.")
    return [page.extract_text() or "" for page in reader.pages]


def _docx_text(path: Path, label: str) -> str:
    """Paragraphs and table rows in document order; a row is its cells joined with " | "."""
    if _read_bytes(path, label).startswith(_OLE_MAGIC):
        raise ReportError(
            f"{label} is password-protected or an old Word (.doc) file; remove the password or "
            "save it as .docx and upload it again."
        )
    try:
        blocks = docx.Document(str(path)).iter_inner_content()
        return "\n".join(_block_text(block) for block in blocks)
    except Exception as exc:  # python-docx/zipfile/lxml raise many types on damaged files
        raise ReportError(
            f"{label} could not be read as a .docx (it is damaged or truncated); "
            "save it again from Word and upload it."
        ) from exc


def _legacy_doc_text(path: Path, label: str) -> str:
    """A Word 97-2003 .doc through a Debian converter (``index.legacy_doc``)."""
    try:
        return doc_text(path, label)
    except DocError as exc:
        raise ReportError(str(exc)) from exc


def _block_text(block: Paragraph | Table) -> str:
    if isinstance(block, Table):
        return "\n".join(_row_text(row) for row in block.rows)
    return block.text


def _row_text(row: _Row) -> str:
    """One line per row, so a cited row reads whole; merged cells (repeated in ``row.cells``) once."""
    cells: list[str] = []
    seen: set[int] = set()
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
    return " | ".join(cells)


def _clean_extracted(text: str) -> str:
    """Make converted text unambiguous to count: every line break a "\\n", no control characters."""
    text = _EXTRACTED_CONTROLS.sub("", _EXTRACTED_BREAKS.sub("\n", text))
    return text if text.endswith("\n") else text + "\n"


# --- import checks and storage ----------------------------------------------------------------


def _base_name(name: str) -> str:
    """The last path component (either slash), so "../../etc/passwd" cannot leave reports_dir."""
    return name.replace("\\", "/").rstrip("/").split("/")[-1].strip()


def _check_size(src: Path, label: str, max_bytes: int) -> None:
    """Refuse empty and oversized uploads before reading them into memory."""
    try:
        size = src.stat().st_size
    except FileNotFoundError as exc:
        raise ReportError(f"{label}: file not found; upload it again.") from exc
    if size == 0:
        raise ReportError(f"{label} is empty (0 bytes); upload the complete report.")
    if size > max_bytes:
        raise ReportError(
            f"{label} is {_human(size)}, over the {_human(max_bytes)} limit; upload a smaller file "
            "(e.g. the report as .txt, or without embedded images)."
        )


def _human(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _check_is_report(text: str, label: str) -> None:
    """A handful of words is a wrong file, not a report worth indexing."""
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_LETTERS:
        raise ReportError(
            f"{label} contains only {letters} letters of text, too little for a report "
            f"(at least {MIN_LETTERS} expected); check that you chose the right file."
        )


def _fingerprint(text: str) -> str:
    """Text compared for duplicates: the same report re-exported differs only in spacing or NFC/NFD."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _check_not_duplicate(text: str, reports_dir: Path, label: str) -> None:
    """Refuse a second copy: duplicate passages would crowd out other reports in retrieval."""
    wanted = _fingerprint(text)
    for existing in list_reports(reports_dir):
        try:
            other = _decode(existing.read_bytes(), existing.name)
        except (ReportError, OSError):
            continue
        if _fingerprint(other) == wanted:
            raise ReportError(
                f"{label} has the same text as the existing report {existing.name}; "
                "it is already available, so it was not imported again."
            )


@contextlib.contextmanager
def _reports_lock(reports_dir: Path) -> Iterator[None]:
    """An exclusive lock on the reports folder itself (no lock file), across threads and processes."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(reports_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _free_target(reports_dir: Path, slug: str, suffix: str) -> Path:
    """``slug.txt``, or ``slug-2.txt``, ``slug-3.txt``… if that name (or its original) is taken."""
    for n in itertools.count(1):
        stem = slug if n == 1 else f"{slug}-{n}"
        target = reports_dir / f"{stem}.txt"
        if not target.exists() and not (reports_dir / ORIGINALS_DIR / f"{stem}{suffix}").exists():
            return target
    raise AssertionError("unreachable")


def _write_atomic(target: Path, payload: bytes) -> None:
    """Temp file in the same directory + os.replace: a crash never leaves a half-written report.

    The temp name starts with "." and ends in ".tmp", so ``list_reports`` never sees it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
