"""The stores: Chroma for vectors (always our own), bm25s over folded text, passages as JSONL.

Chroma runs embedded (``PersistentClient`` in the index directory) or against a server
(``chroma run``) when the config names a host. Either way a collection is written once per
index generation and never mutated, so readers never see a half-written index.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from baocao.config import Settings
from index.schema import Passage
from index.text import lexical_tokens

_CHROMA_BATCH = 1000


def chroma_client(settings: Settings, path: Path):
    """An embedded client for ``path``, or an HTTP client when a server is configured."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class VectorStore:
    """One Chroma collection holding the passages' vectors, ids and metadata."""

    def __init__(self, settings: Settings, path: Path, collection: str) -> None:
        self.client = chroma_client(settings, path)
        self.name = collection
        self._collection = None

    def write(self, passages: Sequence[Passage], vectors: np.ndarray) -> None:
        collection = self.client.get_or_create_collection(
            self.name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        for start in range(0, len(passages), _CHROMA_BATCH):
            batch = passages[start : start + _CHROMA_BATCH]
            collection.add(
                ids=[p.id for p in batch],
                embeddings=vectors[start : start + len(batch)].astype(np.float32),
                documents=[p.text for p in batch],
                metadatas=[p.to_metadata() for p in batch],
            )

    def collection(self):
        if self._collection is None:
            self._collection = self.client.get_collection(self.name, embedding_function=None)
        return self._collection

    def count(self) -> int:
        return self.collection().count()

    def query(self, vector: Sequence[float], k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(passage id, cosine similarity) best first."""
        res = self.collection().query(
            query_embeddings=[list(vector)], n_results=k, where=where or None, include=["distances"]
        )
        ids, dists = res["ids"][0], res["distances"][0]
        return [(pid, 1.0 - float(d)) for pid, d in zip(ids, dists, strict=True)]

    def drop(self) -> None:
        with contextlib.suppress(Exception):  # already gone is fine
            self.client.delete_collection(self.name)


def lexical_text(p: Passage) -> str:
    """What BM25 sees: the passage and the title it sits under ("2.1. Về kinh tế")."""
    last_title = p.section.rsplit("›", 1)[-1] if p.section else ""
    return f"{last_title} {p.text}"


class LexicalStore:
    """bm25s over folded tokens (lowercase, no diacritics, đ→d)."""

    def __init__(self, retriever: bm25s.BM25) -> None:
        self.retriever = retriever

    @classmethod
    def build(cls, passages: Sequence[Passage]) -> LexicalStore:
        retriever = bm25s.BM25()
        retriever.index([lexical_tokens(lexical_text(p)) or ["_"] for p in passages], show_progress=False)
        return cls(retriever)

    def save(self, path: Path) -> None:
        self.retriever.save(str(path), show_progress=False)

    @classmethod
    def load(cls, path: Path) -> LexicalStore:
        return cls(bm25s.BM25.load(str(path), show_progress=False, mmap=False))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage (index order) for the query tokens."""
        known = [t for t in query_tokens if t in self.retriever.vocab_dict]
        if not known:
            return np.zeros(self.retriever.scores["num_docs"], dtype=np.float32)
        return self.retriever.get_scores(known)


def write_passages(path: Path, passages: Sequence[Passage]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for p in passages:
            fh.write(json.dumps({"text": p.text, **p.to_metadata()}, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_passages(path: Path) -> list[Passage]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            text = d.pop("text")
            out.append(Passage.from_metadata(text, d))
    return out
