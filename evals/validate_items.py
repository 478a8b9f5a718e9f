"""Check hand-written eval items against the reports before they are trusted as labels.

Usage: ``python -m evals.validate_items [FILE ...]`` (default: the three eval sets and
``tests/data/class_questions.jsonl``). Prints every fault as ``file:line: id: problem`` and exits 1
if there is any.

Why: answer weights are fitted on these labels, so a quote that is not in the report, a figure that
the reference answer itself does not contain, or an "unanswerable" question whose answer is in fact
in the report would teach the wrong thing. The checks:

- each line is a JSON object with the FORMAT.md fields and allowed values (kind, lang, period,
  official commune names, NFC text, vi-ascii without diacritics, vi with them);
- ids are unique across all the files checked;
- every evidence quote stands in its report starting on its line (NFC, whitespace ignored; the
  quote may run on over the following lines) and its report belongs to one of the item's communes;
- every must_include group is matched by the item's own ``answer`` (the scorer's own rule);
- unanswerable items have no must_include/evidence, and their absence spec in
  ``evals/absent.json`` (regexes over the normalized report text, optionally within a line range)
  finds nothing;
- class items carry a known ``class``; ``no_place`` items are comparisons over all five communes.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from evals.scoring import KINDS, LANGS, REQUIRED_FIELDS, matches_alternative, normalize

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "data" / "reports"
ABSENT = ROOT / "evals" / "absent.json"
DEFAULT_FILES = [
    ROOT / "evals" / "public.jsonl",
    ROOT / "evals" / "dev.jsonl",
    ROOT / "evals" / "extra.jsonl",
    ROOT / "tests" / "data" / "class_questions.jsonl",
]
FILES = {
    "chieng-hac.txt": "Chiềng Hặc",
    "muong-la.txt": "Mường La",
    "bo-sinh.txt": "Bó Sinh",
    "phieng-pan.txt": "Phiêng Pằn",
    "mai-son.txt": "Mai Sơn",
}
COMMUNES = set(FILES.values())
PERIODS = (None, "2020-2025", "2025-2030")
CLASSES = (
    "near_miss", "paraphrase", "table_header", "multi_part", "list", "place_spelling",
    "unknown_place", "no_place", "text_noise", "follow_up",
)
LOOKAHEAD = 60  # lines a quote may run on over


def squash(text: str) -> str:
    """NFC without whitespace: quotes cross line breaks and double spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


@cache
def report_lines(file: str) -> tuple[str, ...]:
    return tuple((REPORTS / file).read_text(encoding="utf-8").splitlines())


def quote_starts_on_line(file: str, line: int, quote: str) -> bool:
    """The squashed quote begins inside the squashed text of ``line``."""
    lines = report_lines(file)
    if not 1 <= line <= len(lines):
        return False
    first = squash(lines[line - 1])
    rest = squash("".join(lines[line - 1 : line - 1 + LOOKAHEAD]))
    q = squash(quote)
    pos = rest.find(q)
    while pos != -1:
        if pos < len(first):
            return True
        pos = rest.find(q, pos + 1)
    return False


def has_diacritics(text: str) -> bool:
    """Any Vietnamese mark or đ: what separates ``vi`` from ``vi-ascii``."""
    return normalize(text) != " ".join(text.lower().split())


def absent_hits(spec: dict) -> list[str]:
    """Patterns of an absence spec that do match (each a fault): file or '*', optional line range."""
    files = list(FILES) if spec["file"] == "*" else [spec["file"]]
    hits = []
    for file in files:
        lines = report_lines(file)
        lo, hi = spec.get("lines", [1, len(lines)])
        text = normalize(" ".join(lines[lo - 1 : hi]))
        hits += [f"{file}: /{p}/" for p in spec["patterns"] if re.search(p, text)]
    return hits


