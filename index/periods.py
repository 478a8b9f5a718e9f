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
NEUTRAL = "neutral"  # a cue that names no term's figures and hides the cues inside it
# Clause boundaries inside a sentence: ", " (not the decimal comma of "45,5"), ";", ":" and " và ".
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|\s+(?=và\s)")
# A list item ("- Tổng sản lượng …", "(3) …", "a) …") under an intro that ends with ":".
LIST_ITEM = re.compile(r"^\s*(?:[-–+•*]|\(?\d{1,2}[.)]|\(\d{1,2}\)|[a-zđ]\))\s*")
# A clause that states a measured figure ("đạt 45%", "45 triệu đồng"), not a date or a congress number.
_FIRST_FIGURE = re.compile(r"\d")
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
        if period.strip() in (PERIOD_REVIEW, PERIOD_PLAN, NEUTRAL) and pattern.strip():
            cues.append(Cue(period.strip(), re.compile(fold(pattern.strip()))))
    return tuple(cues)


def cue_periods(text: str, cues: tuple[Cue, ...] | None = None) -> list[tuple[int, str]]:
    """(position, period) of every cue in ``text``, in order; where cues overlap the longest wins
    ("vượt mục tiêu" is a result although "mục tiêu" alone is a target). A neutral cue ("lần thứ I,
    nhiệm kỳ 2025-2030": the congress's name) only hides the cues it covers."""
    folded = fold(text)
    found: list[tuple[int, int, str]] = []  # (start, end, period)
    for cue in load_cues() if cues is None else cues:
        found.extend((m.start(), m.end(), cue.period) for m in cue.pattern.finditer(folded) if m.end() > m.start())
    kept: list[tuple[int, int, str]] = []
    for start, end, period in sorted(found, key=lambda f: (f[0] - f[1], f[0])):  # longest first
        if all(end <= s or start >= e for s, e, _ in kept):
            kept.append((start, end, period))
    return [(start, period) for start, _, period in sorted(kept) if period != NEUTRAL]


def clause_period(clause: str) -> str | None:
    """The period of the first cue in a clause, None without one."""
    found = cue_periods(clause)
    return found[0][1] if found else None


@dataclass(frozen=True)
class Run:
    """Consecutive text of one period. ``subject``: for a piece cut from inside a sentence, the words
    that open that sentence ("Thu nhập bình quân đầu người năm"): the piece "phấn đấu đến năm 2030
    đạt 90 triệu đồng" alone does not say what reaches 90 million."""

    text: str
    period: str | None
    subject: str | None = None


def period_runs(text: str, inherited: str | None = None) -> list[Run]:
    """``text`` cut into consecutive pieces of one period each, in order; no character dropped.

    A clause without a cue continues the period before it. A leading figure clause before a
    target clause ("thu nhập đạt 45 triệu, phấn đấu đến năm 2030 đạt 70 triệu") is the result
    the target is set against.
    """
    runs: list[Run] = []
    current = inherited
    for sentence in sentences(text):
        for n, (piece, period) in enumerate(_sentence_runs(sentence, current)):
            current = period or current
            if runs and runs[-1].period == period:
                runs[-1] = Run(f"{runs[-1].text} {piece}", period, runs[-1].subject)
            else:
                runs.append(Run(piece, period, _subject(sentence) if n else None))
    return runs


def _subject(sentence: str) -> str | None:
    """The opening words of a sentence, up to its first figure."""
    words = _FIRST_FIGURE.split(sentence, maxsplit=1)[0].split()[:10]
    return " ".join(words).rstrip(" ,;:") or None


def _sentence_runs(sentence: str, inherited: str | None) -> list[tuple[str, str | None]]:
    """A sentence's clauses, each with its period: its first cue's, else the clause's before it.

    Cues are found in the whole sentence (a cue may span a comma) and belong to the clause they
    start in. Clauses before the first cue take that cue's period, except a figure clause before a
    target ("giảm bình quân 1,4%/năm, phấn đấu đến năm 2030 …": what was done, then the aim).
    """
    bounds = [0, *(m.end() for m in _CLAUSE_END.finditer(sentence)), len(sentence)]
    spans = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if sentence[a:b].strip()]
    cues = cue_periods(sentence)
    periods = [next((p for pos, p in cues if a <= pos < b), None) for a, b in spans]
    first = next((p for p in periods if p), None)
    if first is None:
        return [(sentence, inherited)]
    contrast = first == PERIOD_PLAN and periods[0] is None and _MEASURED.search(sentence[spans[0][0]:spans[0][1]])
    current = PERIOD_REVIEW if contrast else first
    out: list[tuple[str, str | None]] = []
    for (a, b), period in zip(spans, periods, strict=True):
        clause = sentence[a:b].strip()
        current = period or current
        if out and out[-1][1] == current:
            out[-1] = (f"{out[-1][0]} {clause}", current)
        else:
            out.append((clause, current))
    return out
