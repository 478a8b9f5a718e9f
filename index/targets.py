"""The 2025-2030 target lists ("Các chỉ tiêu chủ yếu") as records.

Each numbered target passage becomes a record with the indicator, the value as written,
the numbers parsed from Vietnamese number format, the unit and a citation. Comparisons
and ``baocao targets`` read these records.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from index.schema import KIND_TARGET, Passage
from index.text import FIGURE, parse_vn_number

_ITEM_PREFIX = re.compile(r"^\(\s*\d+\s*\)\s*[-–.:]?\s*")
UNITS = (
    "triệu đồng", "tỷ đồng", "nghìn lượt", "lượt", "ha", "tấn", "km", "con", "hộ", "lao động", "người",
    "đơn vị", "hợp tác xã", "htx", "trường", "bản", "đảng viên", "tiêu chí", "chỉ tiêu", "cây", "lồng", "%",
)
_UNIT_AFTER = re.compile(r"^\s*(" + "|".join(re.escape(u) for u in UNITS) + r")", re.IGNORECASE)


@dataclass
class TargetRecord:
    commune: str
    group: str
    number: str
    indicator: str
    value: str  # the figures' clause as written, e.g. "51,51% trở lên"
    numbers: list[float] = field(default_factory=list)
    unit: str | None = None
    deadline: str = "2030"
    file: str = ""
    line_start: int = 0
    line_end: int = 0
    text: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def target_records(passages: list[Passage]) -> list[TargetRecord]:
    return [record_from_passage(p) for p in passages if p.kind == KIND_TARGET]


def record_from_passage(p: Passage) -> TargetRecord:
    body = _ITEM_PREFIX.sub("", p.text).strip()
    first = _first_figure(body)
    indicator = body[: first.start()].strip(" :,-") if first else body
    value = body[first.start():].strip() if first else ""
    numbers = [n for n in (parse_vn_number(m.group(0).split("-")[0]) for m in FIGURE.finditer(value)) if n is not None]
    unit = None
    if first:
        figure = first.group(0)
        unit = "%" if figure.endswith("%") else _unit_after(body[first.end():])
    return TargetRecord(
        commune=p.commune, group=(p.group or "").strip(), number=p.number or "", indicator=_trim(indicator),
        value=_trim(value, 160), numbers=numbers, unit=unit, deadline=_deadline(body),
        file=p.file, line_start=p.line_start, line_end=p.line_end, text=p.text,
    )


def _first_figure(body: str) -> re.Match[str] | None:
    """The first figure that is not a year ("năm 2030") or a list count."""
    for m in FIGURE.finditer(body):
        before = body[max(0, m.start() - 6): m.start()].lower()
        if re.fullmatch(r"20[1-3]\d", m.group(0)) and ("năm" in before or "đoạn" in before):
            continue
        return m
    return None


def _unit_after(rest: str) -> str | None:
    m = _UNIT_AFTER.match(rest)
    return m.group(1).lower() if m else None


def _deadline(body: str) -> str:
    return "hằng năm" if re.search(r"h[ằà]ng năm", body, re.IGNORECASE) and "2030" not in body else "2030"


def _trim(text: str, limit: int = 140) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
