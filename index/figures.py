"""Which figures in a report's text state a quantity, and how each is qualified.

A report is full of numbers that are not facts: years ("năm 2030", "2021-2025"), dates
("16/6/2025"), document numbers ("1681/NQ-UBTVQH15"), list numbers ("(3)", "1.2."), road
numbers ("Quốc lộ 6"), ordinals ("lần thứ XIII"). Masking them first (spaces of the same length,
so offsets still point into the passage text) leaves the content figures: what facts are made of.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from index.text import FIGURE, fold, parse_vn_number

_MASKS = [
    re.compile(r"\b\d{1,2}/\d{1,2}/(?:19|20)\d{2}\b"),  # 16/6/2025
    re.compile(r"(?i)\bngày\s+\d{1,2}(?:/\d{1,2})?"),  # "ngày 12/8"
    re.compile(r"(?i)(?:tháng|quý)\s+\d{1,2}(?:/(?:19|20)\d{2})?"),  # tháng 6/2025
    re.compile(r"\b\d{1,2}/(?:19|20)\d{2}\b"),  # 6/2025
    re.compile(r"(?<![\d.,])(?:19|20)\d{2}(?:\s*[-–]\s*(?:19|20)\d{2})?"
               r"(?![\d.,]*\s*(?:%|ha\b|người|hộ\b|con\b|tấn|triệu đồng|tỷ đồng|km\b|lượt))"),
    re.compile(r"(?i)(?:mức(?: độ)?|cấp độ|hạng)\s+(?:\d|I{1,3})(?:\s*(?:,|và|-)\s*(?:\d|I{1,3}))*\b"),
    re.compile(r"\d+(?:[-/][A-ZĐ][\w/\-]*)+"),  # 1681/NQ-UBTVQH15, 1522-QĐ/TU
    re.compile(r"(?i)(?:quyết định|nghị quyết|hướng dẫn|kế hoạch|chỉ thị|thông báo|kết luận|công văn|văn bản|"
               r"thông tư|nghị định|quy định|đề án|chương trình|quy chế|tờ trình|báo cáo)\s+số\s+\d+"),
    re.compile(r"(?i)(?:quốc lộ|tỉnh lộ|QL|TL)\s*\(?\d+[A-Z]?(?:\s*,\s*\d+[A-Z]?)*"),
    re.compile(r"\b\d+[A-Z]\b"),  # 3G, 4G
    re.compile(r"\(\s*\d{1,2}\s*\)"),  # (3)
    re.compile(r"(?i)tỷ lệ\s+1/\d+"),  # map scale 1/500
    re.compile(r"(?i)(?:lần thứ|khóa|khoá)\s+[IVXL\d]+"),
    re.compile(r"(?i)\bkm\s*\d+"),  # "Km 12" (a road marker)
    re.compile(r"(?i)(?:dưới|trên|từ|đủ)\s+\d{1,2}(?:\s*[-–]\s*\d{1,2})?\s*tuổi"),  # an age band names the indicator
    re.compile(r"(?i)covid\s*-?\s*19"),
    # a bare integer of 4+ digits without a thousands dot and no unit after it: a programme or document number
    re.compile(r"(?<![\d.,])\d{4,}(?![\d.,])(?!\s*(?:%|ha\b|người|hộ\b|con\b|tấn|triệu|tỷ|km\b|m\b|ngày|lượt|khẩu|cây|"
               r"đồng|lao động|học sinh|trẻ))"),
]
_ANY_MASK = re.compile("|".join(  # one pass; "(?i)" patterns keep their flag as a scoped group
    f"(?i:{p.pattern[4:]})" if p.pattern.startswith("(?i)") else f"(?:{p.pattern})" for p in _MASKS))
_LIST_NUMBER = re.compile(r"^\s*[-+•*]?\s*\(?\d{1,2}(?:\.\d{1,2})*[.)]\*?\s*[-–]?\s*(?=\S|$)")
_FOOTNOTE_NUMBER = re.compile(r"^\s*\d{1,2}\*?\.?\s+")

UNITS = (
    "triệu đồng/người/năm", "triệu đồng/người", "triệu đồng", "tỷ đồng", "nghìn đồng", "đồng", "km2", "km²", "m2",
    "m3", "nghìn lượt người", "nghìn lượt", "lượt người", "lượt khách", "nghìn", "m",
    "ha", "tấn", "tạ", "km", "con", "hộ", "nhân khẩu", "khẩu", "lao động", "người", "đảng viên", "đồng chí",
    "tổ chức đảng", "tổ chức cơ sở đảng", "chi bộ", "đảng bộ", "đơn vị", "hợp tác xã", "htx", "doanh nghiệp",
    "trường", "lớp", "học sinh", "bản", "tiểu khu", "tổ dân phố", "thôn", "xóm", "xã", "tiêu chí", "chỉ tiêu",
    "cây", "lồng", "lượt", "công trình", "tuyến", "dự án", "mô hình", "cơ sở", "hội nghị", "cuộc", "vụ",
    "ngày công", "nhà", "căn", "dân tộc", "giường", "trạm", "điểm", "cụm", "sản phẩm", "cơ quan", "lần",
    "tháng", "năm", "%",
)
_UNIT_AFTER = re.compile(
    r"^\s*(" + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True)) + r")(?![\wÀ-ỹ])",
    re.IGNORECASE,
)

AT_LEAST, ABOUT, BELOW, RANGE, PER_YEAR, ZERO = "at_least", "about", "below", "range", "per_year", "zero"
_AFTER_AT_LEAST = re.compile(r"(?i)^\s*(?:[\wÀ-ỹ/]+\s+){0,2}?(?:trở lên|trở lại)")
_BEFORE_AT_LEAST = re.compile(r"(?i)(?:trên|hơn|ít nhất|tối thiểu|không dưới|không thấp hơn)\s*$")
_BEFORE_ABOUT = re.compile(r"(?i)(?:khoảng|gần|xấp xỉ|ước(?: đạt| tính)?)\s*$")
_BEFORE_BELOW = re.compile(r"(?i)(?:dưới|không quá|tối đa|không vượt quá|thấp hơn)\s*$")
_PER_YEAR = re.compile(r"(?i)h[ằà]ng năm|mỗi năm|/năm|bình quân[^.;]{0,40}năm")


@dataclass
class Value:
    number: float | None
    high: float | None
    text: str  # as written, e.g. "51,51% trở lên"
    unit: str | None
    qualifier: str | None

    def to_json(self) -> dict:
        return asdict(self)


def mask(text: str, footnote: bool = False) -> str:
    """``text`` with every non-content number blanked out (same length: offsets survive).

    ``footnote``: the text opens a footnote body, whose own number ("2 (1) Xã …") is no figure.
    """
    out = text
    m = (_FOOTNOTE_NUMBER.match(out) if footnote else None) or _LIST_NUMBER.match(out)
    if m:
        out = " " * m.end() + out[m.end():]
    return _mask_all(out)


@lru_cache(maxsize=32768)
def _mask_all(text: str) -> str:
    return _ANY_MASK.sub(lambda x: " " * len(x.group(0)), text)


@lru_cache(maxsize=32768)
def content_figures(text: str, footnote: bool = False) -> tuple[re.Match[str], ...]:
    """The content figures of ``text`` (matches against the masked text, same offsets)."""
    return tuple(m for m in FIGURE.finditer(mask(text, footnote)) if parse_vn_number(_low(m.group(0))) is not None)


def _low(figure: str) -> str:
    return re.split(r"\s*[-–/]\s*", figure.strip())[0]


def unit_after(rest: str) -> tuple[str | None, int]:
    """The measure unit written right after a figure, and how many characters it takes."""
    m = _UNIT_AFTER.match(rest)
    return (m.group(1).lower(), m.end()) if m else (None, 0)


def read_value(text: str, m: re.Match[str], context_before: str) -> tuple[Value, int]:
    """The value of one figure match in ``text``; returns it and where it ends (unit included)."""
    figure = m.group(0).strip()
    rest = text[m.end():]
    unit, used = ("%", 0) if figure.endswith("%") else unit_after(rest)
    if unit is None and re.match(r"^\s*%", rest):
        unit, used = "%", re.match(r"^\s*%", rest).end()
    end = m.end() + used
    tail = text[end:end + 30]
    after = _AFTER_AT_LEAST.match(tail)
    if after and not re.search(r"[,;.]", after.group(0)):
        end += after.end()
    parts = re.split(r"\s*[-–]\s*", figure.rstrip("%").strip())
    low = parse_vn_number(parts[0].split("/")[0])
    high = parse_vn_number(parts[1]) if len(parts) == 2 else None
    before = context_before[-40:]
    around = f"{before} {text[m.start():end + 12]}"
    qualifier = None
    if high is not None:
        qualifier = RANGE
    elif after or _BEFORE_AT_LEAST.search(before):
        qualifier = AT_LEAST
    elif _BEFORE_BELOW.search(before):
        qualifier = BELOW
    elif _BEFORE_ABOUT.search(before):
        qualifier = ABOUT
    elif _PER_YEAR.search(around):
        qualifier = PER_YEAR
    written = re.sub(r"\s+", " ", text[m.start():end]).strip()
    return Value(low, high, written, unit, qualifier), end


_ZERO = re.compile(r"(?i)\bkhông còn\s+(?P<what>(?:hộ|nhà|bản|xã|trường|người|tình trạng|học sinh|trẻ)[^,;.()]{0,50})")


def zero_statements(text: str) -> list[tuple[int, int, str]]:
    """"không còn hộ nghèo …": (start, end, what) of each zero spelled in words."""
    out = []
    for m in _ZERO.finditer(text):
        what = re.split(r"\s+(?:theo|trên|tại|ở|trong)\s+", m.group("what"))[0].strip()
        out.append((m.start(), m.end(), what))
    return out


def folded_words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", fold(text))
