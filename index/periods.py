"""The period a sentence speaks of, for documents whose structure says nothing about periods.

The five reports carry their periods in their parts ("Phần thứ nhất: KẾT QUẢ … 2020-2025");
a newspaper summary of a congress has no headings, so "5 năm qua, … đã đạt 45%" (a result)
and "phấn đấu đến năm 2030 đạt 48%" (a target) sit in one paragraph, often in one sentence.
The cue phrases are data (``data/period_cues.tsv``); a sentence holding cues of both terms is
cut at the clause where the term changes, so each figure keeps the period it was written for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from baocao.config import DATA_FILES
from index.schema import PERIOD_PLAN, PERIOD_REVIEW
from index.text import fold, sentences

CUES_FILE = DATA_FILES / "period_cues.tsv"
# Clause boundaries inside a sentence: ", " (not the decimal comma of "45,5"), ";", ":" and " và ".
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|\s+(?=và\s)")
# A list item ("- Tổng sản lượng …", "(3) …", "a) …") under an intro that ends with ":".
LIST_ITEM = re.compile(r"^\s*(?:[-–+•*]|\(?\d{1,2}[.)]|\(\d{1,2}\)|[a-zđ]\))\s*")
# A clause that states a measured figure ("đạt 45%", "45 triệu đồng"), not a date or a congress number.
_MEASURED = re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|ha\b|triệu|tỷ|tấn|km\b|người|hộ\b|con\b|đồng|lần\b)", re.I)


@dataclass(frozen=True)
class Cue:
    period: str
    pattern: re.Pattern[str]  # matched against folded text (lowercase, no diacritics)


@lru_cache(maxsize=4)
def load_cues(path: Path = CUES_FILE) -> tuple[Cue, ...]:
    """Cue phrases from the TSV (``period<TAB>regex``, written with diacritics, folded here)."""
    if not path.exists():
        return ()
    cues: list[Cue] = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        period, _, pattern = line.partition("\t")
        if period.strip() in (PERIOD_REVIEW, PERIOD_PLAN) and pattern.strip():
            cues.append(Cue(period.strip(), re.compile(fold(pattern.strip()))))
    return tuple(cues)


def clause_period(clause: str, cues: tuple[Cue, ...] | None = None) -> str | None:
    """The period of the first cue in a clause; where cues overlap the longest wins
    ("vượt mục tiêu" is a result although "mục tiêu" alone is a target)."""
    folded = fold(clause)
    found: list[tuple[int, int, str]] = []  # (start, -length, period)
    for cue in load_cues() if cues is None else cues:
        found.extend((m.start(), -(m.end() - m.start()), cue.period) for m in cue.pattern.finditer(folded))
    kept: list[tuple[int, int, str]] = []
    for start, neg_len, period in sorted(found, key=lambda f: (f[1], f[0])):  # longest first
        end = start - neg_len
        if all(end <= s or start >= s - n for s, n, _ in kept):
            kept.append((start, neg_len, period))
    return min(kept)[2] if kept else None


def period_runs(text: str, inherited: str | None = None) -> list[tuple[str, str | None]]:
    """``text`` cut into consecutive pieces of one period each, in order; no character dropped.

    A clause without a cue continues the period before it. A leading figure clause before a
    target clause ("thu nhập đạt 45 triệu, phấn đấu đến năm
    2030 đạt 70 triệu") is the result the target is set against.
    """
    runs: list[tuple[str, str | None]] = []
    current = inherited
    for sentence in sentences(text):
        for piece, period in _sentence_runs(sentence, current):
            current = period or current
            if runs and runs[-1][1] == period:
                runs[-1] = (f"{runs[-1][0]} {piece}", period)
            else:
                runs.append((piece, period))
    return runs


def _sentence_runs(sentence: str, inherited: str | None) -> list[tuple[str, str | None]]:
    clauses = [c for c in _CLAUSE_END.split(sentence) if c]
    periods = [clause_period(c) for c in clauses]
    first = next((p for p in periods if p), None)
    lead = inherited
    if first == PERIOD_PLAN and periods[0] is None and _MEASURED.search(clauses[0]):
        lead = PERIOD_REVIEW  # "giảm bình quân 1,4%/năm, phấn đấu đến năm 2030 …": what was done, then the aim
    out: list[tuple[str, str | None]] = []
    current = lead
    for clause, period in zip(clauses, periods, strict=True):
        current = period or current
        if out and out[-1][1] == current:
            out[-1] = (f"{out[-1][0]} {clause}", current)
        else:
            out.append((clause, current))
    return out
