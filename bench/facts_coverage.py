"""How many of the reports' figures are in a fact record (issue 10's coverage check).

    python bench/facts_coverage.py [--misses N] [--json OUT]

For each report, every content figure (not a year, a date, a document, list, road or
level number, nor an age band) in the
2025-2030 sections and in the 2020-2025 results sections is looked up among the fact records of
the current index: *covered* when a record of that commune cites a line range holding the figure's
line (the issue's criterion), *valued* when such a record also holds that number as a value, its
plan or its % of plan. The figures are found here with their own, simpler rules than the
extractor's, so the check does not grade the extractor against itself.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict

from baocao.config import get_settings
from index.cleaning import clean_lines
from index.facts import PERIOD_PROFILE, LineLocator, classify
from index.loaders import read_report
from index.reader import open_index
from index.schema import PERIOD_PLAN, PERIOD_REVIEW
from index.text import FIGURE, parse_vn_number

_NOT_CONTENT = [
    r"(?<![\d.,])(?:19|20)\d{2}(?:\s*[-–]\s*(?:19|20)\d{2})?(?!\d|[.,]\d)",  # years, year ranges
    r"\d{1,2}/\d{1,2}/\d{4}|\d{1,2}/(?:19|20)\d{2}",  # dates
    r"\d+(?:[-/][A-ZĐ][\w/\-]*)+",  # document numbers 1681/NQ-UBTVQH15
    r"(?i:(?:quyết định|nghị quyết|hướng dẫn|kế hoạch|chỉ thị|thông báo|kết luận|công văn|văn bản|"
               r"thông tư|nghị định|quy định|đề án|chương trình|quy chế|tờ trình|báo cáo)\s+số\s+\d+)",
    r"\(\s*\d{1,2}\s*\)",  # (3)
    r"^\s*[-+]?\s*\d{1,2}(?:\.\d{1,2})*[.)]\s",  # a list or heading number opening the text
    r"(?<=[.;:]\s)\d{1,2}(?:\.\d{1,2})*\.\s",  # one inside a joined paragraph
    r"(?i:lần thứ\s+\w+)",
    r"(?i:(?:mức(?: độ)?|quốc lộ|tỉnh lộ)\s+\d+(?:\s*,\s*\d+)*|covid\s*-?\s*19|\d{1,2}\s*tuổi)",  # levels, roads, ages
    r"\b\d[G]\b",  # 3G, 4G networks
]
_MASK = re.compile("|".join(f"(?:{p})" for p in _NOT_CONTENT))
_FOOTNOTE_NUMBER = re.compile(r"^\s*\d{1,2}\*?\.?\s")


def figures_of(text: str, footnote: bool) -> list[tuple[int, float]]:
    """(offset, number) of each content figure in ``text``."""
    masked = _MASK.sub(lambda m: " " * len(m.group(0)), text)
    if footnote:
        m = _FOOTNOTE_NUMBER.match(masked)
        masked = " " * m.end() + masked[m.end():] if m else masked
    out = []
    for m in FIGURE.finditer(masked):
        first = re.split(r"\s*[-–/]\s*", m.group(0).rstrip("% "))[0]
        number = parse_vn_number(first)
        if number is not None:
            out.append((m.start(), number))
    return out


def coverage(settings=None) -> dict:
    settings = settings or get_settings()
    index = open_index(settings)
    by_commune: dict[str, list[dict]] = defaultdict(list)
    for f in index.facts:
        by_commune[f["commune"]].append(f)
    locators = {}
    stats: dict[tuple[str, str], dict] = defaultdict(lambda: {"figures": 0, "covered": 0, "valued": 0,
                                                              "misses": []})
    for p in index.passages:
        period, _ = classify(p)
        if period not in (PERIOD_PLAN, PERIOD_REVIEW) or period == PERIOD_PROFILE:
            continue
        if p.file not in locators:
            locators[p.file] = LineLocator(clean_lines(read_report(settings.reports_dir / p.file).lines))
        for offset, number in figures_of(p.text, p.kind == "footnote"):
            line, _ = locators[p.file].span_lines(p, offset, offset + 1)
            s = stats[(p.file, period)]
            s["figures"] += 1
            holding = [f for f in by_commune[p.commune] if f["file"] == p.file
                       and f["line_start"] <= line <= f["line_end"]]
            if holding:
                s["covered"] += 1
            if any(_holds(f, number) for f in holding):
                s["valued"] += 1
            elif len(s["misses"]) < 200:
                s["misses"].append(f"{p.file}:{line} {number:g} | {p.text[max(0, offset - 50):offset + 25]}")
    return {f"{file} {period}": v for (file, period), v in sorted(stats.items())}


def _holds(fact: dict, number: float) -> bool:
    numbers = {v["number"] for v in fact["values"]} | {v["high"] for v in fact["values"]}
    numbers |= {(fact.get("plan") or {}).get("number"), fact.get("ratio")}
    return number in numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", type=int, default=0, help="print up to N figures no record holds")
    parser.add_argument("--json", help="write the figures as JSON")
    args = parser.parse_args()
    result = coverage()
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"figures": 0, "covered": 0, "valued": 0})
    print("| report | period | figures | in a record's lines | held as a value |")
    print("|---|---|---:|---:|---:|")
    for name, s in result.items():
        file, period = name.split(" ")
        for k in ("figures", "covered", "valued"):
            totals[period][k] += s[k]
        print(f"| {file} | {period} | {s['figures']} | {_pct(s['covered'], s['figures'])} | "
              f"{_pct(s['valued'], s['figures'])} |")
    for period, t in sorted(totals.items()):
        print(f"| **all five** | **{period}** | {t['figures']} | **{_pct(t['covered'], t['figures'])}** | "
              f"{_pct(t['valued'], t['figures'])} |")
    if args.misses:
        for s in result.values():
            for miss in s["misses"][: args.misses]:
                print("  miss", miss)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"reports": result, "totals": totals}, fh, ensure_ascii=False, indent=1)


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "—"


if __name__ == "__main__":
    main()
