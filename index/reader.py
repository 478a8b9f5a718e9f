"""Open the current index generation for reading (what the assistant queries)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from baocao.config import Settings
from index.build import collection_name, current_manifest, embedder_label
from index.schema import Passage
from index.stores import LexicalStore, VectorStore, read_passages


class IndexUnavailable(RuntimeError):
    """The index is missing, half-built or built by another embedder; the message says what to do."""


@dataclass
class IndexReader:
    manifest: dict
    passages: list[Passage]
    lexical: LexicalStore
    vectors: VectorStore
    targets: list[dict]
    facts: list[dict] = field(default_factory=list)  # index/facts.py records (the JSON contract)
    position: dict[str, int] = field(default_factory=dict)  # passage id → index in ``passages``
    sections: dict[tuple[str, str], list[Passage]] = field(default_factory=dict)  # (file, section) → its passages

    def __post_init__(self) -> None:
        self.position = {p.id: i for i, p in enumerate(self.passages)}
        for p in self.passages:
            self.sections.setdefault((p.file, p.section), []).append(p)

    def section(self, passage: Passage) -> list[Passage]:
        """The passages under the same heading of the same report, in the report's order."""
        return self.sections.get((passage.file, passage.section), [])

    @property
    def generation(self) -> str:
        return self.manifest["generation"]


def open_index(settings: Settings) -> IndexReader:
    manifest = current_manifest(settings)
    if manifest is None:
        raise IndexUnavailable(f"No index in {settings.index_dir}. Build it with: baocao index")
    expected = embedder_label(settings.embedder)
    if manifest.get("embedder") != expected:
        raise IndexUnavailable(
            f"The index was built with embedder {manifest.get('embedder')!r} but the config asks for "
            f"{expected!r}. Rebuild it with: baocao index --rebuild"
        )
    gen_dir: Path = settings.index_dir / manifest["generation"]
    try:
        passages = read_passages(gen_dir / "passages.jsonl")
        lexical = LexicalStore.load(gen_dir / "bm25")
        vectors = VectorStore(settings, gen_dir / "chroma", collection_name(manifest["generation"]))
        stored = vectors.count()
        if stored:  # count() reads only SQLite: a damaged vector segment would fail on the first question
            sample = vectors.collection().get(limit=1, include=["embeddings"])["embeddings"][0]
            vectors.query(sample, 1)
        targets = json.loads((gen_dir / "targets.json").read_text(encoding="utf-8"))
        facts = json.loads((gen_dir / "facts.json").read_text(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - any damage means the same thing to the user
        raise IndexUnavailable(
            f"The index in {gen_dir} is damaged ({type(exc).__name__}: {exc}). "
            "Rebuild it with: baocao index --rebuild"
        ) from exc
    if stored != len(passages):
        raise IndexUnavailable(
            f"The index in {gen_dir} is incomplete ({stored} vectors for {len(passages)} passages). "
            "Rebuild it with: baocao index --rebuild"
        )
    return IndexReader(manifest, passages, lexical, vectors, targets, facts)
