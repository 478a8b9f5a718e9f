"""Rebuild paragraphs from clean lines: join lines broken mid-sentence, keep line ranges.

PDF extraction breaks lines at the page width and often double-spaces paragraphs, so a
blank line can fall between an indicator and its figure ("…bình quân hằng" / "" / "năm đạt
3%."). A line continues the paragraph unless it starts a new list item or heading, or the
paragraph already ended a sentence. Footnote bodies dumped inside a sentence become blocks
of their own and the sentence resumes after them.
"""

from __future__ import annotations

import re

from index.cleaning import (
    ROLE_BLANK,
    ROLE_FOOTNOTE,
    ROLE_JUNK,
    ROLE_PAGE,
    ROLE_TABLE,
    ROLE_TEXT,
    Block,
    CleanLine,
)

# Starts of list items and headings: "(3)-", "2.1.", "2. ", "II-", "- ", "+ ", "a) ", "* Về".
ITEM_START = re.compile(
    r"^(\(\d+\)|\d{1,2}(\.\d{1,2})*\.(\s|$)|\d{1,2}(\.\d{1,2})+\s+[A-ZĐ]|[IVXL]+\s*[.\-–]\s*"
    r"|[-+•*]\s|[a-zđ]\)\s|Phần thứ|PHẦN THỨ)"
)
_SENTENCE_END = re.compile(r"[.!?;:…]\)?[\"”]?$|\)$")
_HEADING_LIKE = re.compile(r"^(\d+(\.\d+)*\.?\s|[IVXL]+\s*[.\-–]|Phần thứ|PHẦN)")


def is_all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def build_blocks(lines: list[CleanLine]) -> list[Block]:
    """Group text lines into paragraphs and footnote lines into footnote blocks."""
    blocks: list[Block] = []
    current: list[CleanLine] = []
    footnote: list[CleanLine] = []
    gap = False
    for line in lines:
        if line.role in (ROLE_PAGE, ROLE_JUNK):
            continue
        if line.role == ROLE_BLANK:
            gap = True
            _flush(footnote, blocks, ROLE_FOOTNOTE)
            continue
        if line.role == ROLE_FOOTNOTE:
            if footnote and _is_new_footnote(line):
                _flush(footnote, blocks, ROLE_FOOTNOTE)
            footnote.append(line)
            continue
        _flush(footnote, blocks, ROLE_FOOTNOTE)
        if line.role == ROLE_TABLE:
            _flush(current, blocks, ROLE_TEXT)
            blocks.append(Block(line.text, line.no, line.no, ROLE_TABLE, [line.no]))
            continue
        if current and not _continues(current, line, gap):
            _flush(current, blocks, ROLE_TEXT)
        current.append(line)
        gap = False
    _flush(footnote, blocks, ROLE_FOOTNOTE)
    _flush(current, blocks, ROLE_TEXT)
    blocks.sort(key=lambda b: b.line_start)
    return blocks


def _is_new_footnote(line: CleanLine) -> bool:
    return bool(re.match(r"^[1-9]\d?\*?\.?\s", line.text))


def _flush(buf: list[CleanLine], blocks: list[Block], role: str) -> None:
    if not buf:
        return
    text = " ".join(part.text for part in buf if part.text)
    text = re.sub(r"\s+([,.;:%)])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()
    if role == ROLE_FOOTNOTE:
        text = re.sub(r"\s+", " ", text)
    blocks.append(Block(text, buf[0].no, buf[-1].no, role, [b.no for b in buf]))
    buf.clear()


def _continues(current: list[CleanLine], line: CleanLine, gap: bool) -> bool:
    """Does ``line`` continue the paragraph in ``current``?"""
    last = current[-1].text
    first = current[0].text
    if ITEM_START.match(line.text):
        # "chính trị" / "- xã hội": a hyphenated phrase broken at the line, not a bullet
        return line.text.startswith("- ") and not gap and not _SENTENCE_END.search(last)
    if is_all_caps(line.text) or is_all_caps(last):
        return is_all_caps(line.text) and is_all_caps(last)  # multi-line capital headings
    if last.endswith(":"):
        return True  # a colon introduces what follows: "2. Phát triển kết cấu hạ tầng …:" / "Ưu tiên …"
    if _SENTENCE_END.search(last):
        return not (gap or line.text[:1].isupper())
    starts_upper = line.text[:1].isupper()
    if starts_upper and len(current) == 1 and _HEADING_LIKE.match(first) and len(first) < 150:
        return False  # "1.1. Sản xuất nông lâm nghiệp" followed by its first sentence
    return not (gap and starts_upper and len(first) < 150 and _HEADING_LIKE.match(first))
