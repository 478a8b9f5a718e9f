"""Hybrid retrieval: Chroma (dense) and bm25s (lexical) fused by reciprocal rank fusion.

What generic retrieval lacks, the filters add: passages of other communes than the ones
named are never candidates, and an explicit period rules out the opposite term (a 2030
target is never the answer to "what was achieved", and vice versa).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.query import Query
from baocao.config import Settings
from index.embedding import get_embedder
from index.reader import IndexReader
from index.schema import PERIOD_PLAN, PERIOD_REVIEW, Passage
from index.text import fold

MODES = ("hybrid", "dense", "lexical")


@dataclass
class Hit:
    passage: Passage
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None


class HybridRetriever:
    def __init__(self, index: IndexReader, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.embedder = get_embedder(settings.embedder)
        self._communes = np.array([p.commune for p in index.passages])
        self._periods = np.array([p.period or "" for p in index.passages])
        self._matrix: np.ndarray | None = None
        self.memo: dict | None = None  # evals/fit.py: the same questions are asked under many models

    def retrieve(self, query: Query, k: int = 10, mode: str = "hybrid",
                 communes: list[str] | None = None) -> list[Hit]:
        """The k best passages for the query; ``communes`` overrides the question's own."""
        if self.memo is not None:
            key = (repr(query), k, mode, tuple(communes) if communes is not None else None)
            if key not in self.memo:
                self.memo[key] = self._retrieve(query, k, mode, communes)
            return list(self.memo[key])
        return self._retrieve(query, k, mode, communes)

    def _retrieve(self, query: Query, k: int, mode: str, communes: list[str] | None) -> list[Hit]:
        scope = communes if communes is not None else query.communes
        mask = self._mask(scope, query)
        depth = self.settings.retrieve_k
        lexical = self._lexical(query, mask, depth) if mode in ("hybrid", "lexical") else []
        dense = self._dense(query, scope, mask, depth) if mode in ("hybrid", "dense") else []
        return self._fuse(dense, lexical)[:k]

    def with_siblings(self, hits: list[Hit], top: int = 3) -> list[Hit]:
        """Add the other passages of the top hits' sections: a list question wants every item."""
        seen = {h.passage.id for h in hits}
        extra: list[Hit] = []
        for hit in hits[:top]:
            for p in self.index.section(hit.passage):
                if p.id not in seen:
                    seen.add(p.id)
                    extra.append(Hit(p, hit.score * 0.9))
        return hits[:top] + extra + hits[top:]

    def similarities(self, query: Query, hits: list[Hit]) -> dict[str, float]:
        """Cosine of the question and each hit's passage: a signal for the answer model.

        The passage vectors are read from Chroma once (a few thousand 384-d rows), so this
        costs one small matrix product per question, not another vector search.
        """
        if not hits:
            return {}
        matrix = self._passage_matrix()
        q = np.asarray(self._query_vector(_dense_text(query)), dtype=np.float32)
        q /= np.linalg.norm(q) or 1.0
        rows = [self.index.position.get(h.passage.id) for h in hits]
        return {h.passage.id: float(matrix[i] @ q) for h, i in zip(hits, rows, strict=True) if i is not None}

    def _passage_matrix(self) -> np.ndarray:
        if self._matrix is None:
            got = self.index.vectors.collection().get(include=["embeddings"])
            matrix = np.zeros((len(self.index.passages), len(got["embeddings"][0])), dtype=np.float32)
            for pid, vec in zip(got["ids"], got["embeddings"], strict=True):
                i = self.index.position.get(pid)
                if i is not None:
                    matrix[i] = vec
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            self._matrix = matrix / np.where(norms == 0, 1.0, norms)
        return self._matrix

    def _mask(self, communes: list[str], query: Query) -> np.ndarray:
        mask = np.ones(len(self.index.passages), dtype=bool)
        if communes:
            mask &= np.isin(self._communes, communes)
        opposite = _opposite(query)
        if opposite:
            mask &= self._periods != opposite
        return mask

    def _lexical(self, query: Query, mask: np.ndarray, depth: int) -> list[int]:
        if not query.lexical_tokens:
            return []
        scores = np.where(mask, self.index.lexical.scores(query.lexical_tokens), -1.0)
        order = np.argsort(-scores)[:depth]
        return [int(i) for i in order if scores[i] > 0]

    def question_vector(self, text: str) -> np.ndarray:
        """The embedder's vector of a question (cached: a comparison asks once per commune)."""
        return np.asarray(self._query_vector(text), dtype=np.float32)

    @lru_cache(maxsize=256)  # noqa: B019 - one retriever per index; a comparison asks once per commune
    def _query_vector(self, text: str) -> tuple[float, ...]:
        return tuple(self.embedder.get_query_embedding(text))

    def _dense(self, query: Query, communes: list[str], mask: np.ndarray, depth: int) -> list[int]:
        vector = self._query_vector(_dense_text(query))
        where = _where(communes, _opposite(query))
        found = self.index.vectors.query(vector, k=min(depth, int(mask.sum()) or 1), where=where)
        positions = [self.index.position.get(pid) for pid, _ in found]
        return [i for i in positions if i is not None and mask[i]]

    def _fuse(self, dense: list[int], lexical: list[int]) -> list[Hit]:
        """Reciprocal rank fusion: robust to the two scores living on different scales."""
        rrf_k = self.settings.rrf_k
        scores: dict[int, float] = {}
        for rank, i in enumerate(dense):
            scores[i] = scores.get(i, 0.0) + self.settings.dense_weight / (rrf_k + rank + 1)
        for rank, i in enumerate(lexical):
            scores[i] = scores.get(i, 0.0) + self.settings.lexical_weight / (rrf_k + rank + 1)
        dense_rank = {i: r for r, i in enumerate(dense)}
        lexical_rank = {i: r for r, i in enumerate(lexical)}
        order = sorted(scores, key=lambda i: -scores[i])
        return [Hit(self.index.passages[i], scores[i], dense_rank.get(i), lexical_rank.get(i)) for i in order]


def _opposite(query: Query) -> str | None:
    if not query.period_explicit or query.period is None:
        return None
    return PERIOD_REVIEW if query.period == PERIOD_PLAN else PERIOD_PLAN


def _where(communes: list[str], excluded_period: str | None) -> dict | None:
    clauses: list[dict] = []
    if communes:
        clauses.append({"commune": {"$in": list(communes)}})
    if excluded_period:
        clauses.append({"period": {"$ne": excluded_period}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _dense_text(query: Query) -> str:
    """English questions get the report's own words appended: e5 bridges languages only weakly."""
    extra = " ".join(c.originals[0] for c in query.concepts if c.originals)
    return f"{query.text} {extra}".strip() if extra else query.text


def mentions(passage: Passage, name: str) -> bool:
    return fold(name) in fold(passage.text) or (passage.unit is not None and fold(passage.unit) == fold(name))
