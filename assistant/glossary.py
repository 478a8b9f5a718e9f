"""The English → Vietnamese indicator glossary (``data/glossary.tsv``).

English questions must find Vietnamese passages. The dense side bridges languages on its
own, but weakly; the lexical side and the answer checks need the report's own words, so
each English phrase found in a question brings its Vietnamese phrasings along.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from index.text import fold


@dataclass(frozen=True)
class Concept:
    """One idea the question asks about, with the report phrasings that express it (folded)."""

    source: str  # the question's words that brought it in
    phrases: tuple[str, ...]  # folded, for matching
    originals: tuple[str, ...] = ()  # with diacritics, for the embedder


@dataclass(frozen=True)
class Glossary:
    entries: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # (english, folded vi, vi), longest first

    @property
    def english_words(self) -> frozenset[str]:
        """Every word of the glossary's English side: evidence that a question is in English."""
        return frozenset(w for english, _, _ in self.entries for w in english.split() if w.isalpha())

    def concepts(self, question: str) -> list[Concept]:
        """Concepts for the English phrases in a question, longest match first, no overlaps."""
        text = " " + re.sub(r"[^a-z0-9/%]+", " ", question.lower()) + " "
        found: list[Concept] = []
        for english, phrases, originals in self.entries:
            needle = f" {english} "
            if needle in text:
                found.append(Concept(english, phrases, originals))
                text = text.replace(needle, " | ")
        return found


@lru_cache(maxsize=4)
def load_glossary(path: Path) -> Glossary:
    rows: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    if path.exists():
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                originals = tuple(v.strip() for v in (row.get("vi") or "").split("|") if v.strip())
                vi = tuple(dict.fromkeys(fold(v) for v in originals))
                for en in (row.get("en") or "").split("|"):
                    en = re.sub(r"[^a-z0-9/%]+", " ", en.strip().lower()).strip()
                    if en and vi:
                        rows.append((en, vi, originals))
    rows.sort(key=lambda r: -len(r[0]))
    return Glossary(tuple(rows))
