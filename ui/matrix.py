"""Facts shaped for the Compare and Scorecard tabs: a matrix, a chart series, exports, a scorecard.

Pure functions over the fact records (``Assistant.facts``): no Gradio, no HTML. The matrix has
one row per ``indicator_key`` that two or more communes set for a period, one cell per commune.
A commune without the indicator gets ``None`` — shown as missing, exported blank, never charted
as zero. Every cell keeps the record it was read from, so its figure can be cited to file:lines.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PERIODS = {"2025-2030": "2025-2030 targets", "2020-2025": "2020-2025 results", "profile": "Commune profile"}
MIN_COMMUNES = 2  # a row must compare something
QUALIFIERS = {"at_least": "at least", "about": "about", "below": "below", "range": "range",
              "per_year": "per year", "zero": "none left"}
ASSESSMENTS = {"vượt": ("exceeded", "met"), "đạt": ("met", "met"), "chưa đạt": ("not yet met", "not met"),
               "không đạt": ("not met", "not met")}
MATRIX_HEAD = ("indicator_key", "indicator", "indicator (Vietnamese)")
EXPORT_DIR = Path(tempfile.gettempdir()) / "baocao-exports"


@dataclass(frozen=True)
class Cell:
    """One commune's figure for one indicator, with where it is written."""

    figure: str  # "51,51% (at least)": the figure as written, with unit and qualifier
    number: float | None  # the first value's number, for the chart
    unit: str
    indicator: str  # the Vietnamese indicator as this report writes it
    file: str
    line_start: int
    line_end: int
    section: str
    text: str  # the cited text, verbatim
    others: tuple[tuple[str, str, str], ...]  # the report's other figures for it: (figure, former commune, citation)
    record_id: str = ""

    @property
    def citation(self) -> str:
        return citation(self.file, self.line_start, self.line_end)


@dataclass(frozen=True)
class Row:
    """One indicator across the communes."""

    key: str
    label: str  # English name
    indicator: str  # the most common Vietnamese wording
    cells: dict[str, Cell | None]

    @property
    def present(self) -> int:
        return sum(c is not None for c in self.cells.values())


@dataclass(frozen=True)
class ScoreRow:
    """One 2020-2025 target of a commune: plan, result, % of plan, assessment."""

    label: str
    indicator: str
    unit: str  # the former commune it is about, or ""
    plan: str
    result: str
    ratio: str
    assessment: str  # "đạt (met)", or "" when the report does not say
    status: str | None  # "met", "not met", or None (not assessed in the report)
    file: str
    line_start: int
    line_end: int
    text: str

    @property
    def citation(self) -> str:
        return citation(self.file, self.line_start, self.line_end)


def citation(file: str, start: int, end: int) -> str:
    """"muong-la.txt:884" or "muong-la.txt:883-885"."""
    return f"{file}:{start}" if start == end else f"{file}:{start}-{end}"


def value_text(value: dict) -> str:
    """One value as written plus its unit and qualifier: "51,51% (at least)", "3.550 con"."""
    text = (value.get("text") or "").strip() or _number_text(value.get("number"))
    unit = (value.get("unit") or "").strip()
    if unit and unit.casefold() not in text.casefold():
        text = f"{text} {unit}" if unit != "%" else f"{text}%"
    qualifier = QUALIFIERS.get(value.get("qualifier") or "")
    return f"{text} ({qualifier})" if qualifier and text else (text or qualifier or "")


def figure_of(record: dict) -> str:
    """All of a record's values, as written; a record without values shows its text's gist."""
    parts = [value_text(v) for v in record.get("values") or []]
    return "; ".join(p for p in parts if p) or "(no figure)"


def first_number(record: dict) -> tuple[float | None, str]:
    """The first value that has a number, with its unit (what a bar chart can show)."""
    for v in record.get("values") or []:
        if v.get("number") is not None:
            return float(v["number"]), (v.get("unit") or "").strip()
    return None, ""


def _pick(records: list[dict]) -> dict:
    """The record a cell shows: about the whole commune (not one former commune), with a number, first written."""
    return min(records, key=lambda r: (not _whole_commune(r), first_number(r)[0] is None, r["line_start"]))


def _whole_commune(record: dict) -> bool:
    """About the merged commune itself, not one of its former communes (which may share its name)."""
    return not record.get("unit")


def _cell(records: list[dict]) -> Cell:
    record = _pick(records)
    number, unit = first_number(record)
    return Cell(figure=figure_of(record), number=number, unit=unit, indicator=record.get("indicator") or "",
                file=record["file"], line_start=int(record["line_start"]), line_end=int(record["line_end"]),
                section=record.get("section") or "", text=record.get("text") or "",
                others=tuple((figure_of(r), r.get("unit") or "", citation(r["file"], r["line_start"], r["line_end"]))
                             for r in sorted(records, key=lambda r: r["line_start"]) if r is not record),
                record_id=str(record.get("id") or ""))


def matrix(facts: list[dict], period: str, communes: list[str]) -> list[Row]:
    """Every indicator key that ``MIN_COMMUNES`` or more communes state for ``period`` × ``communes``.

    Rows with most communes first (the most comparable), then by English name.
    """
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for f in facts:
        if f.get("period") == period and f.get("indicator_key") and f.get("commune") in communes:
            grouped[f["indicator_key"]][f["commune"]].append(f)
    rows = []
    for key, by_commune in grouped.items():
        if len(by_commune) < MIN_COMMUNES:
            continue
        records = [r for rs in by_commune.values() for r in rs]
        label = _most_common(r.get("indicator_en") for r in records) or key
        indicator = _most_common(r.get("indicator") for r in records)
        cells = {c: (_cell(by_commune[c]) if c in by_commune else None) for c in communes}
        rows.append(Row(key, label, indicator, cells))
    return sorted(rows, key=lambda r: (-r.present, r.label.casefold(), r.key))


