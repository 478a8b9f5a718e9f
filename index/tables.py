"""Rebuild the rows of flattened appendix tables ("BIỂU SỐ 01": target vs result).

PDF extraction spreads one row over 5-25 lines, puts row numbers alone on a line and splits
numbers across lines. A row starts where the next row number in sequence (or a Roman group
numeral) starts a line; everything until the next such start belongs to the row. Bare
numbers that break the sequence are cell values, not row numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.cleaning import Block

_ROW_START = re.compile(r"^(?P<num>\d{1,2})(?:\s+(?P<rest>.*))?$")
_GROUP_START = re.compile(r"^(?P<num>[IVX]{1,4})(?:\s+(?P<rest>.*))?$")
_ASSESSMENT = re.compile(r"(Không\s+đạt|Chưa\s+đạt|Vượt|Đạt)\s*$", re.IGNORECASE)
_UNITS = (
    r"Triệu đồng|triệu đồng|Triệu|Tỷ đồng|tỷ đồng|Hợp tác xã|HTX|Trường|Trạm|Tiêu chí|Người|Đảng viên,\s*%|"
    r"Đảng viên|đảng viên|Bản|Hộ|hộ|ha|Ha|tấn|Tấn|con|Con|km|Km|%"
)
_ROW_PARSE = re.compile(rf"^(?P<indicator>.*?)\s+(?P<unit>{_UNITS})\s+(?P<values>[\d.,/\s\-–]+)$")


@dataclass
class TableRow:
    number: str
    text: str  # the row's cells, joined in reading order (as in the file)
    line_start: int
    line_end: int
    group: str | None = None
    indicator: str | None = None
    unit: str | None = None
    target: str | None = None
    result: str | None = None
    percent: str | None = None
    assessment: str | None = None

    def reading(self) -> str:
        """A labelled reading of the row, when the cells could be told apart."""
        if not self.indicator:
            return ""
        parts = [f"chỉ tiêu NQ: {self.target}" if self.target else "",
                 f"kết quả: {self.result}" if self.result else "",
                 f"so sánh: {self.percent}%" if self.percent else "",
                 f"đánh giá: {self.assessment}" if self.assessment else ""]
        return f"{self.indicator} ({self.unit}) — " + "; ".join(p for p in parts if p)


def rebuild_rows(blocks: list[Block]) -> tuple[list[Block], list[TableRow]]:
    """Split one table's line blocks into its header blocks and its rows."""
    header: list[Block] = []
    rows: list[TableRow] = []
    expected = 1
    group: str | None = None
    collecting_group = False  # a group title ("IV" / "Chỉ tiêu về xây dựng Đảng…") can span lines
    current: list[Block] = []
    for block in blocks:
        row_start = _ROW_START.match(block.text)
        if row_start and int(row_start.group("num")) == expected:
            _close(current, rows, group)
            current, expected, collecting_group = [block], expected + 1, False
        elif _GROUP_START.match(block.text):
            _close(current, rows, group)
            current, group, collecting_group = [], block.text, True
        elif collecting_group:
            group = f"{group} {block.text}"
        elif current:
            current.append(block)
        else:
            header.append(block)
    _close(current, rows, group)
    return header, rows


def _close(current: list[Block], rows: list[TableRow], group: str | None) -> None:
    if not current:
        return
    first = _ROW_START.match(current[0].text)
    assert first is not None
    cells = [first.group("rest") or ""] + [b.text for b in current[1:]]
    text = re.sub(r"\s+", " ", " ".join(c for c in cells if c)).strip()
    row = TableRow(first.group("num"), text, current[0].line_start, current[-1].line_end, group)
    parse_cells(row)
    rows.append(row)
    current.clear()


def read_cells(text: str, number: str = "") -> TableRow:
    """The cells of one rebuilt row's text (indicator, unit, plan, result, %, assessment)."""
    row = TableRow(number=number, text=text, line_start=0, line_end=0)
    parse_cells(row)
    return row


def parse_cells(row: TableRow) -> None:
    """Tell a row's cells apart: indicator, unit, plan (NQ), result, % and assessment."""
    body = row.text
    assessment = _ASSESSMENT.search(body)
    if assessment:
        row.assessment = re.sub(r"\s+", " ", assessment.group(1))
        body = body[: assessment.start()].strip()
    m = _ROW_PARSE.match(body)
    if not m:
        return
    row.indicator, row.unit = m.group("indicator").strip(), m.group("unit")
    values = m.group("values").split()
    if len(values) >= 3:
        row.target, row.result, row.percent = values[0], values[1], values[2]
    elif len(values) == 2:
        row.target, row.result = values
