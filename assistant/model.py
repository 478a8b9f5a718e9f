"""The answer/refuse model: a logistic regression over ``assistant.features.FEATURES``.

It says how likely a candidate window is to answer the question. The answerer takes the most
likely window and answers only when that likelihood clears ``threshold``; otherwise it says
the reports do not hold the answer. Coefficients and threshold are fitted by ``baocao fit``
(``evals/fit.py``) on labelled questions — calibrated for precision, because a wrong figure
with a citation is worse than "not found" — and stored as data in ``data/answer_model.json``.
Nothing here is tuned by hand.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.features import FEATURES


@dataclass(frozen=True)
class AnswerModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    min_coverage: float = 0.0  # a window covering less of the question's topic never answers (fitted: 0 = no gate)
    meta: dict = field(default_factory=dict, compare=False, hash=False)  # what it was fitted on, CV scores

    def probability(self, x: list[float]) -> float:
        z = self.intercept + sum(c * (v - m) / s for c, v, m, s in zip(self.coef, x, self.mean, self.scale,
                                                                       strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> AnswerModel:
        model = cls(tuple(data["features"]), tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]),
                    float(data["intercept"]), float(data["threshold"]), float(data.get("min_coverage", 0.0)),
                    dict(data.get("meta", {})))
        if model.features != FEATURES:
            raise ValueError("the answer model was fitted on other features; refit it with: baocao fit")
        return model

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def load_model(path: Path) -> AnswerModel | None:
    """The fitted model, or None when none is fitted yet (the answerer then refuses everything)."""
    if not path.exists():
        return None
    return AnswerModel.from_json(json.loads(path.read_text(encoding="utf-8")))
