"""``baocao eval --check FILE``: is an eval set well formed, and does it agree with the reports?

A researcher's own set is only worth running if its references are right: a quote that is not
where it says, or a must-include figure that not even the reference answer contains, would
score the assistant against a mistake. The checker finds these by line number, before a run;
the runner refuses a set that fails (or, with ``--force``, runs only the good lines), and the
app runs the same check on upload.

Rules (``evals/FORMAT.md``): each line parses; required fields and allowed values; each
evidence quote stands in its report starting on its line (NFC, whitespace collapsed); each
``must_include`` group matches the item's own ``answer`` (the scorer's matching rule); ids are
unique; a question is not asked twice (same text, same conversation).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from evals.scoring import PERIODS, group_matched, item_problem, normalize

QUOTE_SPAN_LINES = 60  # a quote may run over this many lines after its first
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Problem:
    """One fault, where it is (1-based line of the eval file) and which item it belongs to."""

    line: int
    message: str
    item_id: str | None = None

    def text(self, file: str = "") -> str:
        """``file:line (id): message``, the form editors and terminals jump to."""
        where = f"{file}:{self.line}" if file else f"line {self.line}"
        who = f" ({self.item_id})" if self.item_id else ""
        return f"{where}{who}: {self.message}"


@dataclass
class CheckReport:
    """The verdict on one eval file: the items whose lines are clean, and every problem."""

    name: str
    lines: int = 0  # non-blank lines
    items: list[dict] = field(default_factory=list)  # clean items, in file order
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.items)

    @property
    def bad_lines(self) -> list[int]:
        return sorted({p.line for p in self.problems})

    def summary(self) -> str:
        """One line: how many items are usable and how many lines are not."""
        if not self.lines:
            return f"{self.name}: no items"
        if not self.problems:
            return f"{self.name}: {len(self.items)} items, all well formed"
        return (f"{self.name}: {self.lines} lines, {len(self.bad_lines)} with problems "
                f"(lines {', '.join(map(str, self.bad_lines))}); {len(self.items)} usable")

    def text(self) -> str:
        """The summary and one line per problem, for the console."""
        return "\n".join([self.summary(), *[f"  {p.text(self.name)}" for p in self.problems]])

    def to_json(self) -> dict:
        return {"name": self.name, "lines": self.lines, "usable": len(self.items), "ok": self.ok,
                "problems": [{"line": p.line, "id": p.item_id, "message": p.message} for p in self.problems]}


# --- entry points --------------------------------------------------------------------------


def check_file(path: Path, reports_dir: Path, name: str | None = None) -> CheckReport:
    """Check an eval file; an unreadable or non-UTF-8 file is one problem on line 0, not a crash."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return CheckReport(name or str(path), problems=[Problem(0, f"not UTF-8 text ({exc.reason} at byte "
                                                                   f"{exc.start})")])
    except OSError as exc:
        return CheckReport(name or str(path), problems=[Problem(0, f"cannot be read: {exc.strerror or exc}")])
    return check_text(text, reports_dir, name or str(path))


def check_text(text: str, reports_dir: Path, name: str = "<eval set>") -> CheckReport:
    """Check every line; collect all problems (not just the first) so one pass fixes a file."""
    report = CheckReport(name)
    ids: dict[str, int] = {}
    questions: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        report.lines += 1
        item, problems = _check_line(raw, reports_dir)
        item_id = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
        problems += _duplicate_problems(item, lineno, ids, questions)
        report.problems += [Problem(lineno, msg, item_id) for msg in problems]
        if not problems:
            report.items.append(item)
    if not report.lines:
        report.problems.append(Problem(0, "the file holds no items"))
    return report


# --- one line ------------------------------------------------------------------------------


def _check_line(raw: str, reports_dir: Path) -> tuple[object, list[str]]:
    """The parsed item (or None) and what is wrong with it."""
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, [f"not valid JSON ({exc.msg}, column {exc.colno})"]
    structural = item_problem(item)
    if structural:
        return item, [structural]  # the checks below need a well-shaped item
    problems = _value_problems(item)
    problems += [p for i, ev in enumerate(item["evidence"], 1) if (p := evidence_problem(ev, i, reports_dir))]
    if isinstance(item["answer"], str) and item["answer"].strip():  # else reported above
        problems += [f"must_include group {json.dumps(g, ensure_ascii=False)} does not match the reference answer"
                     for g in item["must_include"] if not group_matched(item["answer"], g)]
    return item, problems


