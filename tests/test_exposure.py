"""What the app exposes: loopback by default, --auth on every route, a warning for open binds, uploads kept in
the data directory, no telemetry and no outbound connections.

The servers are real ``baocao serve`` processes on free ports, always stopped (``bench.load.live_app``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from baocao.config import PROJECT_ROOT, Settings
from bench.load import free_port, live_app, stop

FOREST = "What is Mường La's forest-cover target?"
USER, PASSWORD = "alice", "s3cret-pass"

# `baocao serve` (the same entry point as the installed script) with an audit hook that records every
# attempt to reach a non-loopback address: connect, sendto and name look-ups.
AUDITED_SERVE = r"""
import ipaddress, json, sys
log = open(sys.argv[1], "a", buffering=1)
def remote(host):
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("localhost", ""):
        return False
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return True  # a name other than localhost
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return not (ip.is_loopback or ip.is_unspecified)
def hook(event, args):
    if event in ("socket.connect", "socket.sendto") and isinstance(args[1], tuple) and remote(args[1][0]):
        log.write(json.dumps([event, repr(args[1])]) + "\n")
    elif event == "socket.getaddrinfo" and args[0] and remote(args[0]):
        log.write(json.dumps([event, repr(args[0])]) + "\n")
sys.addaudithook(hook)
from baocao.cli import main
sys.exit(main(sys.argv[2:]))
"""

pytestmark = pytest.mark.slow


# --- sockets of a process, from /proc ----------------------------------------------------------------------


def _ip(hexaddr: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    host, port = hexaddr.split(":")
    raw = bytes.fromhex(host)
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # /proc prints 32-bit words host-order
    ip = ipaddress.ip_address(raw)
    return (getattr(ip, "ipv4_mapped", None) or ip), int(port, 16)


def sockets_of(pid: int) -> list[tuple[str, tuple, tuple]]:
    """(state, local, remote) of every TCP socket the process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    out = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            if cols[9] in inodes:
                out.append(("LISTEN" if cols[3] == "0A" else cols[3], _ip(cols[1]), _ip(cols[2])))
    return out


def non_loopback_address() -> str | None:
    """This machine's address on a network interface, if it has one."""
    try:
        found = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        found = []
    for candidate in found:
        ip = ipaddress.ip_address(candidate.split("%")[0])
        if ip.version == 4 and not ip.is_loopback:
            return candidate
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # no packet is sent by a UDP connect
        try:
            s.connect(("192.0.2.1", 9))
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(ip).is_loopback else ip


