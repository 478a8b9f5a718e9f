"""English figures for English answers: "51,51% trở lên" → "at least 51.51%", "428 hộ" → "428 households".

The reports write numbers the Vietnamese way ("," decimal, "." thousands) with a few English
commas among them ("649,652 con"). A figure is read with ``parse_vn_number`` (the reports'
convention), except that a whole-thing unit (households, head, people) cannot be fractional, so
"649,652 con" is 649652. Words around the figure that change its meaning (trở lên, khoảng, dưới,
giảm … còn, bình quân/năm) are kept in English, and its unit is translated. Both tables are data:
``data/qualifiers_en.tsv`` and ``data/units_en.tsv``. The quote in the answer stays verbatim.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from baocao.config import DATA_FILES
from index.text import fold, parse_vn_number

UNITS_PATH = DATA_FILES / "units_en.tsv"
QUALIFIERS_PATH = DATA_FILES / "qualifiers_en.tsv"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_AMBIGUOUS = re.compile(r"\d{1,3},\d{3}")  # "1,247": a Vietnamese decimal or an English thousands comma
_CLAUSE_END = re.compile(r"[;:,()]|\.\s")


@dataclass(frozen=True)
class Unit:
    vi: str  # folded
    en: str
    count: bool


@dataclass(frozen=True)
class Qualifier:
    vi: str  # folded
    where: str  # "clause" | "before" | "after"
    en: str
    placement: str  # "prefix" | "suffix"
    requires: str  # folded, or ""


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(lines, delimiter="\t")]


@lru_cache(maxsize=2)
def load_units(path: Path = UNITS_PATH) -> tuple[Unit, ...]:
    units = [Unit(fold(r["vi"]), r["en"], r.get("count") == "yes") for r in _rows(path) if r.get("vi")]
    return tuple(sorted(units, key=lambda u: -len(u.vi)))


@lru_cache(maxsize=2)
def load_qualifiers(path: Path = QUALIFIERS_PATH) -> tuple[Qualifier, ...]:
    return tuple(Qualifier(fold(r["vi"]), r["where"], r["en"], r["placement"], fold(r.get("requires", "")))
                 for r in _rows(path) if r.get("vi") and r.get("where") and r.get("en"))


def english_number(number: str, count: bool = False) -> str:
    """"51,51" → "51.51", "17.732" → "17,732", "29,449" → "29.449"; "649,652" of a count → "649,652"."""
    if count and _AMBIGUOUS.fullmatch(number):
        value, decimals = float(number.replace(",", "")), 0
    else:
        parsed = parse_vn_number(number)
        if parsed is None:
            return number
        value, decimals = parsed, _decimals(number, parsed)
    if decimals == 0 and re.fullmatch(r"\d{1,4}", number):
        return str(int(value))  # "03" → "3"; a bare 4-digit number (a year, a code) is not regrouped
    return f"{value:,.{decimals}f}"


def _decimals(number: str, value: float) -> int:
    """How many decimals the report wrote: as many digits as follow the decimal mark it used."""
    for mark in (",", "."):
        head, _, tail = number.rpartition(mark)
        if head and tail and abs(float(f"{head.replace('.', '').replace(',', '')}.{tail}") - value) < 1e-9:
            return len(tail)
    return 0


def english_figure(text: str, start: int, figure: str) -> str:
    """The figure found at ``text[start:]`` as an English answer shows it, qualifier and unit included."""
    numbers = _numeric_part(figure)
    after_start = start + len(numbers)
    unit = _unit_at(text[after_start:]) if not numbers.rstrip().endswith("%") else None
    if unit is None and not numbers.rstrip().endswith("%"):
        unit = _unit_at(figure[len(numbers):])
    count = bool(unit and unit.count)
    shown = _NUMBER.sub(lambda m: english_number(m.group(0), count), numbers.strip())
    shown = re.sub(r"\s*[-–]\s*", "-", shown)
    shown = re.sub(r"\s+%", "%", shown)
    rest = text[after_start:]
    if unit is not None:
        consumed = re.match(rf"\s*{_fold_pattern(unit.vi)}", fold(rest))
        rest = rest[consumed.end():] if consumed else rest
        shown = f"{shown} {unit.en}"
    prefix, suffix = _qualifiers(text[:start], rest)
    return " ".join(p for p in (prefix, shown, suffix) if p)


def _numeric_part(figure: str) -> str:
    """"51,51%" → "51,51%", "428 hộ" → "428", "1,5- 3%" → "1,5- 3%"."""
    m = re.match(r"\s*\d+(?:[.,]\d+)*(?:\s*[-–]\s*\d+(?:[.,]\d+)*)?(?:/\d+(?:[.,]\d+)*)?(?:\s*%)?", figure)
    return m.group(0) if m else figure


def _fold_pattern(folded: str) -> str:
    return re.escape(folded) + r"(?![a-z0-9])"


def _unit_at(text: str) -> Unit | None:
    folded = fold(text)
    for unit in load_units():
        if re.match(rf"\s*{_fold_pattern(unit.vi)}", folded):
            return unit
    return None


def _qualifiers(before: str, after: str) -> tuple[str, str]:
    """English words for what stands around the figure, as (prefix, suffix)."""
    clause = _CLAUSE_END.split(fold(before))[-1]
    tail = fold(after)
    tail = tail[: _CLAUSE_END.search(tail).start()] if _CLAUSE_END.search(tail) else tail
    found: dict[str, str] = {}
    for q in load_qualifiers():
        if q.placement in found or (q.requires and not re.search(rf"(?<![a-z]){re.escape(q.requires)}(?![a-z])",
                                                                 clause)):
            continue
        if q.where == "clause":
            hit = re.search(rf"(?<![a-z]){re.escape(q.vi)}(?![a-z])", clause)
        elif q.where == "before":
            hit = re.search(rf"(?<![a-z]){re.escape(q.vi)}\s*$", clause)
        else:
            hit = re.match(rf"\s*{re.escape(q.vi)}(?![a-z])", tail)
        if hit:
            found[q.placement] = q.en
    return found.get("prefix", ""), found.get("suffix", "")