def chart_frame(row: Row | None) -> tuple[pd.DataFrame, str]:
    """The communes' numbers for one indicator in its most common unit, and that unit.

    Missing cells and figures in another unit are left out: a bar of a different unit would lie.
    """
    valued = [(c, cell) for c, cell in (row.cells.items() if row else []) if cell and cell.number is not None]
    if not valued:
        return empty_chart(), ""
    unit = Counter(cell.unit for _, cell in valued).most_common(1)[0][0]
    same = [(c, cell.number) for c, cell in valued if cell.unit == unit]
    return pd.DataFrame({"commune": [c for c, _ in same], "value": [n for _, n in same]}), unit


def chartable(rows: list[Row]) -> list[Row]:
    """Rows with a number in two or more communes (in the same unit): the ones worth a bar chart."""
    return [r for r in rows if len(chart_frame(r)[0]) >= MIN_COMMUNES]


def empty_chart() -> pd.DataFrame:
    """Typed columns: an empty float "commune" column would make the chart's x axis numeric for good."""
    return pd.DataFrame({"commune": pd.Series([], dtype="str"), "value": pd.Series([], dtype="float")})


def matrix_frame(rows: list[Row], communes: list[str]) -> pd.DataFrame:
    """The matrix as a table: the indicator, then per commune its figure and source; blank = not in report."""
    records = []
    for r in rows:
        line = dict(zip(MATRIX_HEAD, (r.key, r.label, r.indicator), strict=True))
        for c in communes:
            cell = r.cells.get(c)
            line[c] = cell.figure if cell else ""
            line[f"{c} source"] = cell.citation if cell else ""
        records.append(line)
    columns = [*MATRIX_HEAD, *(x for c in communes for x in (c, f"{c} source"))]
    return pd.DataFrame(records, columns=columns)


def cells_frame(rows: list[Row]) -> pd.DataFrame:
    """One line per filled cell with its number, unit and the quoted text: the matrix's evidence."""
    columns = ["indicator_key", "indicator", "commune", "figure", "number", "unit", "file", "line_start", "line_end",
               "section", "text"]
    lines = [[r.key, r.label, c, cell.figure, cell.number, cell.unit, cell.file, cell.line_start, cell.line_end,
              cell.section, cell.text] for r in rows for c, cell in r.cells.items() if cell]
    return pd.DataFrame(lines, columns=columns)


def export_files(rows: list[Row], communes: list[str], period: str, folder: Path = EXPORT_DIR) -> tuple[Path, Path]:
    """The matrix as CSV (UTF-8 with BOM, so Excel reads the diacritics) and XLSX (matrix + evidence sheets).

    Named by a hash of the content: two users never overwrite each other's different files.
    """
    frame, cells = matrix_frame(rows, communes), cells_frame(rows)
    digest = hashlib.sha256((frame.to_csv(index=False) + cells.to_csv(index=False)).encode()).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = (folder / f"baocao-matrix-{period}-{digest}{ext}" for ext in (".csv", ".xlsx"))
    if not csv_path.exists():
        _atomic(csv_path, lambda p: frame.to_csv(p, index=False, encoding="utf-8-sig"))
    if not xlsx_path.exists():
        def write_xlsx(p: Path) -> None:
            with pd.ExcelWriter(p, engine="openpyxl") as xl:
                frame.to_excel(xl, sheet_name="matrix", index=False)
                cells.to_excel(xl, sheet_name="cells", index=False)
        _atomic(xlsx_path, write_xlsx)
    return csv_path, xlsx_path


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write beside, then rename: a download never gets a half-written file."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(name))
        Path(name).replace(path)
    finally:
        Path(name).unlink(missing_ok=True)


# --- scorecard --------------------------------------------------------------------------------


def scorecard(facts: list[dict], commune: str) -> list[ScoreRow]:
    """A commune's 2020-2025 results measured against a plan or assessed, in report order."""
    rows = []
    for f in sorted((f for f in facts if f.get("period") == "2020-2025" and f.get("commune") == commune
                     and (f.get("plan") or f.get("assessment") or f.get("ratio") is not None)),
                    key=lambda f: (f["file"], f["line_start"])):
        label, status = ASSESSMENTS.get(f.get("assessment") or "", ("", None))
        rows.append(ScoreRow(
            label=f.get("indicator_en") or "", indicator=f.get("indicator") or "",
            unit="" if _whole_commune(f) else f["unit"],
            plan=value_text(f["plan"]) if f.get("plan") else "", result=figure_of(f),
            ratio=percent(f["ratio"]) if f.get("ratio") is not None else "",
            assessment=f"{f['assessment']} ({label})" if label else (f.get("assessment") or ""), status=status,
            file=f["file"], line_start=int(f["line_start"]), line_end=int(f["line_end"]), text=f.get("text") or ""))
    return rows


def score_counts(rows: list[ScoreRow]) -> dict[str, int]:
    """How many targets the report says were met, not met, or does not assess."""
    counts = Counter(r.status or "not assessed" for r in rows)
    return {k: counts.get(k, 0) for k in ("met", "not met", "not assessed")}


def percent(ratio: float) -> str:
    """A % of plan written the reports' way: 105.2 → "105,2%"."""
    return f"{_number_text(ratio)}%"


def _number_text(number: float | None) -> str:
    if number is None:
        return ""
    text = f"{float(number):,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _most_common(values) -> str:
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else ""