def http(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def multipart(filename: str, payload: bytes) -> tuple[bytes, dict]:
    boundary = "baocao-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


# --- the default server: loopback only, nothing outbound -----------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """``baocao serve --port P`` (no --host), audited; Gradio's upload folder in a temp dir we can inspect."""
    tmp = tmp_path_factory.mktemp("served")
    audit, uploads = tmp / "outbound.jsonl", tmp / "gradio-uploads"
    audit.touch()
    command = [sys.executable, "-c", AUDITED_SERVE, str(audit), "serve", "--port", "{port}"]
    with live_app(tmp / "app.log", command, env={"GRADIO_TEMP_DIR": str(uploads)}) as app:
        yield app, audit, uploads


def test_default_bind_is_loopback_only(served) -> None:
    app, _, _ = served
    listening = [(local, remote) for state, local, remote in sockets_of(app.proc.pid)
                 if state == "LISTEN" and local[1] == app.port]
    assert listening, sockets_of(app.proc.pid)
    assert all(local[0].is_loopback for local, _ in listening), listening
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    with socket.socket() as s:
        s.settimeout(3)
        assert s.connect_ex((address, app.port)) != 0, f"the app answers on {address}:{app.port}"


def test_no_outbound_connection_while_answering(served) -> None:
    from gradio_client import Client

    app, audit, _ = served
    seen: list = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen.extend(s for s in sockets_of(app.proc.pid) if s[0] != "LISTEN")
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        client = Client(app.url, verbose=False)
        for question in (FOREST, "And Bó Sinh?", "ty le ho ngheo xa Bo Sinh 2030", "Какова цель?"):
            assert client.submit(question, api_name="/ask").result(timeout=60)["status"] != "error"
    finally:
        done.set()
        sampler.join(timeout=10)
    assert seen, "no connection was sampled at all (the sampler is broken)"
    outbound = {(local, remote) for _, local, remote in seen if not (remote[0].is_loopback or
                                                                     remote[0].is_unspecified)}
    assert not outbound, outbound
    attempts = audit.read_text(encoding="utf-8").splitlines()
    assert not attempts, attempts  # no look-up or connection to anything but loopback, from start-up on


def test_file_route_serves_no_project_file(served) -> None:
    app, _, _ = served
    for path in [PROJECT_ROOT / "data" / "reports" / "muong-la.txt", PROJECT_ROOT / "data" / "index" / "CURRENT",
                 Path("/etc/passwd"), Path("README.md"), Path("../../etc/passwd")]:
        status, _ = http(f"{app.url}gradio_api/file={path}")
        assert status in (403, 404), (path, status)


def test_uploads_keep_only_their_base_name_and_land_in_the_reports_folder(served, isolated_settings: Settings,
                                                                         tmp_path: Path) -> None:
    """Over HTTP a name like ../../../x.txt is cut to x.txt inside Gradio's upload folder; the app's upload handler
    then stores it in the data directory's reports folder, nowhere else."""
    from ui.documents import upload
    from ui.state import HOLDER

    app, _, uploads = served
    lines = (PROJECT_ROOT / "data" / "reports" / "bo-sinh.txt").read_text(encoding="utf-8").split("\n")[:60]
    payload = "\n".join(line.replace("Bó Sinh", "Nà Mới") for line in lines).encode("utf-8")
    stored = []
    for name in ("../../../escaped.txt", "..\\..\\escaped-win.txt", "/etc/cron.d/escaped-abs.txt"):
        status, body = http(app.url + "gradio_api/upload", *multipart(name, payload))
        assert status == 200, body
        (path,) = json.loads(body)
        path = Path(path).resolve()
        assert path.is_relative_to(uploads.resolve()), path
        assert "/" not in path.name and "\\" not in path.name and ".." not in path.name.strip("."), path.name
        stored.append(path)
    assert not list(uploads.parent.glob("escaped*")) and not Path("/etc/cron.d/escaped-abs.txt").exists()
    saved = (HOLDER._factory, HOLDER.settings, HOLDER._assistant, HOLDER.error, HOLDER.status)
    try:
        from assistant.service import Assistant
        from index.build import build_index

        build_index(isolated_settings, show_bar=False)
        HOLDER.configure(lambda: Assistant.open(isolated_settings), isolated_settings)
        before = {p for p in isolated_settings.data_dir.rglob("*") if p.is_file()}
        message = upload(str(stored[0]))[1]
        assert "Added" in message, message
        new = {p for p in isolated_settings.data_dir.rglob("*") if p.is_file()} - before
        reports = [p for p in new if p.parent == isolated_settings.reports_dir]
        assert [p.name for p in reports] == ["escaped.txt"], new
        assert all(p.is_relative_to(isolated_settings.data_dir) for p in new)
        for other in stored[1:]:  # same text again: refused as a duplicate, nothing written
            assert "Not added" in upload(str(other))[1]
    finally:
        HOLDER._factory, HOLDER.settings, HOLDER._assistant, HOLDER.error, HOLDER.status = saved


# --- --auth: every route ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authed(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    command = [str(Path(sys.executable).parent / "baocao"), "serve", "--port", "{port}", "--auth", f"{USER}:{PASSWORD}"]
    with live_app(tmp_path_factory.mktemp("authed") / "app.log", command) as app:
        yield app


def test_auth_refuses_every_route_without_credentials(authed) -> None:
    url = authed.url
    status, page = http(url)
    assert status == 200 and '"auth_required":true' in page  # the login page, with no app in it
    assert '"components":[]' in page and "51,51" not in page and "Báo cáo chính trị" not in page
    for path in ("config", "gradio_api/info", "gradio_api/openapi.json", "gradio_api/queue/status",
                 f"gradio_api/file={PROJECT_ROOT / 'data' / 'reports' / 'muong-la.txt'}"):
        assert http(url + path)[0] == 401, path
    body = json.dumps({"data": [FOREST, None, None, None], "fn_index": 0, "session_hash": "x"}).encode()
    for path in ("gradio_api/call/ask", "gradio_api/run/ask", "gradio_api/api/ask", "gradio_api/queue/join"):
        status, text = http(url + path, body, {"Content-Type": "application/json"})
        assert status == 401 and "51,51" not in text, (path, status, text[:300])
    status, _ = http(url + "gradio_api/upload", *multipart("r.txt", b"report"))
    assert status == 401
    status, _ = http(url + "login", f"username={USER}&password=wrong".encode(),
                     {"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (400, 401)


def test_auth_gradio_client_needs_the_right_credentials(authed) -> None:
    from gradio_client import Client

    with pytest.raises(Exception, match="(?i)login|credentials|auth"):
        Client(authed.url, verbose=False).predict(FOREST, api_name="/ask")
    with pytest.raises(Exception, match="(?i)login|credentials|auth"):
        Client(authed.url, verbose=False, auth=(USER, "wrong")).predict(FOREST, api_name="/ask")
    answer = Client(authed.url, verbose=False, auth=(USER, PASSWORD)).predict(FOREST, api_name="/ask")
    assert answer["status"] == "answered" and "51,51" in answer["answer"]


# --- open binds, bad --auth ---------------------------------------------------------------------------------


def test_open_bind_without_auth_warns(tmp_path: Path) -> None:
    port = free_port("0.0.0.0")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "baocao"), "serve", "--host", "0.0.0.0", "--port",
                             str(port)], cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    warned = threading.Event()

    def read() -> None:  # the warning comes before the server starts; stop reading at EOF
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("WARNING"):
                warned.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        warned.wait(timeout=90)
    finally:
        stop(proc)
        reader.join(timeout=10)
        proc.stderr.close()
    warning = next((line for line in lines if line.startswith("WARNING")), "".join(lines)[-2000:])
    assert warning.startswith("WARNING: serving on 0.0.0.0 without --auth"), warning
    assert "--auth user:password" in warning


@pytest.fixture()
def captured_launch(monkeypatch: pytest.MonkeyPatch, settings: Settings, assistant) -> Iterator[dict]:
    """``app.serve`` up to ``launch`` (recorded, not run), with the shared HOLDER restored afterwards."""
    import gradio as gr

    from ui.state import HOLDER

    calls: dict = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: calls.update(kw))
    monkeypatch.setenv("BAOCAO_DATA_DIR", str(settings.data_dir))
    saved = (HOLDER._factory, HOLDER.settings, HOLDER._assistant, HOLDER.error, HOLDER.status)
    yield calls
    HOLDER._factory, HOLDER.settings, HOLDER._assistant, HOLDER.error, HOLDER.status = saved


