"""The indicator lexicon (``data/indicators.tsv``): one canonical key per indicator, across communes.

Each row is a key, its English name, its usual unit (as the reports write it) and the Vietnamese phrases the reports use
for it (curated from ``bench/indicator_vocabulary.py``, which lists what the extractor finds). A
record's indicator takes the key of the longest phrase it contains, so "tỷ lệ hộ cận nghèo" finds
the near-poor row before the poor one; an indicator that holds phrases of two keys side by side
("hộ nghèo, hộ cận nghèo") is a combined one and gets no key. Qualifier groups
(``data/indicator_qualifiers.txt``) keep indicators apart that differ by one word: a row never
takes an indicator holding a qualifier word the row's own phrases lack (health vs social
insurance, area vs output). A percentage row never takes a count ("56 tổ chức đảng") and a count
row never takes a percentage.
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
    qualifiers: list[tuple[str, ...]] = field(default_factory=list)  # folded groups of qualifier phrases

    def __post_init__(self) -> None:
        self.by_key = {r.key: r for r in self.rows}
        self.phrases = sorted(((p, r.key) for r in self.rows for p in r.phrases), key=lambda x: -len(x[0]))
        self.by_first: dict[str, list[tuple[str, str]]] = {}  # first word → phrases, longest first
        for phrase, key in self.phrases:
            self.by_first.setdefault(phrase.split()[0], []).append((phrase, key))

    def match(self, indicator: str, unit: str | None = None) -> str | None:
        """The key of the most specific phrase the indicator contains, or None.

        ``unit`` is the unit of the record's value; a count unit ("tổ chức đảng") is read with the
        indicator ("Đảng bộ có 56 tổ chức đảng"), and keeps percentage rows off the record.
        """
        key = self._match(indicator, unit)
        if key is None and unit and unit != "%":
            key = self._match(f"{indicator} {unit}", unit)
        return key

    def _match(self, indicator: str, unit: str | None) -> str | None:
        tokens = _head(indicator).split()
        words = [t for t in tokens if t not in (",", ";")]
        if not words:
            return None
        breaks, seen = set(), 0  # word positions a comma or semicolon stands before
        for t in tokens:
            if t in (",", ";"):
                breaks.add(seen)
            else:
                seen += 1
        text = f" {' '.join(words)} "
        found: list[tuple[int, int, str]] = []  # (first word, past last word, key)
        candidates = sorted((c for w in set(words) for c in self.by_first.get(w, ())), key=lambda x: -len(x[0]))
        for phrase, key in candidates:
            i = text.find(f" {phrase} ")
            if i < 0:
                continue
            first = text[: i + 1].count(" ") - 1
            last = first + len(phrase.split())
            if any(a < last and first < b for a, b, _ in found):
                continue
            found.append((first, last, key))
        if not found:
            return None
        if _side_by_side(words, breaks, found):  # "hộ nghèo, hộ cận nghèo": two indicators listed, no key
            return None
        key = found[0][2]  # the longest phrase: the most specific reading
        return key if self._allowed(key, text, unit) else None

    def _allowed(self, key: str, text: str, unit: str | None) -> bool:
        row = self.by_key[key]
        if unit is not None and (row.unit == "%") != (unit == "%"):  # a share is no count, a count no share
            return False
        for group in self.qualifiers:
            in_row = [q for q in group if any(_contains(p, q) for p in row.phrases)]
            if len(group) > 1 and not in_row:
                continue
            if any(q not in in_row and _contains(text.strip(), q) for q in group):
                return False
        return True

    def by_unit(self, unit: str | None) -> str | None:
        """The one key whose usual unit is ``unit`` ("tổ chức đảng" → party organisations), if only one."""
        keys = [r.key for r in self.rows if unit and r.unit and r.unit.lower() == unit.lower()]
        return keys[0] if len(keys) == 1 else None

    def english(self, key: str | None) -> str | None:
        return self.by_key[key].english if key in self.by_key else None

    def unit(self, key: str | None) -> str | None:
        return self.by_key[key].unit if key in self.by_key else None


def _contains(long: str, short: str) -> bool:
    return f" {short} " in f" {long} "


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def _head(indicator: str) -> str:
    """The indicator without what only qualifies it: parentheses and "bao gồm …"/"tính cả …" tails;
    commas and "và" kept as tokens (they separate indicators listed side by side)."""
    text = re.sub(r"\([^()]*\)", " ", fold(indicator))
    text = re.split(r"\b(?:bao gom|tinh ca|ke ca)\b", text)[0]
    return " ".join(re.findall(r"[a-z0-9]+|[,;]", text))


def _side_by_side(words: list[str], breaks: set[int], found: list[tuple[int, int, str]]) -> bool:
    """Do phrases of two keys stand in a list ("A, B" / "A và B") rather than one inside the other's words?"""
    spans = sorted(found)
    for (_, e1, k1), (s2, _, k2) in zip(spans, spans[1:], strict=False):
        listed = any(e1 <= b <= s2 for b in breaks) or "va" in words[e1:s2]
        if k1 != k2 and listed:
            return True
    return False


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
    groups: list[tuple[str, ...]] = []
    if qualifiers_path and qualifiers_path.exists():
        for line in qualifiers_path.read_text(encoding="utf-8").splitlines():
            group = tuple(_norm(w) for w in line.split("|") if _norm(w))
            if group and not line.startswith("#"):
                groups.append(group)
    return Lexicon(rows, groups)
