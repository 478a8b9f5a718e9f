"""Answer wording, loaded from ``prompts/extractive.toml`` (data, not code)."""

from __future__ import annotations

import tomllib
from functools import lru_cache

from baocao.config import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"


@lru_cache(maxsize=1)
def _templates() -> dict[str, dict[str, str]]:
    return tomllib.loads((PROMPTS_DIR / "extractive.toml").read_text(encoding="utf-8"))


def phrase(language: str, key: str, **values: object) -> str:
    """The template ``key`` in the answer language (Vietnamese for vi and vi-ascii questions)."""
    lang = "en" if language == "en" else "vi"
    return _templates()[lang][key].format(**values)