def test_serve_passes_host_and_credentials_to_gradio(captured_launch: dict, capsys) -> None:
    from app import serve
    from baocao.cli import _parser

    args = _parser().parse_args(["serve"])
    assert (args.host, args.port, args.auth) == ("127.0.0.1", 7860, None)
    assert serve("0.0.0.0", 0, f"{USER}:{PASSWORD}") == 0
    assert captured_launch["server_name"] == "0.0.0.0" and captured_launch["auth"] == (USER, PASSWORD)
    assert captured_launch["share"] is False
    assert "WARNING" not in capsys.readouterr().err  # an open bind with --auth is the user's informed choice
    captured_launch.clear()
    assert serve("127.0.0.1", 0, "no-colon") == 2 and not captured_launch
    assert "--auth must look like user:password" in capsys.readouterr().err


# --- telemetry -------------------------------------------------------------------------------------------------


def test_telemetry_is_off_after_importing_the_config() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS_ENABLED")}
    code = ("import os, baocao.config, json; print(json.dumps({k: os.environ.get(k) for k in "
            "('ANONYMIZED_TELEMETRY', 'GRADIO_ANALYTICS_ENABLED', 'HF_HUB_OFFLINE')}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False",
                                       "HF_HUB_OFFLINE": "1"}


def test_chroma_client_has_telemetry_off(assistant) -> None:
    assert assistant.index.vectors.client.get_settings().anonymized_telemetry is False
