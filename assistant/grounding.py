"""The number-grounding check: every figure an answer shows must stand in a cited passage."""

from __future__ import annotations

import re

from assistant.schema import Answer
from index.text import FIGURE

_CITATION_MARK = re.compile(r"\[\d+\]")
_PERIOD_LABEL = re.compile(r"\b20(20|21|25|26)\s*[-–]\s*20(24|25|30)\b")


def _canonical(figure: str) -> str:
    return re.sub(r"\s+", "", figure).rstrip(".,")


def ungrounded_figures(answer: Answer) -> list[str]:
    """Figures in the answer text that no cited passage contains (should always be empty)."""
    text = _PERIOD_LABEL.sub(" ", _CITATION_MARK.sub(" ", answer.answer))
    cited = re.sub(r"\s+", "", " ".join(c.text for c in answer.citations))
    missing = []
    for m in FIGURE.finditer(text):
        figure = _canonical(m.group(0))
        if figure and figure not in cited:
            missing.append(m.group(0).strip())
    return missing


def is_grounded(answer: Answer) -> bool:
    return not ungrounded_figures(answer)
