"""Every quantified statement of a report as a record: targets, results and the commune profile.

Built at index time from the passages (no embedding, no model): the numbered 2025-2030 target
list, 2030 targets inside the task sections, 2020-2025 results in prose, footnotes (often one
figure per former commune) and appendix table rows (plan / result / % / assessment), and the
profile (area, population, party organisations). A sentence that holds several indicators
("đàn trâu 3.550 con; đàn bò 7.210 con") gives one record per indicator; figures that only
continue one indicator ("từ 44,08% xuống còn 14,52%") are values of the same record.

Each record cites the narrowest line range of the shipped file its ``text`` stands in, so a
record can be checked, and carries a canonical ``indicator_key`` from ``data/indicators.tsv``
(index/lexicon.py) so the same indicator lines up across communes. The JSON is a contract
(README, "Facts").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from index.cleaning import ROLE_FOOTNOTE, ROLE_TABLE, ROLE_TEXT, CleanLine
from index.communes import CommuneInfo
from index.figures import ZERO, Value, content_figures, folded_words, mask, read_value, zero_statements
from index.lexicon import Lexicon
from index.schema import KIND_FOOTNOTE, KIND_TABLE_ROW, KIND_TARGET, PERIOD_PLAN, PERIOD_REVIEW, Passage
from index.tables import TableRow, parse_cells
from index.text import fold, parse_vn_number

PERIOD_PROFILE = "profile"
SOURCE_TARGET_LIST, SOURCE_TASK, SOURCE_PROSE = "target_list", "task_section", "prose"
SOURCE_FOOTNOTE, SOURCE_TABLE, SOURCE_PROFILE = "footnote", "table", "profile"

# Words that link an indicator to its figure or one figure to the next; they name no indicator.
_CONNECTORS = set("""
dat la co con xuong tu len giam tang nam tro tren duoi khoang va den bang so voi ke hoach chi tieu nghi quyet
dai hoi trong do uoc binh quan moi hang vuot nq kh tong so hon gan xap xi it nhat toi thieu da duoc cua nhu
dat nhung tai o the cu phan dau duy tri muc ve cho hien nay nay thi rieng dia ban xa thi tran cac gom tinh
cao lai khong quy mo chiem dong thoi tuong ung nang on dinh giu vung lan luot dat tiep tuc ti toi da
""".split())
_PROFILE_TITLE = re.compile(r"khai qu|dac diem")
_PROFILE_WORDS = re.compile(r"to chuc dang|dang vien|dien tich|dan so|\bban\b|\bho\b|chi bo|nhan khau|dan toc")
_TRIM_LEAD = re.compile(r"(?i)^[\s\-–+•*:,.;)]*(?:(?:và|trong đó|riêng|đồng thời|với|đã|có|gồm|là|của)\s+)*")
_TRIM_TAIL = re.compile(
    r"(?i)(?:^|(?<=[\s,:;(\-–]))(?:(?:ước đạt|ước|đạt|đạt được|là|có|còn|giảm còn|giảm xuống còn|xuống còn|giảm xuống|"
    r"tăng lên|tăng|giảm|lên|từ|trên|dưới|khoảng|gần|hơn|trở lên|bằng|với|được|đến|tới|ít nhất|tối thiểu|"
    r"không dưới|không quá|tối đa|chiếm|hằng năm|hàng năm|mỗi năm|và|trong đó|duy trì|phấn đấu|"
    r"đến năm|tổng số|tổng|gồm|cả|của|thêm|đạt tỷ lệ|thực hiện|hỗ trợ)(?=\W*$)[\s,:;(\-–]*)+$"
)
_PLAN = re.compile(
    r"(?i)\((?:Nghị quyết|NQ|chỉ tiêu|kế hoạch|KH)[^()]{0,60}?(?:là|đề ra|giao|:)?\s*(?P<fig>\d+(?:[.,]\d+)*\s*%?)"
    r"[^()]{0,20}\)"
)
_RATIO = re.compile(
    r"(?i)(?:đạt|bằng|=)\s*(?P<fig>\d+(?:[.,]\d+)*)\s*%\s*(?:so với\s+)?(?:kế hoạch|KH|chỉ tiêu|mục tiêu|NQ|Nghị quyết)"
)
_ASSESS = re.compile(
    r"(?i)\b(?P<a>không đạt|chưa đạt|đạt và vượt|vượt|đạt)\s+(?:so với\s+)?(?:chỉ tiêu|kế hoạch|mục tiêu|KH|NQ|"
    r"Nghị quyết)"
)
_ITEM_PREFIX = re.compile(r"^\s*\(\s*\d+\s*\)\s*[-–.:]?\s*|^\s*\d{1,2}\.\s+")
_SEGMENT_END = re.compile(r";|(?<=[.!?])\s+(?=[\"“(]?[A-ZÀ-ỸĐ0-9(\-+])|(?<=\.)\s*(?=\(\d{1,2}\))")


@dataclass
class Fact:
    id: str
    commune: str
    unit: str | None
    period: str
    indicator: str
    indicator_en: str | None
    indicator_key: str | None
    values: list[Value]
    plan: dict | None
    ratio: float | None
    assessment: str | None
    source: str
    file: str
    line_start: int
    line_end: int
    section: str
    text: str

    def to_json(self) -> dict:
        d = asdict(self)
        d["values"] = [v.to_json() for v in self.values]
        return d


@dataclass
class _Draft:
    """A record being read from one segment: where its text starts and ends in the passage."""

    indicator: str
    start: int
    end: int
    unit: str | None
    values: list[Value] = field(default_factory=list)
    plan: dict | None = None
    ratio: float | None = None
    assessment: str | None = None
    segment: tuple[int, int] = (0, 0)  # the clause it was read from


class LineLocator:
    """Maps a span of a passage's text back to the exact lines of the shipped file it was read from.

    Cleaning only removes whitespace and footnote markers inside a line, so the passage text
    without whitespace is a run of the squashed cleaned lines (of the passage's role) in its range.
    """

    def __init__(self, lines: list[CleanLine]) -> None:
        self.lines = {ln.no: ln for ln in lines}
        self._layout: dict[str, tuple[int, list[tuple[int, int, int]]]] = {}

    def _passage_layout(self, p: Passage) -> tuple[int, list[tuple[int, int, int]]]:
        """Where the passage's squashed text starts in its lines, and each line's squashed span."""
        if p.id not in self._layout:
            role = {KIND_FOOTNOTE: ROLE_FOOTNOTE, KIND_TABLE_ROW: ROLE_TABLE}.get(p.kind, ROLE_TEXT)
            rows = [(no, _squash(self.lines[no].text)) for no in range(p.line_start, p.line_end + 1)
                    if no in self.lines and self.lines[no].role == role and self.lines[no].text]
            bounds, seen = [], 0
            for no, s in rows:
                bounds.append((no, seen, seen + len(s)))
                seen += len(s)
            self._layout[p.id] = ("".join(s for _, s in rows).find(_squash(p.text)), bounds)
        return self._layout[p.id]

    def span_lines(self, p: Passage, start: int, end: int) -> tuple[int, int]:
        offset, bounds = self._passage_layout(p)
        if offset < 0 or not bounds:
            return p.line_start, p.line_end
        first = offset + len(_squash(p.text[:start]))
        last = first + max(len(_squash(p.text[start:end])), 1) - 1
        line_start = next((no for no, a, b in bounds if a <= first < b), p.line_start)
        line_end = next((no for no, a, b in bounds if a <= last < b), p.line_end)
        return line_start, max(line_start, line_end)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def report_facts(passages: list[Passage], lines: list[CleanLine], commune: CommuneInfo,
                 lexicon: Lexicon) -> list[Fact]:
    """All fact records of one report, in file order."""
    locator = LineLocator(lines)
    out: list[Fact] = []
    for p in passages:
        period, source = classify(p)
        drafts = _table_drafts(p) if p.kind == KIND_TABLE_ROW else _text_drafts(p, commune)
        for n, d in enumerate(drafts):
            own = period or sentence_period(p.text[d.segment[0]:d.segment[1]])
            if own:
                out.append(_fact(p, d, n, own, source, locator, lexicon, list(commune.former_units)))
    return out


def classify(p: Passage) -> tuple[str | None, str]:
    """(period, source) of a passage's records; period None: no records (the congress preamble)."""
    profile_title = any(_PROFILE_TITLE.search(t) and "ket qua" not in t for t in fold(p.section).split("›"))
    if p.period != PERIOD_PLAN and (profile_title or (
            "›" not in p.section and p.section and _PROFILE_WORDS.search(fold(p.text)))):
        return PERIOD_PROFILE, SOURCE_PROFILE
    if p.period == PERIOD_PLAN:
        return PERIOD_PLAN, SOURCE_TARGET_LIST if p.kind == KIND_TARGET else SOURCE_TASK
    if p.period == PERIOD_REVIEW:
        source = {KIND_FOOTNOTE: SOURCE_FOOTNOTE, KIND_TABLE_ROW: SOURCE_TABLE}.get(p.kind, SOURCE_PROSE)
        return PERIOD_REVIEW, source
    return None, SOURCE_PROSE


_PLAN_SENTENCE = re.compile(r"(?i)(?:đến|vào|tới) năm 2030|giai đoạn 2026\s*[-–]\s*2030|mục tiêu đến")
_REVIEW_SENTENCE = re.compile(r"(?i)(?:nhiệm kỳ|giai đoạn)\s+2020\s*[-–]\s*2025|nhiệm kỳ qua|5 năm qua|05 năm qua")


def sentence_period(segment: str) -> str | None:
    """The term a sentence is about when no heading says it (a newspaper summary of a congress):
    "đến năm 2030 …" is a target, "nhiệm kỳ 2020-2025, … đạt …" a result; anything else no fact."""
    if _PLAN_SENTENCE.search(segment):
        return PERIOD_PLAN
    if _REVIEW_SENTENCE.search(segment):
        return PERIOD_REVIEW
    return None


def _fact(p: Passage, d: _Draft, n: int, period: str, source: str, locator: LineLocator,
          lexicon: Lexicon, units: list[str]) -> Fact:
    text = p.text[d.start:d.end].strip()
    lead = len(p.text[d.start:d.end]) - len(p.text[d.start:d.end].lstrip())
    start, end = locator.span_lines(p, d.start + lead, d.start + lead + len(text))
    indicator = _tidy(d.indicator, units)
    unit = d.values[0].unit if d.values else None
    key = lexicon.match(indicator, unit)
    if key is None and period == PERIOD_PROFILE:  # "Đảng bộ có 56 tổ chức đảng": the unit names what is counted
        key = lexicon.by_unit(unit)
    result = period == PERIOD_REVIEW  # only a result is measured against a plan and assessed
    return Fact(
        id=f"{p.file}:{start}-{end}:{n}", commune=p.commune, unit=d.unit or p.unit, period=period,
        indicator=indicator, indicator_en=lexicon.english(key), indicator_key=key, values=d.values,
        plan=d.plan if result else None, ratio=d.ratio if result else None,
        assessment=d.assessment if result else None, source=source, file=p.file, line_start=start, line_end=end,
        section=p.section, text=text,
    )


# --- table rows ---------------------------------------------------------------------------------
def _table_drafts(p: Passage) -> list[_Draft]:
    """A rebuilt appendix row read with its columns: indicator, unit, plan (NQ), result, %, assessment."""
    row = TableRow(p.number or "", p.text, p.line_start, p.line_end, p.group)
    parse_cells(row)
    if not row.indicator or row.result is None:
        return _text_drafts(p, None)
    unit = _table_unit(row.unit)
    result = Value(parse_vn_number(row.result), None, row.result, unit, None)
    plan = {"number": parse_vn_number(row.target or ""), "text": row.target, "unit": unit} if row.target else None
    ratio = parse_vn_number(row.percent.rstrip(",")) if row.percent else None
    assessment = row.assessment.lower() if row.assessment else None
    return [_Draft(row.indicator, 0, len(p.text), None, [result], plan, ratio, assessment)]


def _table_unit(unit: str | None) -> str | None:
    if not unit:
        return None
    return {"triệu": "triệu đồng"}.get(unit.lower(), unit.lower())


# --- prose, footnotes, target items ----------------------------------------------------------------
def _text_drafts(p: Passage, commune: CommuneInfo | None) -> list[_Draft]:
    units = list(commune.former_units) if commune else []
    topic = _footnote_topic(p) if p.kind == KIND_FOOTNOTE else ""
    drafts: list[_Draft] = []
    for start, end in _segments(p.text):
        opening = p.kind == KIND_FOOTNOTE and start == 0
        drafts.extend(_segment_drafts(p.text, start, end, units, topic, drafts[-1] if drafts else None, opening))
    return drafts


def _segments(text: str) -> Iterable[tuple[int, int]]:
    """Clauses of a passage: sentences, cut again at ";" (each usually one indicator)."""
    start = 0
    for m in _SEGMENT_END.finditer(text):
        if text[start:m.start()].strip():
            yield start, m.start()
        start = m.end()
    if text[start:].strip():
        yield start, len(text)


def _footnote_topic(p: Passage) -> str:
    """What a footnote is about: the words before its marker, from its section ("Chú thích 2: “…”")."""
    m = re.search(r"Chú thích \d+: “…(?P<t>[^”]*)”", p.section)
    if not m:
        return ""
    figs = content_figures(m.group("t"))
    return m.group("t")[: figs[-1].start()] if figs else m.group("t")


def _segment_drafts(text: str, seg_start: int, seg_end: int, units: list[str], topic: str,
                    previous: _Draft | None, opening: bool = False) -> list[_Draft]:
    segment = text[seg_start:seg_end]
    special = _special_spans(segment)
    figures = content_figures(segment, footnote=opening)
    plain = [m for m in figures if not any(a <= m.start() < b for a, b, _ in special)]
    if not plain:  # "Bảo hiểm y tế đạt 100% chỉ tiêu được giao": the % of plan is the only figure
        plain = [m for m in figures if not any(a <= m.start() < b and k == "plan" for a, b, k in special)]
    drafts: list[_Draft] = []
    cursor = 0  # where the text since the last value starts (inside the segment)
    figure_first = False
    head = segment[:plain[0].start() if plain else len(segment)]
    unit_now = _unit_in(head, units) if _names_count(head, units) < 2 else None  # "gồm: xã A, xã B …": all
    for m in plain:
        lead = segment[cursor:m.start()]
        value, end = read_value(segment, m, segment[:m.start()])
        named_unit = _unit_in(lead, units)
        colon = _last_top_level(lead, ":")
        content = _content_words(lead[colon + 1:] if colon >= 0 and not drafts else lead, units)
        if drafts and not content and not named_unit and not _new_count(drafts[-1], value):
            drafts[-1].values.append(value)
            drafts[-1].end = seg_start + end
        elif drafts and not content and named_unit:  # "…; xã Tú Nang: 7035 con": same indicator, next unit
            drafts.append(_Draft(drafts[-1].indicator, seg_start + cursor, seg_start + end, named_unit, [value]))
        else:
            indicator, figure_first = _new_indicator(segment, m, lead, bool(content), bool(drafts), figure_first,
                                                     _inherited(topic, previous), units)
            start = cursor if drafts else 0
            drafts.append(_Draft(indicator, seg_start + start, seg_start + end, named_unit or unit_now, [value]))
        cursor = end
        if named_unit:
            unit_now = named_unit
    if drafts:
        drafts[-1].end = seg_end
        _results(segment, drafts, special)
    drafts.extend(_zero_drafts(segment, seg_start, units))
    for d in drafts:
        d.segment = (seg_start, seg_end)
    return drafts


def _new_indicator(segment: str, m: re.Match[str], lead: str, content: bool, after_another: bool,
                   figure_first: bool, inherited: str, units: list[str]) -> tuple[str, bool]:
    """The indicator a new record takes, and whether this clause writes figures before their indicators.

    Usually the words before the figure ("tỷ lệ che phủ rừng đạt 54,57%"). When they name nothing,
    the words after it ("có từ 90% trở lên tổ chức cơ sở đảng …", "52.361 người, 6 dân tộc"), else
    what a footnote is about or the previous record's indicator ("Xã Tú Nang: 48,86%"), else the clause.
    """
    indicator = lead
    if not content and not after_another:
        trailing = _trailing_indicator(segment, m.end())
        if trailing:
            figure_first, indicator = True, trailing
        else:
            indicator = inherited
    if after_another and (figure_first or not content):
        indicator = _trailing_indicator(segment, m.end()) or indicator
    if not _tidy(indicator, units):
        indicator = _trailing_indicator(segment, m.end()) or _without_figures(segment)
    return indicator, figure_first


def _new_count(draft: _Draft, value: Value) -> bool:
    """A count in another unit after a count ("45 bản, 4.901 hộ") is another sub-indicator; a share
    after a count ("13 đồng chí, 48,15%") or the same unit ("từ 44,08% xuống còn 14,52%") is not."""
    last = draft.values[-1].unit
    return bool(last and value.unit and "%" not in (last, value.unit) and last != value.unit)


def _special_spans(segment: str) -> list[tuple[int, int, str]]:
    """Figures that say how a result compares with its target, not values: "(NQ là 65%)", "đạt 135,4% so với NQ"."""
    spans = [(m.start(), m.end(), "plan") for m in _PLAN.finditer(segment)]
    spans += [(m.start("fig"), m.end(), "ratio") for m in _RATIO.finditer(segment)]
    return spans


def _results(segment: str, drafts: list[_Draft], special: list[tuple[int, int, str]]) -> None:
    """Plan, % of plan and assessment written in a result sentence go to its last record."""
    target = drafts[-1]
    for a, b, kind in special:
        if kind == "plan" and target.plan is None:
            fig = _PLAN.match(segment, a)
            if fig:
                number = fig.group("fig").strip()
                target.plan = {"number": parse_vn_number(number.rstrip("%").strip()), "text": number,
                               "unit": "%" if number.endswith("%") else None}
        elif kind == "ratio" and target.ratio is None:
            target.ratio = parse_vn_number(segment[a:b].split("%")[0].strip())
    m = _ASSESS.search(segment)
    if m:
        word = m.group("a").lower()
        target.assessment = "vượt" if word in ("vượt", "đạt và vượt") else word
    _fraction_result(segment, target)


def _fraction_result(segment: str, d: _Draft) -> None:
    """A result item "Diện tích cây ăn quả: 562/562ha, đạt 100% so với NQ": result / plan."""
    if d.plan is not None or d.ratio is None or not d.values:
        return
    m = re.search(r":\s*(?P<r>\d+(?:[.,]\d+)*)\s*/\s*(?P<p>\d+(?:[.,]\d+)*)", segment)
    if m:
        d.values = [Value(parse_vn_number(m.group("r")), None, m.group(0).lstrip(": "), d.values[0].unit, None)]
        d.plan = {"number": parse_vn_number(m.group("p")), "text": m.group("p"), "unit": d.values[0].unit}


def _zero_drafts(segment: str, seg_start: int, units: list[str]) -> list[_Draft]:
    """"không còn hộ nghèo": a value of zero, spelled in words."""
    out = []
    for a, b, what in zero_statements(segment):
        value = Value(0.0, None, segment[a:b].strip(), None, ZERO)
        out.append(_Draft(what, seg_start, seg_start + len(segment), _unit_in(segment[:a], units), [value]))
    return out


def _content_words(lead: str, units: list[str]) -> list[str]:
    """The words of ``lead`` that could name an indicator (not connectors, units or unit names)."""
    cleaned = fold(mask(lead)) if lead else ""
    names = _names_pattern(tuple(units))
    if names:
        cleaned = names.sub(" ", cleaned)
    cleaned = re.sub(r"\([^)]*\)", " ", cleaned)
    words = [w for w in folded_words(cleaned) if w not in _CONNECTORS]
    unit_words = {"ha", "tan", "con", "km", "nguoi", "trieu", "ty", "dong", "luot", "tieu", "chi", "htx"}
    return [w for w in words if w not in unit_words] if len(words) < 2 else words


def _trailing_indicator(segment: str, end: int) -> str:
    """In "có từ 90% trở lên tổ chức cơ sở đảng và …" the indicator follows the figure."""
    rest = re.sub(r"\s*\b(?:trở lên|trở lại)\b", "", segment[end:])
    nxt = content_figures(rest)
    rest = rest[: nxt[0].start()] if nxt else rest
    rest = re.split(r"(?i)[;:(]|,(?!\s*(?:kết quả|lâm|ngư))|\s(?:và|trong đó|so với)\s", rest)[0]
    words = rest.split()
    return " ".join(words[:12]) if len([w for w in folded_words(rest) if w not in _CONNECTORS]) >= 2 else ""


def _without_figures(segment: str) -> str:
    """A clause that is all figures and nouns ("3933 hộ, 9833 lao động …"): the clause is the indicator."""
    kept = mask(segment)
    for m in reversed(content_figures(segment)):
        kept = kept[: m.start()] + " " * (m.end() - m.start()) + kept[m.end():]
    return " ".join(kept.split()[:16])


def _inherited(topic: str, previous: _Draft | None) -> str:
    if topic.strip():
        return topic
    return previous.indicator if previous else ""


@lru_cache(maxsize=64)
def _names_pattern(units: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the folded names of a commune's former units."""
    if not units:
        return None
    names = sorted({fold(u) for u in units}, key=len, reverse=True)
    return re.compile(r"(?<![a-z])(" + "|".join(re.escape(n) for n in names) + r")(?![a-z])")


@lru_cache(maxsize=64)
def _spelled_pattern(units: tuple[str, ...]) -> re.Pattern[str] | None:
    """A former unit's name as written in an indicator ("xã Tú Nang:"), to take out of it."""
    if not units:
        return None
    names = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    return re.compile(rf"(?i)(?:\b(?:xã|thị trấn|địa bàn|tại)\s+)?(?:{names})\b\s*:?")


def _names_count(text: str, units: list[str]) -> int:
    names = _names_pattern(tuple(units))
    return len({m.group(1) for m in names.finditer(fold(text))}) if names else 0


def _unit_in(text: str, units: list[str]) -> str | None:
    """The former commune named in ``text`` (the last one), as the report spells it in the registry."""
    names = _names_pattern(tuple(units))
    found = list(names.finditer(fold(text))) if names else []
    if not found:
        return None
    last = found[-1].group(1)
    return next(u for u in units if fold(u) == last)


def _tidy(indicator: str, units: list[str]) -> str:
    """The indicator as written, without the list number, unit names, years, links and the verb before the figure."""
    text = re.sub(r"\s+", " ", _ITEM_PREFIX.sub("", indicator)).strip()
    named = _spelled_pattern(tuple(units))
    if named:
        text = named.sub(" ", text)
    text = re.sub(r"(?i)\(?\b(?:năm|giai đoạn|nhiệm kỳ|đến năm|đến)\s+(?:19|20)\d{2}(?:\s*[-–]\s*(?:19|20)\d{2})?\)?",
                  " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^\d{1,2}\*?\s+(?=\D)", "", text)  # a footnote's own number
    colon = _last_top_level(text, ":")
    if colon >= 0 and len(text[colon + 1:].split()) >= 2 and len(text[:colon].split()) > 3:
        text = text[colon + 1:]
    comma = _last_top_level(text, ",")
    if comma >= 0 and _HEAD.match(fold(text[comma + 1:].strip())):
        text = text[comma + 1:]
    for _ in range(3):
        text = _TRIM_TAIL.sub("", _TRIM_LEAD.sub("", text)).strip()
    text = text.strip(" -–:,;(.")
    text = re.split(r"(?i)\s(?:bao gồm|tính cả|kể cả)\s", text)[0]  # what the indicator includes is no part of it
    if len(text.split()) > 16:
        text = re.sub(r"\s*\([^()]*\)", "", text)
    words = text.split()
    return " ".join(words[-16:]) if len(words) > 16 else text


_HEAD = re.compile(r"(?:trong do[: ]+)?(?:ty le|so |tong|dien tich|san luong|dan |thu nhap|thu ngan sach|gia tri|"
                   r"toc do|muc |ty trong|chieu dai|doanh thu|luot khach|so luong|co cau)")


def _last_top_level(text: str, char: str) -> int:
    """Where ``char`` last stands outside parentheses ("che phủ rừng (tính cả …, cây phân tán)"), or -1."""
    depth, where = 0, -1
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if c == char and depth <= 0:
            where = i
    return where


def facts_json(facts: list[Fact]) -> list[dict]:
    return [f.to_json() for f in facts]