def item_faults(item: object, absent: dict, is_class_file: bool, needs_absence_spec: bool = True) -> list[str]:
    """Everything wrong with one parsed item (public/dev predate absence specs: checked if present)."""
    if not isinstance(item, dict):
        return ["not a JSON object"]
    missing = [f for f in REQUIRED_FIELDS if f not in item]
    if missing:
        return [f"missing field(s) {missing}"]
    faults = []
    kind, lang, period = item["kind"], item["lang"], item["period"]
    if kind not in KINDS:
        faults.append(f"kind {kind!r}")
    if lang not in LANGS:
        faults.append(f"lang {lang!r}")
    if period not in PERIODS:
        faults.append(f"period {period!r}")
    if kind == "target" and period != "2025-2030":
        faults.append("a target item needs period 2025-2030")
    if kind == "result" and period != "2020-2025":
        faults.append("a result item needs period 2020-2025")
    if not set(item["communes"]) <= COMMUNES:
        faults.append(f"unknown commune(s) {set(item['communes']) - COMMUNES}")
    if kind == "comparison" and "history" not in item and len(item["communes"]) < 2:
        faults.append("a comparison without history needs two or more communes")
    question = item["question"]
    if lang == "vi-ascii" and has_diacritics(question) and item.get("class") != "text_noise":
        faults.append("vi-ascii question has diacritics")
    if lang == "vi" and not has_diacritics(question):
        faults.append("vi question has no diacritics")
    for field in ("question", "answer"):
        if not unicodedata.is_normalized("NFC", item[field]) and item.get("class") != "text_noise":
            faults.append(f"{field} is not NFC")
    faults += evidence_faults(item)
    faults += must_include_faults(item)
    if kind == "unanswerable":
        spec = absent.get(item["id"])
        if spec is None:
            if needs_absence_spec:
                faults.append("unanswerable item without an absence spec in evals/absent.json")
        else:
            faults += [f"absence pattern found: {h}" for h in absent_hits(spec)]
    if "history" in item:
        history = item["history"]
        if not isinstance(history, list) or not all(
            isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
            for t in history
        ):
            faults.append("history must be a list of {role, content}")
    if is_class_file:
        faults += class_faults(item)
    return faults


def evidence_faults(item: dict) -> list[str]:
    faults = []
    for ev in item["evidence"]:
        file, line, quote = ev.get("file"), ev.get("line"), ev.get("quote", "")
        if file not in FILES:
            faults.append(f"evidence file {file!r}")
            continue
        if FILES[file] not in item["communes"]:
            faults.append(f"evidence {file} is not one of the item's communes")
        if not isinstance(line, int) or not quote_starts_on_line(file, line, quote):
            faults.append(f"quote does not start on {file}:{line}: {quote[:60]!r}")
    return faults


def must_include_faults(item: dict) -> list[str]:
    groups = item["must_include"]
    if item["kind"] == "unanswerable":
        return ["unanswerable item with must_include or evidence"] if groups or item["evidence"] else []
    faults = [] if groups else ["answerable item without must_include"]
    if not item["evidence"]:
        faults.append("answerable item without evidence")
    for group in groups:
        if not any(matches_alternative(item["answer"], alt) for alt in group):
            faults.append(f"answer does not match must_include group {group}")
    return faults


def class_faults(item: dict) -> list[str]:
    cls = item.get("class")
    if cls not in CLASSES:
        return [f"class {cls!r} not one of {CLASSES}"]
    if cls == "no_place" and (item["kind"] != "comparison" or set(item["communes"]) != COMMUNES):
        return ["a no_place item is a comparison over all five communes"]
    if cls == "follow_up" and not item.get("history"):
        return ["a follow_up item needs history"]
    return []


def validate(paths: Iterable[Path]) -> list[str]:
    """All faults in the given JSONL files, ids checked for uniqueness across them."""
    absent = json.loads(ABSENT.read_text(encoding="utf-8")) if ABSENT.exists() else {}
    seen: dict[str, str] = {}
    faults = []
    for path in paths:
        is_class_file = path.name == "class_questions.jsonl"
        needs_spec = path.name not in ("public.jsonl", "dev.jsonl")
        for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not raw.strip():
                continue
            where = f"{path.relative_to(ROOT)}:{lineno}"
            try:
                item = json.loads(raw)
            except json.JSONDecodeError as exc:
                faults.append(f"{where}: not JSON ({exc.msg})")
                continue
            item_id = item.get("id", "?") if isinstance(item, dict) else "?"
            if item_id in seen:
                faults.append(f"{where}: {item_id}: duplicate id (first in {seen[item_id]})")
            seen[item_id] = where
            faults += [f"{where}: {item_id}: {f}" for f in item_faults(item, absent, is_class_file, needs_spec)]
    return faults


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or [p for p in DEFAULT_FILES if p.exists()]
    faults = validate(paths)
    for fault in faults:
        print(fault)
    print(f"{len(faults)} fault(s) in {len(paths)} file(s)", file=sys.stderr)
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
