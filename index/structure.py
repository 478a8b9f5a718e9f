"""Find a report's own structure: parts, sections, numbered items, and the period each covers.

The reports follow one plan (Part › I- › 1. › 1.1. › items "(n)") but each spells it a
little differently, so headings are recognised by shape, and the period of a section
(2020-2025 review or 2025-2030 plan) is read from the titles above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.cleaning import ROLE_TEXT, Block
from index.paragraphs import is_all_caps
from index.schema import PERIOD_PLAN, PERIOD_REVIEW

_PART = re.compile(r"^(Phần thứ|PHẦN THỨ)\s+\S+", re.IGNORECASE)
_APPENDIX = re.compile(r"^(BIỂU SỐ|Biểu số)\s*\d+")
_ROMAN = re.compile(r"^(?P<num>[IVXL]+)\s*[.\-–]\s*\S")
_NUMBERED = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+\S")
_ITEM = re.compile(r"^\(\s*(?P<num>\d{1,2})\s*\)\s*[-–.:]?\s*")
_BULLET_GROUP = re.compile(r"^\*\s*(Về|Chỉ tiêu|Nhóm)\b", re.IGNORECASE)
_FIGURE_AFTER_COLON = re.compile(r":\s*\d")
_MEASURED = re.compile(r"\d+(?:[.,]\d+)?\s*(ha|%|triệu|tỷ|tấn|con|km|người|hộ|HTX|hợp tác xã|đảng viên)\b", re.I)

_PLAN_CUES = re.compile(r"2025\s*[-–]\s*2030|đến năm 2030|phương hướng|mục tiêu, nhiệm vụ", re.IGNORECASE)
_REVIEW_CUES = re.compile(r"2020\s*[-–]\s*2025|kết quả|đánh giá", re.IGNORECASE)
_CONTEXT_CUES = re.compile(r"bối cảnh|khái quát|đặc điểm", re.IGNORECASE)
TARGET_LIST = re.compile(r"chỉ tiêu chủ yếu", re.IGNORECASE)


@dataclass
class Heading:
    level: int  # 0 part/appendix, 1 roman, 2 "1.", 3 "1.1.", 4 "1.1.1." or a "* Về …" group
    title: str
    line: int


@dataclass
class Section:
    """Where a block stands: its heading path and the period that path covers."""

    path: list[Heading] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " › ".join(_short(h.title) for h in self.path)

    @property
    def period(self) -> str | None:
        """The first title, from the part down, that says which term it is about."""
        for heading in self.path:
            plan, review = _PLAN_CUES.search(heading.title), _REVIEW_CUES.search(heading.title)
            if plan and review:
                return PERIOD_REVIEW if re.search(r"2020\s*[-–]\s*2025", heading.title) else PERIOD_PLAN
            if plan or review:
                return PERIOD_PLAN if plan else PERIOD_REVIEW
            if _CONTEXT_CUES.search(heading.title):
                return None
        return None

    @property
    def in_target_list(self) -> bool:
        in_list = any(h.level >= 2 and TARGET_LIST.search(h.title) for h in self.path)
        return in_list and self.period == PERIOD_PLAN

    def titles(self) -> list[str]:
        return [h.title for h in self.path]


def _short(title: str, limit: int = 90) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def heading_level(block: Block) -> int | None:
    """The heading level of a block, or None when it is body text or a list item."""
    text = block.text
    if block.role != ROLE_TEXT or len(text) > 260:
        return None
    if _PART.match(text) or _APPENDIX.match(text):
        return 0
    if _BULLET_GROUP.match(text) and len(text) < 160:
        return 4
    if text.endswith((".", ";")) or _FIGURE_AFTER_COLON.search(text) or _MEASURED.search(text):
        return None
    if _ROMAN.match(text):
        return 1
    numbered = _NUMBERED.match(text)
    if numbered:
        return min(2 + numbered.group("num").count("."), 4)
    return None


def item_number(text: str) -> str | None:
    """The number of a list item: "(7)- Tỷ lệ…" → "7"; "12. Tỷ lệ…" → "12"."""
    m = _ITEM.match(text) or re.match(r"^(?P<num>\d{1,2})\.\s+\S", text)
    return m.group("num") if m else None


def annotate(blocks: list[Block]) -> list[tuple[Block, Section, bool]]:
    """Walk the blocks in order; return each with its section and whether it is a heading."""
    stack: list[Heading] = []
    out: list[tuple[Block, Section, bool]] = []
    for block in blocks:
        level = heading_level(block)
        if level is None and _is_part_title(block, stack):  # the capital title under "Phần thứ …"
            stack[-1] = Heading(0, f"{stack[-1].title}: {block.text}", stack[-1].line)
            out.append((block, Section(list(stack)), True))
            continue
        if level == 2 and stack and stack[-1].level >= 3 and not _continues_numbering(stack, block.text):
            level = None  # "4. Phấn đấu …" inside "2.2. Đối với xã …" is a list item, not a section
        if level is not None:
            stack = [h for h in stack if h.level < level]
            stack.append(Heading(level, block.text, block.line_start))
            out.append((block, Section(list(stack)), True))
            continue
        out.append((block, Section(list(stack)), False))
    return out


def _is_part_title(block: Block, stack: list[Heading]) -> bool:
    return (block.role == ROLE_TEXT and is_all_caps(block.text) and len(stack) == 1 and stack[0].level == 0)


def _continues_numbering(stack: list[Heading], text: str) -> bool:
    """Is "N." the next level-2 section after the last one on the stack?"""
    previous = [h for h in stack if h.level == 2]
    m = _NUMBERED.match(text)
    if not previous or not m:
        return True
    last = _NUMBERED.match(previous[-1].title)
    return bool(last) and int(m.group("num").split(".")[0]) == int(last.group("num").split(".")[0]) + 1
