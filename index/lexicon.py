"""The indicator lexicon (``data/indicators.tsv``): one canonical key per indicator, across communes.

Each row is a key, its English name, its usual unit and the Vietnamese phrases the reports use
for it. A record's indicator takes the key of the longest phrase it contains, so "tỷ lệ hộ cận
nghèo" finds the near-poor row before the poor one. Qualifier words keep indicators apart that
differ by one word: a phrase whose indicator holds a qualifier word the row's own phrases lack
("cận" in "hộ cận nghèo", "xã hội" in "bảo hiểm xã hội") never takes that row. The qualifier
words are read off the lexicon itself (what a longer phrase adds to a shorter one it contains)
plus the short list in ``data/indicator_qualifiers.txt``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from index.text import fold


@dataclass
class LexiconRow:
    key: str
    english: str
    unit: str | None
    phrases: list[str]  # folded


@dataclass
class Lexicon:
    rows: list[LexiconRow] = field(default_factory=list)
    qualifiers: set[str] = field(default_factory=set)  # folded words/phrases that change an indicator

    def __post_init__(self) -> None:
        self.by_key = {r.key: r for r in self.rows}
        self.phrases = sorted(((p, r.key) for r in self.rows for p in r.phrases), key=lambda x: -len(x[0]))
        self.qualifiers = self.qualifiers | self._derived_qualifiers()

    def _derived_qualifiers(self) -> set[str]:
        """What a longer phrase of another row adds to a shorter phrase it contains ("cận")."""
        out: set[str] = set()
        for short, key_a in self.phrases:
            for long, key_b in self.phrases:
                if key_a != key_b and short != long and _words(short) < _words(long):
                    extra = _words(long) - _words(short)
                    out.update(extra)
        return out

    def match(self, indicator: str) -> str | None:
        """The key of the most specific phrase the indicator contains, or None."""
        text = f" {_norm(indicator)} "
        found: list[tuple[int, int, str]] = []
        for phrase, key in self.phrases:
            i = text.find(f" {phrase} ")
            if i < 0 or any(a <= i < b or a < i + len(phrase) + 1 <= b for a, b, _ in found):
                continue
            found.append((i, i + len(phrase) + 1, key))
        keys = []
        for _, _, key in found:
            if key not in keys and self._allowed(key, text):
                keys.append(key)
        return keys[0] if len(keys) == 1 else None

    def _allowed(self, key: str, text: str) -> bool:
        row_words = set().union(*(_words(p) for p in self.by_key[key].phrases))
        for q in self.qualifiers:
            if q not in row_words and f" {q} " in text and not _in_row_phrase(q, self.by_key[key]):
                return False
        return True

    def english(self, key: str | None) -> str | None:
        return self.by_key[key].english if key in self.by_key else None

    def unit(self, key: str | None) -> str | None:
        return self.by_key[key].unit if key in self.by_key else None


def _contains(long: str, short: str) -> bool:
    return f" {short} " in f" {long} "


def _in_row_phrase(q: str, row: LexiconRow) -> bool:
    return any(_contains(p, q) for p in row.phrases)


def _words(phrase: str) -> set[str]:
    return set(phrase.split())


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


@lru_cache(maxsize=4)
def load_lexicon(path: Path, qualifiers_path: Path | None = None) -> Lexicon:
    """Read the lexicon TSV (header: key, english, unit, phrases); a missing file is an empty lexicon."""
    rows: list[LexiconRow] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) < 4 or not parts[0].strip() or line.startswith("#"):
                continue
            phrases = [_norm(p) for p in parts[3].split("|") if _norm(p)]
            rows.append(LexiconRow(parts[0].strip(), parts[1].strip(), parts[2].strip() or None, phrases))
    qualifiers: set[str] = set()
    if qualifiers_path and qualifiers_path.exists():
        qualifiers = {_norm(w) for w in qualifiers_path.read_text(encoding="utf-8").splitlines()
                      if _norm(w) and not w.startswith("#")}
    return Lexicon(rows, qualifiers)