def _value_problems(item: dict) -> list[str]:
    """Allowed values the scorer does not need but a report by kind/period relies on."""
    out = []
    if item["period"] not in PERIODS:
        out.append(f"period {item['period']!r} not one of {', '.join(map(str, PERIODS))} or null")
    if not isinstance(item["communes"], list) or not all(isinstance(c, str) and c.strip() for c in item["communes"]):
        out.append("communes must be a list of commune names")
    if not isinstance(item["answer"], str) or not item["answer"].strip():
        out.append("answer must be a non-empty string (the reference answer)")
    return out


def _duplicate_problems(item: object, lineno: int, ids: dict[str, int], questions: dict[str, int]) -> list[str]:
    """Second uses of an id or of a question (same text and same conversation) are faults."""
    if not isinstance(item, dict):
        return []
    out = []
    item_id = item.get("id")
    if isinstance(item_id, str) and item_id:
        if item_id in ids:
            out.append(f"duplicate id {item_id!r} (first on line {ids[item_id]})")
        ids.setdefault(item_id, lineno)
    question = item.get("question")
    if isinstance(question, str) and question.strip():
        key = normalize(question) + "\x00" + json.dumps(item.get("history"), ensure_ascii=False, sort_keys=True)
        if key in questions:
            out.append(f"question already asked on line {questions[key]}")
        questions.setdefault(key, lineno)
    return out


# --- evidence ------------------------------------------------------------------------------


def collapse(text: str) -> str:
    """NFC with every run of whitespace made one space: how a quote is compared with its report."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def evidence_problem(ev: dict, n: int, reports_dir: Path) -> str | None:
    """Why evidence entry ``n`` does not stand in its report from its line, or None."""
    file = str(ev["file"])
    if Path(file).name != file or not file:
        return f"evidence {n}: file must be a report file name, got {file!r}"
    lines = report_lines(reports_dir, file)
    if lines is None:
        return f"evidence {n}: {file} is not among the reports ({reports_dir})"
    line, quote = ev["line"], collapse(str(ev["quote"]))
    if not quote:
        return f"evidence {n}: empty quote"
    if line > len(lines):
        return f"evidence {n}: {file} has {len(lines)} lines, not {line}"
    if quote_starts_on(lines, line, quote):
        return None
    found = find_quote(lines, quote)
    where = f"it starts on line {found}" if found else "it is not in the file"
    return f"evidence {n}: quote not at {file}:{line} ({where}): {_preview(quote)}"


def quote_starts_on(lines: Sequence[str], line: int, quote: str) -> bool:
    """The collapsed quote occurs in the text from ``line`` on, beginning within that line."""
    first = collapse(lines[line - 1])
    rest = collapse(" ".join(lines[line - 1: line - 1 + QUOTE_SPAN_LINES]))
    pos = rest.find(quote)
    while pos != -1:
        if pos < len(first):
            return True
        pos = rest.find(quote, pos + 1)
    return False


def find_quote(lines: Sequence[str], quote: str) -> int | None:
    """The first line the quote starts on anywhere in the file (to say where it really is)."""
    for n in range(1, len(lines) + 1):
        if quote[:20] in collapse(" ".join(lines[n - 1: n + 1])) and quote_starts_on(lines, n, quote):
            return n
    return None


def report_lines(reports_dir: Path, file: str) -> tuple[str, ...] | None:
    """A report's lines (as the citations count them), or None when there is no such report."""
    path = Path(reports_dir) / file
    try:
        return _read_lines(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


@lru_cache(maxsize=64)
def _read_lines(path: str, mtime_ns: int) -> tuple[str, ...]:
    """Cached per file version: an uploaded or edited report is re-read."""
    return tuple(Path(path).read_text(encoding="utf-8", errors="replace").split("\n"))


def _preview(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
