"""Batch answers: ``baocao ask --jsonl questions.jsonl`` → one JSON answer per line.

Every input line gets exactly one output record, in order, carrying its ``id`` (when the line had a
usable one) and its ``line`` number, whatever the line holds: a blank line, invalid bytes, broken or
too deeply nested JSON, an over-long line or an answer that failed all become ``error`` records, so
output line N always belongs to input line N and one bad line never stops the run. The file may be
UTF-8 (with or without BOM) or UTF-16 (with BOM, or plain ASCII-range JSON without one), with LF, CRLF
or CR-only line ends; each line is decoded on its own, so a bad byte costs only its line.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tqdm import tqdm

from assistant.limits import InputRejected, loads_bounded
from baocao.config import Settings

_LINE_END = re.compile(rb"\r\n|\r|\n")
_LINE_END_TEXT = re.compile(r"\r\n|\r|\n")
_UNREADABLE = re.compile("[\ud800-\udfff\ufffd]")  # bad bytes, as decoded leniently
_LEADING_ID = re.compile(r'\s*\ufeff?\s*\{\s*"id"\s*:\s*("(?:[^"\\\n]|\\.){0,200}"|-?\d{1,18})\s*[,}]')


@dataclass
class Line:
    """One input line: its number, and either its text or why it could not be read."""

    number: int
    text: str | None
    problem: str | None = None


def check_paths(src: Path, out: Path | None) -> str | None:
    """Why the batch cannot run with these paths (checked before the index is opened), or None."""
    if not src.is_file():
        return f"cannot read {src}: {'no such file' if not src.exists() else 'not a file'}"
    if out is None:
        return None
    if out.exists() and out.is_dir():
        return f"--out {out} is a folder; give a file name, e.g. {out / 'answers.jsonl'}"
    if not out.parent.is_dir():
        return f"--out folder {out.parent} does not exist; create it first"
    if (out.exists() and os.path.samefile(out, src)) or out.resolve() == src.resolve():
        return f"--out {out} is the input file; writing the answers there would destroy the questions"
    return None


def read_lines(data: bytes, max_line_bytes: int) -> list[Line]:
    """The file's lines, decoded one by one (a trailing line end does not start another line)."""
    encoding, data = _encoding(data)
    if encoding.startswith("utf-16"):
        return _utf16_lines(data, encoding, max_line_bytes)
    raws = _LINE_END.split(data)
    if raws and raws[-1] == b"":
        raws.pop()
    lines = []
    for n, raw in enumerate(raws, start=1):
        if len(raw) > max_line_bytes:  # its start is kept, to read the id back
            lines.append(Line(n, raw[:1024].decode("utf-8", "replace"), _too_long(n, len(raw), max_line_bytes)))
            continue
        try:
            lines.append(Line(n, raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            lines.append(Line(n, raw.decode("utf-8", "replace"),
                              f"line {n}: not valid UTF-8 (bad byte at column {exc.start + 1})"))
    return lines


def _encoding(data: bytes) -> tuple[str, bytes]:
    """"utf-8" or "utf-16-le/be" and the bytes without their BOM.

    Without a BOM, UTF-16 JSON is still recognisable: its first character is ASCII ("{" or a space),
    so one of the first two bytes is zero, which UTF-8 text never has.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return name, data[len(bom):]
    if len(data) >= 2 and data[0] != 0 and data[1] == 0:
        return "utf-16-le", data
    if len(data) >= 2 and data[0] == 0 and data[1] != 0:
        return "utf-16-be", data
    return "utf-8", data


def _utf16_lines(data: bytes, encoding: str, max_line_bytes: int) -> list[Line]:
    """UTF-16 decoded whole (lone surrogates kept, so a bad pair costs only its line), then split."""
    text = data[: len(data) - len(data) % 2].decode(encoding, "surrogatepass")
    parts = _LINE_END_TEXT.split(text)
    if parts and parts[-1] == "":
        parts.pop()
    lines = []
    for n, part in enumerate(parts, start=1):
        size = len(part) * 2
        if size > max_line_bytes:
            lines.append(Line(n, part[:1024], _too_long(n, size, max_line_bytes)))
        elif re.search("[\ud800-\udfff]", part):
            lines.append(Line(n, part, f"line {n}: not valid UTF-16 text (an unpaired surrogate)"))
        else:
            lines.append(Line(n, part))
    if len(data) % 2:
        lines.append(Line(len(lines) + 1, None, f"line {len(lines) + 1}: the file ends in half a UTF-16 character"))
    return lines


def _too_long(n: int, size: int, limit: int) -> str:
    return f"line {n}: {size} bytes, over the {limit}-byte limit per line (BAOCAO_MAX_BATCH_LINE_BYTES)"


def parse_item(line: Line, settings: Settings) -> tuple[dict | None, object, str | None]:
    """(item, id, problem) for one decoded line; the id is kept whenever the line is an object with one."""
    n, text = line.number, line.text or ""
    if not text.strip():
        return None, None, f"line {n}: blank line, no question"
    try:
        item = loads_bounded(text.lstrip("\ufeff"), settings, f"line {n}")
    except InputRejected as exc:
        return None, salvage_id(text), str(exc)
    except json.JSONDecodeError as exc:
        return None, salvage_id(text), f"line {n}: not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(item, dict):
        return None, None, f"line {n}: expected an object with a \"question\" string"
    item_id = item.get("id")
    if isinstance(item_id, bool) or (item_id is not None and not isinstance(item_id, str | int)):
        return None, None, f"line {n}: \"id\" must be a string or a number"
    if not isinstance(item.get("question"), str):
        return None, item_id, f"line {n}: expected an object with a \"question\" string"
    return item, item_id, None


def salvage_id(text: str) -> object:
    """The id of a line that is not valid JSON, when it comes first ({"id": "q7", ...): the record keeps it."""
    m = _LEADING_ID.match(_UNREADABLE.sub("", text))
    if not m:
        return None
    try:
        return json.loads(m.group(1))
    except json.JSONDecodeError:
        return None


def error_record(item_id: object, line_no: int, message: str) -> dict:
    """An ``error`` answer with the contract's keys, its id and its line number."""
    return {"id": item_id, "line": line_no, "status": "error", "answer": message, "citations": [],
            "communes": [], "period": None, "latency_ms": 0.0}


def answer_line(assistant, line: Line) -> tuple[dict, bool]:
    """(record, usable) for one line; never raises, whatever the line or the answerer does."""
    if line.problem:  # unreadable: only its id is read back, when it can be
        return error_record(salvage_id(line.text or ""), line.number, line.problem), False
    item, item_id, problem = parse_item(line, assistant.settings)
    if problem:
        return error_record(item_id, line.number, problem), False
    try:
        answer = assistant.ask(item["question"], item.get("history"))
    except Exception as exc:  # noqa: BLE001 - one line's failure must not cost the lines after it
        return error_record(item_id, line.number, f"line {line.number}: could not be answered "
                                                  f"({type(exc).__name__}: {exc})"), False
    record = answer.to_json(item_id)
    record["line"] = line.number
    return record, answer.status != "error"


def _dumps(record: dict) -> str:
    """One JSON line; text that is not encodable (a lone surrogate from "\\udcxx") is written escaped."""
    text = json.dumps(record, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(record, ensure_ascii=True)
    return text


def run_batch(assistant, path: Path, out: Path | None) -> int:
    """Answer every line; exit code 1 if any line was unusable (its error record says why)."""
    problem = check_paths(path, out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        lines = read_lines(path.read_bytes(), assistant.settings.max_batch_line_bytes)
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    sink: IO[str] = out.open("w", encoding="utf-8") if out else sys.stdout
    problems, seen = 0, {}
    try:
        for line in tqdm(lines, desc="Answering", unit="question", file=sys.stderr, disable=not sys.stderr.isatty()):
            record, usable = answer_line(assistant, line)
            problems += not usable
            key = record["id"]
            if key is not None and key in seen:  # answered, and flagged: the caller's join by id would break
                record["warning"] = f"duplicate id {key!r} (first on line {seen[key]})"
                print(f"warning: line {line.number}: duplicate id {key!r} (first on line {seen[key]})",
                      file=sys.stderr)
            elif key is not None:
                seen[key] = line.number
            sink.write(_dumps(record) + "\n")
            sink.flush()
    finally:
        if out:
            sink.close()
    if problems:
        print(f"{problems} line(s) could not be answered; see their error records.", file=sys.stderr)
    return 1 if problems else 0
