"""The number-grounding check: every figure an answer shows must stand in a cited passage.

Figures are compared as whole numbers (so "1%" is not grounded by "51,51%") and by value in
both number conventions (so "51.51%" is grounded by "51,51%" and "17,732" by "17.732").
"""

from __future__ import annotations

import re

from assistant.schema import Answer
from index.text import FIGURE

_CITATION_MARK = re.compile(r"\[\d+\]")
_PERIOD_LABEL = re.compile(r"\b20(20|21|25|26)\s*[-–]\s*20(24|25|30)\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _values(number: str) -> set[float]:
    """The values a written number can mean: "17.732" is 17732 (Vietnamese) or 17.732 (English)."""
    out: set[float] = set()
    for decimal, thousands in ((",", "."), (".", ",")):
        parts = number.split(decimal)
        if len(parts) > 2:
            continue
        whole = parts[0].split(thousands)
        if len(whole) > 1 and not all(len(g) == 3 for g in whole[1:]):
            continue
        try:
            out.add(float("".join(whole) + ("." + parts[1] if len(parts) == 2 else "")))
        except ValueError:
            continue
    return out


def _figures(text: str) -> list[tuple[set[float], bool]]:
    """Each figure of a text as (possible values of each of its numbers…, is a percentage)."""
    out = []
    for m in FIGURE.finditer(text):
        for number in _NUMBER.findall(m.group(0)):
            out.append((_values(number), m.group(0).rstrip().endswith("%")))
    return out


def ungrounded_figures(answer: Answer) -> list[str]:
    """Figures in the answer text that no cited passage contains (should always be empty)."""
    text = _PERIOD_LABEL.sub(" ", _CITATION_MARK.sub(" ", answer.answer))
    cited: set[float] = set()
    for citation in answer.citations:
        for values, _ in _figures(citation.text):
            cited |= values
    literal = " ".join(c.text for c in answer.citations)
    missing = []
    for m in FIGURE.finditer(text):
        numbers = _NUMBER.findall(m.group(0))
        if any(not (_values(n) & cited) and not _literal(n, literal) for n in numbers):
            missing.append(m.group(0).strip())
    return missing


def _literal(number: str, cited: str) -> bool:
    """A number with no numeric reading ("2.2.4", a heading) must stand whole in the cited text."""
    if _values(number):
        return False
    return re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d]|[.,]\d)", cited) is not None


def is_grounded(answer: Answer) -> bool:
    return not ungrounded_figures(answer)
