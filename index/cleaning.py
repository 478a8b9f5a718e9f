"""Clean a report's lines without losing the way back to them.

Reports are text extracted from PDF/DOCX: mixed NFC/NFD, odd spaces, lines broken
mid-sentence, bare page numbers, footnote markers glued to figures ("54,57%2."), footnote
bodies dumped inside the sentence they interrupt, and junk tails of truncated repeats.

Cleaning works line by line and never rewrites a line into another line's place: every
cleaned line keeps its 1-based number in the shipped file, so every passage built from
them can cite an exact line range.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

ROLE_TEXT = "text"
ROLE_BLANK = "blank"
ROLE_PAGE = "page"  # a bare page number
ROLE_JUNK = "junk"  # a truncated repeat from a junk tail
ROLE_FOOTNOTE = "footnote"
ROLE_TABLE = "table"  # inside an appendix table ("BIỂU SỐ 01")

_SPACES = re.compile(r"[\u00a0\u202f\u2007\u2009\u200a\u3000\t]")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\ufeff\u00ad]")
_MULTISPACE = re.compile(r" {2,}")
_WRONG_LETTERS = str.maketrans({"ǎ": "ă", "Ǎ": "Ă"})

# A footnote marker glued after a lowercase word, a "%" or a closing quote, followed by
# punctuation, the end of the line, or a new sentence: "lên1.", "54,57%2.", "km7 ", "sạch”7;".
_LOWER = "a-zàáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ"
_UPPER_START = r"[A-ZÀÁẠẢÃÂẦẤẬẨẪĂẰẮẶẲẴÈÉẸẺẼÊỀẾỆỂỄÌÍỊỈĨÒÓỌỎÕÔỒỐỘỔỖƠỜỚỢỞỠÙÚỤỦŨƯỪỨỰỬỮỲÝỴỶỸĐ]"
_MARKER = re.compile(
    rf"(?<=[{_LOWER}%”\"\)])(?P<n>[1-9]\d?)(?=[.,;:]|\s*$|\s+{_UPPER_START}|\s+\()"
)
# A marker glued to a unit after a figure, before a lowercase word: "18 km7 thiết" (not "km2").
_UNIT_MARKER = re.compile(
    rf"(?:(?<=\d km)|(?<=\dkm)|(?<=\d m)|(?<=\dm)|(?<=\d ha)|(?<=\dha))(?P<n>[1-9]\d?)(?=\s+[{_LOWER}])"
)
# A number glued to the word before it: "đạt10 triệu" is "đạt 10 triệu".
_GLUED_NUMBER = re.compile(rf"(?<=[{_LOWER}])(?=\d+(?:[.,]\d+)*\s+[{_LOWER}])")
# Units whose digit is not a footnote: km2, m2, m3, CO2.
_UNIT_POWER = re.compile(r"(?:km|m|cm|CO)$")

_BARE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")
_FOOTNOTE_START = re.compile(r"^\s*(?P<n>[1-9]\d?)\*?\.?\s+\S")
_TOP_HEADING = re.compile(rf"^(?P<n>[1-9]\d?)\.\s+{_UPPER_START}")
_TABLE_START = re.compile(r"^\s*(BIỂU SỐ|Biểu số)\s*\d+\s*$")
_TRAILING_ELLIPSIS = re.compile(r"(\.\.\.|…)\s*$")


@dataclass
class CleanLine:
    """One line of the shipped file after cleaning."""

    no: int  # 1-based line number in the shipped file
    raw: str
    text: str  # normalized, footnote markers removed
    role: str = ROLE_TEXT
    markers: tuple[str, ...] = ()  # footnote numbers split off this line
    indented: bool = False  # started with a space: often the first line of a new PDF page


@dataclass
class Block:
    """A paragraph (or footnote body) rebuilt from consecutive clean lines."""

    text: str
    line_start: int
    line_end: int
    role: str = ROLE_TEXT
    lines: list[int] = field(default_factory=list)


def normalize(text: str) -> str:
    """NFC, one kind of space, no zero-width characters, the right breve letter."""
    text = unicodedata.normalize("NFC", text).translate(_WRONG_LETTERS)
    text = _ZERO_WIDTH.sub("", _SPACES.sub(" ", text))
    return _MULTISPACE.sub(" ", text)


def split_markers(text: str) -> tuple[str, tuple[str, ...]]:
    """Separate footnote markers from the figures and words they are glued to.

    "54,57%2." → ("54,57%.", ("2",)); "18 km7 thiết" → ("18 km thiết", ("7",)); a unit
    power such as "km2" stays.
    """
    markers: list[str] = []

    def _cut(m: re.Match[str]) -> str:
        before = m.string[: m.start()]
        if m.group("n") in {"2", "3"} and _UNIT_POWER.search(before):
            return m.group(0)
        markers.append(m.group("n"))
        return ""

    cleaned = _MARKER.sub(_cut, text)
    cleaned = _UNIT_MARKER.sub(_cut, cleaned)
    cleaned = _GLUED_NUMBER.sub(" ", cleaned)
    return cleaned, tuple(markers)


def marker_prefix(raw: str, marker: str) -> str:
    """The cleaned words of a line before footnote marker ``marker``: what the footnote is about."""
    norm = normalize(raw).strip()
    for m in _MARKER.finditer(norm):
        if m.group("n") == marker:
            return split_markers(norm[: m.start()])[0]
    return split_markers(norm)[0]


def clean_lines(raw_lines: list[str]) -> list[CleanLine]:
    """Normalize each line and give it a role (text, blank, page number, footnote, table, junk)."""
    lines = []
    for no, raw in enumerate(raw_lines, start=1):
        norm = normalize(raw)
        text, markers = split_markers(norm.strip())
        lines.append(CleanLine(no, raw, text.strip(), markers=markers, indented=norm.startswith(" ")))
    _mark_blank_and_pages(lines)
    _mark_junk_tail(lines)
    _mark_tables(lines)
    _mark_footnotes(lines)
    return lines


def _mark_blank_and_pages(lines: list[CleanLine]) -> None:
    for line in lines:
        if not line.text:
            line.role = ROLE_BLANK
        elif _BARE_NUMBER.match(line.text):
            line.role = ROLE_PAGE


def _mark_junk_tail(lines: list[CleanLine]) -> None:
    """Drop tab-indented lines that only repeat (often truncated with "...") earlier text."""
    seen = _squash(" ".join(line.text for line in lines if not line.raw.startswith("\t")))
    for line in lines:
        if line.raw.startswith("\t") and line.role == ROLE_TEXT:
            probe = _squash(_TRAILING_ELLIPSIS.sub("", line.text))[:80]
            if probe and probe in seen:
                line.role = ROLE_JUNK


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _mark_tables(lines: list[CleanLine]) -> None:
    """Appendix tables run from a "BIỂU SỐ nn" line to the next one or the junk tail."""
    inside = False
    for line in lines:
        if _TABLE_START.match(line.text):
            inside = True
        elif line.role == ROLE_JUNK:
            inside = False
        if inside and line.role in (ROLE_TEXT, ROLE_PAGE):
            line.role = ROLE_TABLE


def _mark_footnotes(lines: list[CleanLine]) -> None:
    """Footnote bodies: a line starting with a marker number seen shortly before it.

    The body runs until a blank line, an indented line (the page resumes) or another
    footnote start. Requiring the marker to have appeared within the previous 60 lines
    keeps numbered list items ("1. Thu nhập ...") from being mistaken for footnotes.
    """
    recent: dict[str, int] = {}
    last_heading = 0  # the running "N." top-level heading number: "3. Văn hóa…" after "2." is no footnote
    i = 0
    while i < len(lines):
        line = lines[i]
        for marker in line.markers:
            recent[marker] = line.no
        start = _FOOTNOTE_START.match(line.text) if line.role == ROLE_TEXT else None
        heading = _TOP_HEADING.match(line.text) if line.role == ROLE_TEXT else None
        if heading and int(heading.group("n")) in (1, last_heading + 1):
            last_heading = int(heading.group("n"))
            start = None
        if start and 0 < line.no - recent.get(start.group("n"), -999) <= 60:
            recent.pop(start.group("n"))
            i = _consume_footnote(lines, i)
            continue
        i += 1


def _consume_footnote(lines: list[CleanLine], i: int) -> int:
    lines[i].role = ROLE_FOOTNOTE
    lines[i].text = normalize(lines[i].raw).strip()  # a footnote body keeps its own numbers
    j = i + 1
    while j < len(lines):
        nxt = lines[j]
        if nxt.role != ROLE_TEXT or nxt.indented or _FOOTNOTE_START.match(nxt.text):
            break
        nxt.role = ROLE_FOOTNOTE
        nxt.text = normalize(nxt.raw).strip()
        j += 1
    return j
