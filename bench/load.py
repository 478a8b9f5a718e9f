"""Simultaneous conversations against the live app: identical answers under load, and how fast.

Run: ``.venv/bin/python bench/load.py [--levels 1,4,16] [--conversations 16] [--budget 60] [--url URL]``.

Without ``--url`` it starts ``python app.py`` on a free loopback port (and stops it at the end). Each
conversation is three turns through the ``/ask`` API with ``gradio_client``, the second a follow-up
("And Bó Sinh?") that only makes sense with the history of the first. At each level N, N workers run
the conversations at the same time, each with its own client. Every answer must be correct (expected
status and figures) and identical to the sequential answer (the JSON minus ``latency_ms``). The run is
bounded: at most ``--budget`` seconds of questions, a per-question timeout, and a watchdog that stops
everything if the app hangs. Exit status 0 only when every answer is correct and identical.

Not a test: it prints a table (questions/s, p50/p95 latency per level) for the README.

``--hostile``: 4 clients run the normal conversations alone for half the budget, then beside 4 clients that
send oversized input (a 400 KB history of 200 turns, a 100 KB turn, 100,000 nested ``[`` as raw JSON) as fast
as they are answered; it prints both phases and the machine's load average. Exit status 0 only when every
oversized request was refused, every normal answer was correct and identical, and the normal questions' p95
under attack stayed within 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as a script from a fresh clone without `pip install -e`
    sys.path.insert(0, str(ROOT))

# (question, expected status, substrings the answer must hold). Follow-ups rely on the turns before them.
Turn = tuple[str, str, tuple[str, ...]]
CONVERSATIONS: list[list[Turn]] = [
    [("What is Mường La's forest-cover target?", "answered", ("51,51",)),
     ("And Bó Sinh?", "answered", ("30,2",)),
     ("What forest cover had Mường La reached by the end of the 2020-2025 term?", "answered", ("48,27",))],
    [("What is Mường La's health insurance coverage target for 2030?", "answered", ("98%",)),
     ("And Phiêng Pằn?", "answered", ("100%",)),
     ("Tỷ lệ dân số tham gia bảo hiểm y tế của xã Mai Sơn đến năm 2030?", "answered", ("96%",))],
    [("thu nhap binh quan dau nguoi xa Bo Sinh muc tieu den nam 2030 la bao nhieu", "answered", ("30 triệu",)),
     ("And Mường La?", "answered", ("22%",)),
     ("muc tieu ty le ho dan dung nuoc sach xa Phieng Pan den nam 2030", "answered", ("50%",))],
    [("Số hộ nghèo của xã Chiềng Hặc đến năm 2030 còn bao nhiêu hộ?", "answered", ("428 hộ",)),
     ("Compare the 2030 forest-cover targets of Mường La and Bó Sinh.", "answered", ("51,51", "30,2"))],
    [("What average annual growth rate of state budget revenue does Mai Son commune target for the 2025-2030 "
      "term?", "answered", ("10%",)),
     ("And Mường La?", "answered", ("8-10",)),
     ("How many doctors per 10,000 people does Phiêng Pằn target by 2030?", "not_found", ())],
    [("What tourism targets (number of visits and revenue) does Chieng Hac set for the 2025-2030 term?",
      "answered", ("900", "954")),
     ("And Mai Sơn?", "answered", ("20.000",)),
     ("What is Mường La's forest-cover target?", "answered", ("51,51",))],
]
QUESTION_TIMEOUT = 30.0  # seconds for one answer, whatever the budget left


# --- the app under test (also used by the tests: tests/test_concurrency.py, test_exposure.py) -------------


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class LiveApp:
    """A running app subprocess on a loopback port."""

    proc: subprocess.Popen
    url: str
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def live_app(log: Path, command: Sequence[str] | None = None, *, port: int | None = None, env: dict | None = None,
             ready_timeout: float = 180.0) -> Iterator[LiveApp]:
    """Start the app (``python app.py --host 127.0.0.1 --port P`` unless ``command`` is given; "{port}" in it is
    replaced), wait until it answers HTTP, yield it, and always stop it."""
    port = port or free_port()
    argv = [a.replace("{port}", str(port)) for a in command] if command else [
        sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                                stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    app = LiveApp(proc, f"http://127.0.0.1:{port}/", port, log)
    try:
        wait_until_up(app, ready_timeout)
        yield app
    finally:
        stop(proc)


def wait_until_up(app: LiveApp, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.proc.poll() is not None:
            raise RuntimeError(f"the app exited with {app.proc.returncode}:\n{app.output()[-3000:]}")
        try:
            with urllib.request.urlopen(app.url + "config", timeout=5):
                return
        except urllib.error.HTTPError:  # 401 behind --auth: the server is up
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not answer within {timeout:.0f} s:\n{app.output()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def comparable(answer: dict) -> dict:
    """An answer without what may differ between two identical runs (its timing)."""
    return {k: v for k, v in answer.items() if k != "latency_ms"}


# --- the load ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    conversation: int
    turn: int
    seconds: float
    answer: dict | None = None
    error: str | None = None


@dataclass
class Level:
    n: int
    conversations: int
    results: list[Result] = field(default_factory=list)
    wall: float = 0.0
    problems: list[str] = field(default_factory=list)


def converse(client, index: int, deadline: float) -> list[Result]:
    """One conversation of three turns; the history is what this conversation was answered."""
    history: list[dict] = []
    out: list[Result] = []
    for turn, (question, _, _) in enumerate(CONVERSATIONS[index % len(CONVERSATIONS)]):
        left = min(QUESTION_TIMEOUT, deadline - time.monotonic())
        if left <= 0:
            out.append(Result(index, turn, 0.0, error="budget exhausted before this question"))
            break
        started = time.perf_counter()
        try:
            answer = client.submit(question, history or None, api_name="/ask").result(timeout=left)
        except Exception as exc:  # noqa: BLE001 - a timeout or an app error is a result to report
            out.append(Result(index, turn, time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}"))
            break
        out.append(Result(index, turn, time.perf_counter() - started, answer=answer))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer["answer"]}]
    return out


def run_level(clients: list, n: int, conversations: int, deadline: float) -> Level:
    """``conversations`` conversations, ``n`` at a time, each worker with its own client."""
    level = Level(n, conversations)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(converse, clients[i % n], i, deadline) for i in range(conversations)]
        for future in futures:
            level.results += future.result()
    level.wall = time.perf_counter() - started
    return level


def check(level: Level, reference: dict[tuple[int, int], dict]) -> None:
    """Every answer correct and identical to the sequential one; problems are recorded on the level."""
    for r in level.results:
        where = f"N={level.n} conversation {r.conversation} turn {r.turn + 1}"
        if r.error or r.answer is None:
            level.problems.append(f"{where}: {r.error}")
            continue
        question, status, wanted = CONVERSATIONS[r.conversation % len(CONVERSATIONS)][r.turn]
        missing = [w for w in wanted if w not in r.answer["answer"]]
        if r.answer["status"] != status or missing:
            level.problems.append(f"{where}: {question!r} got {r.answer['status']} {r.answer['answer'][:120]!r}")
        key = (r.conversation % len(CONVERSATIONS), r.turn)
        if key in reference and comparable(r.answer) != reference[key]:
            level.problems.append(f"{where}: answer differs from the sequential one")
        reference.setdefault(key, comparable(r.answer))
    expected = sum(len(CONVERSATIONS[i % len(CONVERSATIONS)]) for i in range(level.conversations))
    if len(level.results) < expected:
        level.problems.append(f"N={level.n}: only {len(level.results)} of {expected} questions were asked")


def percentile(samples: list[float], q: float) -> float:
    from evals.scoring import percentile as pct

    return pct(samples, q)


def table(levels: list[Level]) -> str:
    rows = ["| simultaneous conversations (N) | questions | errors or wrong | throughput (questions/s) "
            "| p50 latency (ms) | p95 latency (ms) |", "|---:|---:|---:|---:|---:|---:|"]
    for lv in levels:
        ms = [r.seconds * 1000 for r in lv.results if r.answer is not None]
        rate = len(ms) / lv.wall if lv.wall else 0.0
        p50, p95 = (percentile(ms, 50), percentile(ms, 95)) if ms else (float("nan"), float("nan"))
        rows.append(f"| {lv.n} | {len(lv.results)} | {len(lv.problems)} | {rate:.1f} | {p50:.0f} | {p95:.0f} |")
    return "\n".join(rows)


# --- hostile clients beside normal ones (--hostile) --------------------------------------------------------

HOSTILE_CLIENTS = NORMAL_CLIENTS = 4
NORMAL_P95_LIMIT_MS = 1000.0


def hostile_payloads() -> list[tuple[str, object]]:
    """(name, history) the app must refuse: each once cost seconds to minutes of one worker."""
    turn = "What is Mường La's forest-cover target? " * 50
    return [("400 KB history, 200 turns", [{"role": r, "content": turn} for r in ("user", "assistant") * 100]),
            ("100 KB turn", [{"role": "user", "content": "forest cover Muong La " * 4600}]),
            ("100,000 nested [", None)]


def hostile_request(url: str, history: object) -> tuple[float, bool]:
    """(seconds, refused) for one oversized request, sent as raw JSON the way an attacker would (cheaply:
    gradio_client's own processing of 400 KB would slow this process, not the app)."""
    started = time.perf_counter()
    if history is None:
        body = b'{"data": ["And B\xc3\xb3 Sinh?", ' + b"[" * 100_000 + b"]}"
    else:
        body = json.dumps({"data": ["And Bó Sinh?", history, None, None]}).encode("ascii")
    request = urllib.request.Request(url + "gradio_api/call/ask", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=QUESTION_TIMEOUT) as resp:
            event = json.load(resp)["event_id"]
        with urllib.request.urlopen(f"{url}gradio_api/call/ask/{event}", timeout=QUESTION_TIMEOUT) as resp:
            stream = resp.read().decode("utf-8")
        refused = '"status": "error"' in stream and "limit" in stream  # refused by the app's own checks
    except urllib.error.HTTPError as err:
        refused = err.code in (400, 413)  # refused at the door (nesting, size) before any parsing
    return time.perf_counter() - started, refused


def normal_phase(clients: list, seconds: float, attackers: int, url: str) -> tuple[Level, list[tuple[float, bool]]]:
    """``NORMAL_CLIENTS`` conversations in a loop for ``seconds``, beside ``attackers`` oversized-input clients."""
    deadline = time.monotonic() + seconds
    payloads = hostile_payloads()
    hostile: list[tuple[float, bool]] = []
    normal = Level(NORMAL_CLIENTS, 0)

    def attacker(i: int) -> None:
        n = i
        while time.monotonic() < deadline:
            hostile.append(hostile_request(url, payloads[n % len(payloads)][1]))
            n += 1

    def user(i: int) -> None:
        n = i
        while time.monotonic() < deadline:
            normal.results += converse(clients[i], n, deadline + QUESTION_TIMEOUT)
            normal.conversations += 1
            n += NORMAL_CLIENTS

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=attackers + NORMAL_CLIENTS) as pool:
        futures = [pool.submit(attacker, i) for i in range(attackers)]
        futures += [pool.submit(user, i) for i in range(NORMAL_CLIENTS)]
        for future in futures:
            future.result()
    normal.wall = time.perf_counter() - started
    return normal, hostile


