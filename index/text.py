"""Text helpers shared by indexing and answering: folding, tokens, sentences, figures."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "D"})
_TOKEN = re.compile(r"[0-9]+(?:[.,/][0-9]+)*%?|[^\W\d_]+", re.UNICODE)
# A figure as written in the reports: "51,51%", "17.732 ha", "8-10%", "14/14", "1,5- 3%".
FIGURE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?:\s*[-–]\s*\d+(?:[.,]\d+)*)?(?:/\d+(?:[.,]\d+)*)?(?:\s*%)?")
DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\bngày \d{1,2} tháng \d{1,2}")  # "01/7/2025", "ngày 16 tháng 6"
_SENTENCE_SPLIT = re.compile(r"(?<=[.;!?])\s+(?=[\"“(]?[A-ZÀ-ỸĐ0-9(])")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lowercase without diacritics (đ→d): how users type Vietnamese without accents."""
    text = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", text).lower()


def tokens(text: str) -> list[str]:
    """Folded word and number tokens."""
    return _TOKEN.findall(fold(text))


_ABBREVIATIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "abbreviations.tsv"


@lru_cache(maxsize=1)
def _abbreviations() -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One pattern for every abbreviation in data/abbreviations.tsv, and what each stands for (folded)."""
    if not _ABBREVIATIONS_FILE.exists():
        return None, {}
    expansions: dict[str, str] = {}
    for line in _ABBREVIATIONS_FILE.read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip():
            expansions[fold(parts[0].strip())] = fold(parts[1].strip())
    if not expansions:
        return None, {}
    alternatives = "|".join(re.escape(a) for a in sorted(expansions, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])({alternatives})(?![a-z0-9])"), expansions


@lru_cache(maxsize=65536)
def fold_expanded(text: str) -> str:
    """Folded text with abbreviations spelled out: "BHYT" also reads "bảo hiểm y tế"."""
    pattern, expansions = _abbreviations()
    folded = fold(text)
    if pattern is None:
        return folded
    return pattern.sub(lambda m: f"{m.group(1)} {expansions[m.group(1)]}", folded)


def lexical_tokens(text: str) -> list[str]:
    """Folded words plus adjacent-word pairs, for BM25.

    Vietnamese words are syllables: "gia súc" is two tokens, and folding makes "đàn" and
    "dân" both "dan". Pairs ("gia_suc", "dan_dai") restore much of what the syllables lose.
    Bare numbers are left out: years and list numbers match everything.
    """
    words = [t for t in _TOKEN.findall(fold_expanded(text)) if not t[0].isdigit()]
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def squash(text: str) -> str:
    """NFC, lowercase, no whitespace: for comparing text across line breaks."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text)).lower()


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping "51,51%" and "2.487" intact."""
    parts = [p.strip() for p in _SENTENCE_SPLIT.split(text) if p.strip()]
    merged: list[str] = []
    for part in parts:
        if merged and re.fullmatch(r"\(?\d{1,2}(\.\d{1,2})*[.)]?-?", merged[-1]):
            merged[-1] = f"{merged[-1]} {part}"  # "1." alone is a list number, not a sentence
        else:
            merged.append(part)
    return merged


def figures(text: str) -> list[str]:
    """The figures in a text, as written."""
    return [m.group(0).strip() for m in FIGURE.finditer(text)]


def has_diacritics(text: str) -> bool:
    return fold(text) != text.lower()


def parse_vn_number(text: str) -> float | None:
    """Parse a Vietnamese-format number: "," decimal, "." thousands ("17.732" → 17732, "51,51" → 51.51).

    A few places use English commas; "1,247" with exactly three digits after a single comma is
    ambiguous, and the reports' own convention (comma = decimal) wins.
    """
    s = text.strip().rstrip("%").strip()
    if not re.fullmatch(r"\d+(?:[.,]\d+)*", s):
        return None
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif "," in s:
        s = s.replace(",", ".") if s.count(",") == 1 else s.replace(",", "")
    elif "." in s:
        groups = s.split(".")
        s = s.replace(".", "") if all(len(g) == 3 for g in groups[1:]) else s
    try:
        return float(s)
    except ValueError:
        return None

# A list item's opening: "1.", "(2)", "a)", "- ", "Ba là" (the reports' own enumerators).
ENUMERATOR = re.compile(r"^\s*(\(?\d{1,2}[.)]|\(?[a-zđ]\)|[-+•]\s|(Một|Hai|Ba|Bốn|Năm|Sáu|Bảy|Tám|Chín|Mười) là\b)",
                        re.IGNORECASE)
