"""Answer latency with a warm index: what a user waits for, per question and in a batch.

Run: ``.venv/bin/python bench/latency.py [--set FILE] [--repeat N] [--limit N]``.
The first pass over the questions only warms up (model load, index pages, caches), so the
numbers measure steady-state answering, not start-up. Not a test: it prints a table.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as a script from a fresh clone without `pip install -e`
    sys.path.insert(0, str(ROOT))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=ROOT / "evals" / "public.jsonl", help="eval set (JSONL)")
    parser.add_argument("--repeat", type=int, default=1, help="measured passes over the questions")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument(
        "--modes", default="hybrid", help="retrieval modes to time, comma-separated; '' for none"
    )
    return parser.parse_args(argv)


def timed(fn: Callable[[], object]) -> float:
    """Wall-clock milliseconds of one call."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def per_question_ms(fn: Callable[[dict], object], items: list[dict], repeat: int) -> list[float]:
    """Latency of each call, over ``repeat`` passes."""
    return [timed(lambda it=it: fn(it)) for _ in range(repeat) for it in items]


def batch_path(assistant: object) -> tuple[str, Callable[[list[dict]], object]]:
    """The assistant's batch entry point if it has one, else a plain loop over ``ask``.

    The label says which was measured, so a loop is never reported as a batch API.
    """
    for name in ("ask_batch", "ask_many"):
        method = getattr(assistant, name, None)
        if callable(method):
            return name, lambda items, m=method: m([it["question"] for it in items])
    return "loop over ask", lambda items: [assistant.ask(it["question"], it.get("history")) for it in items]


def row(label: str, samples: list[float]) -> list[str]:
    from evals.scoring import percentile

    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    return [label, str(len(samples)), f"{p50:.1f}", f"{p95:.1f}", f"{max(samples):.1f}"]


WARM_UP = [{"question": q} for q in ("Mường La forest cover", "ty le ho ngheo", "Compare poverty targets")]


def forget_questions() -> None:
    """Drop the per-question caches (query vectors, folded text) so every measured question is new."""
    from assistant.retrieval import HybridRetriever
    from index.text import fold, fold_expanded

    HybridRetriever._query_vector.cache_clear()
    fold.cache_clear()
    fold_expanded.cache_clear()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from evals.runner import open_assistant, text_table
    from evals.scoring import load_eval_set

    items = load_eval_set(args.set)[: args.limit]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    start = time.perf_counter()
    assistant = open_assistant()
    t_open = (time.perf_counter() - start) * 1000

    def ask(it: dict) -> object:
        return assistant.ask(it["question"], it.get("history"))

    per_question_ms(ask, WARM_UP, 1)  # loads the model and index pages; the measured questions stay unseen
    forget_questions()
    rows = [row("ask", per_question_ms(ask, items, args.repeat))]
    for mode in modes:
        retrieve = lambda it, m=mode: assistant.retrieve(it["question"], it.get("history"), k=10, mode=m)  # noqa: E731
        forget_questions()
        rows.append(row(f"retrieve {mode}", per_question_ms(retrieve, items, args.repeat)))

    label, run_batch = batch_path(assistant)
    forget_questions()
    batch_ms = sum(timed(lambda: run_batch(items)) for _ in range(args.repeat))
    qps = len(items) * args.repeat / (batch_ms / 1000) if batch_ms else float("inf")

    print(f"{len(items)} questions from {args.set}, {args.repeat} measured pass(es); open {t_open:.0f} ms")
    print(text_table(["path", "n", "p50 ms", "p95 ms", "max ms"], rows))
    print(f"batch ({label}): {qps:.1f} questions/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
