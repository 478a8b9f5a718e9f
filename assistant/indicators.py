"""Which indicator does the question ask about, and which does a candidate window state?

The fact records (``index/facts.py``) name the indicator of many sentences by a key of the
lexicon (``data/indicators.tsv``), and every key has an English name. Two signals for the
answer model come from them:

- lexical: the key of the most specific lexicon phrase in the question (for English, in the
  glossary's Vietnamese renderings of its concepts). A window whose records carry other keys
  only states a neighbouring indicator: "thu nhập bình quân" asked, "tốc độ tăng thu ngân
  sách" found.
- dense: the embedder compares the question with each key's English name. Against the
  Vietnamese sentences, e5 bridges English questions only weakly; against English names it
  ranks the right indicator first far more often, so an English paraphrase that no glossary row
  lists still points at its indicator.

The names' vectors live in the index's embedding cache (``index.build.EmbeddingCache``, by content
hash), so a name is embedded once per embedder, like a passage.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.query import LANG_EN, Query
from index.build import EmbeddingCache
from index.lexicon import Lexicon
from index.schema import Passage
from index.text import fold


@dataclass
class QuestionIndicators:
    """What the question asks for, in lexicon keys (matched phrases, the embedder's similarities),
    and the index that says which keys a window states."""

    index: IndicatorIndex
    lexical: set[str] = field(default_factory=set)
    similarity: dict[str, float] = field(default_factory=dict)
    best: float = 0.0  # the similarity of the nearest indicator name
    top: str | None = None  # that indicator

    def keys_of(self, passage: Passage, text: str) -> set[str]:
        return self.index.window_keys(passage.file, passage.line_start, passage.line_end, fold(text))


@dataclass
class IndicatorIndex:
    """The lexicon keys of each report line range, and the English names' vectors."""

    lexicon: Lexicon
    by_file: dict[str, list[tuple[int, int, str, str]]]  # file → (line start, line end, key, folded text)
    keys: list[str]
    vectors: np.ndarray  # (len(keys), dim), unit length

    @classmethod
    def build(cls, lexicon: Lexicon, facts: list[dict], embedder, cache: Path, label: str) -> IndicatorIndex:
        """``cache``: the index's embedding cache; ``label``: the embedder's name in it."""
        by_file: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)
        for f in facts:
            if f.get("indicator_key"):
                by_file[f["file"]].append((f["line_start"], f["line_end"], f["indicator_key"], fold(f["text"])))
        keys = [r.key for r in lexicon.rows]
        return cls(lexicon, dict(by_file), keys, _name_vectors(lexicon, embedder, cache, label))

    def window_keys(self, file: str, line_start: int, line_end: int, folded_window: str) -> set[str]:
        """Keys of the records inside the window's passage whose sentence the window holds."""
        out = set()
        for start, end, key, text in self.by_file.get(file, ()):
            if start >= line_start and end <= line_end and (text[:60] in folded_window or folded_window in text):
                out.add(key)
        return out

    def for_question(self, query: Query, vector: np.ndarray | None) -> QuestionIndicators:
        found = QuestionIndicators(self, lexical=self._lexical(query))
        if vector is not None and len(self.keys):
            sims = self.vectors @ (vector / (np.linalg.norm(vector) or 1.0))
            found.similarity = dict(zip(self.keys, sims.tolist(), strict=True))
            found.top = self.keys[int(sims.argmax())]
            found.best = found.similarity[found.top]
        return found

    def _lexical(self, query: Query) -> set[str]:
        if query.language != LANG_EN:
            key = self.lexicon.match(query.text)
            return {key} if key else set()
        keys = {self.lexicon.match(p) for c in query.concepts for p in c.phrases}
        return {k for k in keys if k}


def _name_vectors(lexicon: Lexicon, embedder, cache: Path, label: str) -> np.ndarray:
    names = [r.english for r in lexicon.rows]
    if not names:
        return np.zeros((0, 1), dtype=np.float32)
    hashes = [hashlib.sha256(f"indicator name: {n}".encode()).hexdigest() for n in names]
    cache.parent.mkdir(parents=True, exist_ok=True)
    with EmbeddingCache(cache) as store:
        known = store.get_many(label, hashes)
        missing = [(h, n) for h, n in zip(hashes, names, strict=True) if h not in known]
        if missing:
            vectors = embedder.get_text_embedding_batch([n for _, n in missing])
            fresh = [(h, np.asarray(v, dtype=np.float32)) for (h, _), v in zip(missing, vectors, strict=True)]
            store.put_many(label, fresh)
            known.update(fresh)
    matrix = np.vstack([known[h] for h in hashes]).astype(np.float32)
    return matrix / np.where((n := np.linalg.norm(matrix, axis=1, keepdims=True)) == 0, 1.0, n)
