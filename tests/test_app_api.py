"""The app's /ask endpoint through gradio_client, as the README shows it, against the real index."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import stop

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "What is Mường La's forest-cover target?"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, log: Path) -> subprocess.Popen:
    """``python app.py`` exactly as a user starts it, on a free loopback port."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as fh:
        return subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the app exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "config", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the app did not start within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    proc = start_app(port, log)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, proc, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def client(app_url: str):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def test_ask_with_only_a_question(client) -> None:
    result = client.predict(QUESTION, api_name="/ask")
    assert result["status"] == "answered"
    assert "51,51" in result["answer"]
    assert any(c["file"] == "muong-la.txt" and c["line_start"] <= 884 <= c["line_end"] for c in result["citations"])
    assert "[1]" in result["answer"]


def test_follow_up_with_history_as_list_or_json(client) -> None:
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "51,51% [1]"}]
    as_list = client.predict("And Bó Sinh?", history, api_name="/ask")
    as_json = client.predict("And Bó Sinh?", json.dumps(history[:1], ensure_ascii=False), api_name="/ask")
    for result in (as_list, as_json):
        assert result["status"] == "answered"
        assert "30,2" in result["answer"]


def test_filters_are_passed_on(client) -> None:
    result = client.predict("What is the forest-cover target?", None, "Bó Sinh", "2025-2030", api_name="/ask")
    assert result["status"] == "answered"
    assert {c["file"] for c in result["citations"]} == {"bo-sinh.txt"}


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_an_error_answer_not_an_exception(client, question: str) -> None:
    result = client.predict(question, api_name="/ask")
    assert result["status"] == "error"
    assert "question" in result["answer"].lower()
    assert result["citations"] == []


def test_bad_history_is_an_error_answer(client) -> None:
    result = client.predict(QUESTION, "{not json", api_name="/ask")
    assert result["status"] == "error"
    assert "history" in result["answer"]