def run_hostile(url: str, clients: list, budget: float, reference: dict[tuple[int, int], dict]) -> int:
    """Half the budget: 4 normal clients alone (the baseline on this machine, now); half: the same beside 4
    oversized-input clients. Prints both; the oversized input must cost the normal questions nothing."""
    load = os.getloadavg()[0]
    baseline, _ = normal_phase(clients, budget / 2, 0, url)
    attacked, hostile = normal_phase(clients, budget / 2, HOSTILE_CLIENTS, url)
    problems = []
    for level in (baseline, attacked):
        check(level, reference)
        problems += [p for p in level.problems if "only" not in p]  # conversations cut by the deadline
    not_refused = sum(not refused for _, refused in hostile)
    print(f"{os.cpu_count()} CPUs (load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end); app "
          f"queue concurrency 4; {budget / 2:.0f} s of {NORMAL_CLIENTS} normal clients alone, then {budget / 2:.0f} s "
          f"of the same beside {HOSTILE_CLIENTS} clients sending oversized input (alternating: "
          f"{', '.join(n for n, _ in hostile_payloads())})")
    print("| phase | clients | requests | not refused / wrong | p50 (ms) | p95 (ms) | max (ms) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    rows = [("alone", f"{NORMAL_CLIENTS} normal", [r.seconds * 1000 for r in baseline.results if r.answer], 0),
            ("attacked", f"{HOSTILE_CLIENTS} oversized", [s * 1000 for s, _ in hostile], not_refused),
            ("attacked", f"{NORMAL_CLIENTS} normal", [r.seconds * 1000 for r in attacked.results if r.answer],
             len(problems))]
    for phase, label, samples, bad in rows:
        if samples:
            print(f"| {phase} | {label} | {len(samples)} | {bad} | {percentile(samples, 50):.0f} "
                  f"| {percentile(samples, 95):.0f} | {max(samples):.0f} |")
    for p in problems[:20]:
        print(f"PROBLEM {p}")
    p95 = percentile(rows[2][2], 95) if rows[2][2] else float("inf")
    ok = not not_refused and not problems and p95 <= NORMAL_P95_LIMIT_MS
    print(f"normal p95 under attack {p95:.0f} ms (limit {NORMAL_P95_LIMIT_MS:.0f}); " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an app already running (default: start one on a free loopback port)")
    parser.add_argument("--levels", default="1,4,16", help="simultaneous conversations per level, comma-separated")
    parser.add_argument("--conversations", type=int, default=16, help="conversations per level (3 questions each)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of questions at most, all levels")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--hostile", action="store_true",
                        help="4 clients send oversized input while 4 run normal conversations (for --budget s)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if not levels or min(levels) < 1 or max(levels) > 64 or args.conversations < 1:
        print("error: levels must be 1..64 and --conversations at least 1", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        app: LiveApp | None = None
        if args.url:
            url = args.url if args.url.endswith("/") else args.url + "/"
        else:
            log = Path(os.environ.get("TMPDIR", "/tmp")) / f"baocao-load-{os.getpid()}.log"
            print("Starting the app on a free loopback port…", file=sys.stderr)
            app = stack.enter_context(live_app(log))
            url = app.url

        def give_up() -> None:  # a hung app cannot hang the bench: stop it and leave
            print(f"error: no result within {args.budget + 120:.0f} s; stopping", file=sys.stderr)
            if app is not None:
                app.proc.kill()
            os._exit(3)

        watchdog = threading.Timer(args.budget + 120, give_up)
        watchdog.daemon = True
        watchdog.start()
        stack.callback(watchdog.cancel)
        return run(url, levels, args)
    return 0  # pragma: no cover - the ExitStack returns above


def run(url: str, levels: list[int], args: argparse.Namespace) -> int:
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(max(*levels, NORMAL_CLIENTS if args.hostile else 1))]
    deadline = time.monotonic() + (args.budget if not args.hostile else 120.0)
    reference: dict[tuple[int, int], dict] = {}
    warm_up = run_level(clients, 1, len(CONVERSATIONS), deadline)  # not timed: warms caches, records the
    check(warm_up, reference)  # sequential answers every level is compared with
    if warm_up.problems:
        print("\n".join(f"PROBLEM {p}" for p in warm_up.problems))
        return 1
    if args.hostile:
        return run_hostile(url, clients, args.budget, reference)
    done = []
    for n in levels:
        level = run_level(clients, n, args.conversations, deadline)
        check(level, reference)
        done.append(level)
        print(f"N={n}: {len(level.results)} questions in {level.wall:.1f} s, {len(level.problems)} problems",
              file=sys.stderr)
    print(f"{os.cpu_count()} CPUs; app queue concurrency 4; {args.conversations} conversations of 3 questions "
          "per level, after an untimed sequential pass that records the reference answers")
    print(table(done))
    problems = [p for lv in done for p in lv.problems]
    for p in problems[:20]:
        print(f"PROBLEM {p}")
    if args.json:
        args.json.write_text(json.dumps([{
            "n": lv.n, "questions": len(lv.results), "problems": lv.problems, "seconds": lv.wall,
            "latency_ms": [r.seconds * 1000 for r in lv.results]} for lv in done], indent=1), encoding="utf-8")
    print("all answers correct and identical to the sequential ones" if not problems
          else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
