"""Batch answers: ``baocao ask --jsonl questions.jsonl`` → one JSON answer per line.

A bad line (invalid UTF-8, not JSON, no question) is reported with its line number as an
``error`` record and the rest are still answered.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

from tqdm import tqdm


def parse_line(raw: bytes, line_no: int) -> tuple[dict | None, str | None]:
    """(item, problem) for one line of a batch file."""
    try:
        text = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")  # a BOM (Windows editors) starts the file
    except UnicodeDecodeError:
        return None, f"line {line_no}: not valid UTF-8"
    try:
        item = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"line {line_no}: not valid JSON ({exc.msg})"
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        return None, f"line {line_no}: expected an object with a \"question\" string"
    history = item.get("history")
    if history is not None and not (isinstance(history, list) and all(isinstance(t, dict) for t in history)):
        return None, f"line {line_no}: \"history\" must be a list of {{role, content}} objects"
    return item, None


def run_batch(assistant, path: Path, out: Path | None) -> int:
    """Answer every line; exit code 1 if any line was unusable (its error record says why)."""
    try:
        raw_lines = path.read_bytes().split(b"\n")
    except OSError as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    numbered = [(i, raw) for i, raw in enumerate(raw_lines, start=1) if raw.strip()]
    sink: IO[str] = out.open("w", encoding="utf-8") if out else sys.stdout
    problems = 0
    try:
        for line_no, raw in tqdm(numbered, desc="Answering", unit="question", file=sys.stderr,
                                 disable=not sys.stderr.isatty()):
            item, problem = parse_line(raw, line_no)
            if problem:
                problems += 1
                record = {"id": None, "line": line_no, "status": "error", "answer": problem, "citations": [],
                          "communes": [], "period": None, "latency_ms": 0.0}
            else:
                answer = assistant.ask(item["question"], item.get("history"))
                record = answer.to_json(item.get("id"))
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()
    finally:
        if out:
            sink.close()
    if problems:
        print(f"{problems} line(s) could not be answered; see their error records.", file=sys.stderr)
    return 1 if problems else 0
