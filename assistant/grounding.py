"""The number-grounding check: every figure an answer shows must stand in a cited passage.

Figures are compared as whole numbers (so "1%" is not grounded by "51,51%") and by value: the
reports write Vietnamese numbers, an English answer English ones, so "51.51%" in an English answer
is grounded by "51,51%" and "17,732 ha" by "17.732 ha", while "17.732 ha" there (17.732) is not.
"""

from __future__ import annotations

import re

from assistant.schema import Answer
from index.text import FIGURE, parse_vn_number

_CITATION_MARK = re.compile(r"\[\d+\]")
_PERIOD_LABEL = re.compile(r"\b20(20|21|25|26)\s*[-–]\s*20(24|25|30)\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTE = re.compile(r"“[^”]*”")


def _values(number: str) -> set[float]:
    """The values a written number can mean: "17.732" is 17732 (Vietnamese) or 17.732 (English)."""
    out: set[float] = set()
    for decimal, thousands in ((",", "."), (".", ",")):
        value = _reading(number, decimal, thousands)
        if value is not None:
            out.add(value)
    return out


def _reading(number: str, decimal: str, thousands: str) -> float | None:
    """The number read with one convention, or None when it is not written that way."""
    parts = number.split(decimal)
    if len(parts) > 2:
        return None
    whole = parts[0].split(thousands)
    if len(whole) > 1 and not all(len(g) == 3 for g in whole[1:]):
        return None
    try:
        return float("".join(whole) + ("." + parts[1] if len(parts) == 2 else ""))
    except ValueError:
        return None


def _passage_values(number: str) -> set[float]:
    """What a number in a report means: the reports' convention ("17.732" is 17732, never 17.732), and
    for "1,247" (a Vietnamese decimal or one of the few English thousands commas) both."""
    value = parse_vn_number(number)
    out = {value} if value is not None else set()
    if re.fullmatch(r"\d{1,3},\d{3}", number):
        out.add(float(number.replace(",", "")))
    return out


def _answer_values(number: str, english: bool) -> set[float]:
    """What a number in the answer's own words means: English answers write English numbers, so
    "17.732 ha" there is 17.732 and is not grounded by the report's 17.732 (17732) ha."""
    if not english:
        return _values(number)
    value = _reading(number, ".", ",")
    return {value} if value is not None else set()


def ungrounded_figures(answer: Answer) -> list[str]:
    """Figures in the answer text that no cited passage contains (should always be empty).

    Quoted report text (“…”) is read as the report writes numbers; the answer's own words as its
    language does.
    """
    text = _PERIOD_LABEL.sub(" ", _CITATION_MARK.sub(" ", answer.answer))
    cited: set[float] = set()
    for citation in answer.citations:
        for m in FIGURE.finditer(citation.text):
            for number in _NUMBER.findall(m.group(0)):
                cited |= _passage_values(number)
    literal = " ".join(c.text for c in answer.citations)
    english = answer.language == "en"
    missing = []
    quotes = [(m.start(), m.end()) for m in _QUOTE.finditer(text)]
    for m in FIGURE.finditer(text):
        quoted = any(s <= m.start() < e for s, e in quotes)
        for number in _NUMBER.findall(m.group(0)):
            values = _values(number) if quoted else _answer_values(number, english)
            if not (values & cited) and not (not values and _literal(number, literal)):
                missing.append(m.group(0).strip())
                break
    return missing


def _literal(number: str, cited: str) -> bool:
    """A number with no numeric reading ("2.2.4", a heading) must stand whole in the cited text."""
    return re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d]|[.,]\d)", cited) is not None


def is_grounded(answer: Answer) -> bool:
    return not ungrounded_figures(answer)
