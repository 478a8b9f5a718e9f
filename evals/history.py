"""Run history: every eval run appended to a JSONL file, and what changed between two runs.

A score alone does not say whether a new index or answer mode made things better: two runs at
80% may get different items right. Each record keeps the per-item verdicts, so any two runs of
the same set can be compared item by item (right → wrong, wrong → right), in the app's Evals
tab and with ``baocao eval --compare RUN_A RUN_B``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from evals.scoring import answered_wrong, item_cited, item_correct

_LOCK = threading.Lock()  # one append at a time from the app's worker threads


class RunNotFound(LookupError):
    """A run reference (id, ``last``, ``prev``) that matches no run in the history."""


def set_hash(items: Sequence[dict]) -> str:
    """Content hash of the items run (canonical JSON): a run is comparable only to runs of the same text."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps(item, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]


def make_record(items: Sequence[dict], results: Sequence[dict], summary: dict, *, sets: Sequence[str],
                generation: str, answer_mode: str, skipped: int = 0) -> dict:
    """One run as a history record: what was run on what, the scores, and every item's verdict."""
    now = datetime.now(UTC)
    content = set_hash(items)
    return {
        "run_id": now.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2),  # unique even within one second
        "time": now.isoformat(timespec="seconds"),
        "sets": list(sets),
        "set_hash": content,
        "n": len(items),
        "skipped_lines": skipped,
        "index_generation": generation,
        "answer_mode": answer_mode,
        "scores": compact_scores(summary),
        "items": {it["id"]: verdict(it, r) for it, r in zip(items, results, strict=True)},
    }


def verdict(item: dict, result: dict) -> dict:
    """What a later run is compared on, plus the question so a change can be read without the set."""
    return {"correct": item_correct(item, result), "cited": item_cited(item, result),
            "answered_wrong": answered_wrong(item, result), "status": result.get("status"),
            "question": item["question"], "kind": item["kind"], "lang": item["lang"]}


def compact_scores(summary: dict) -> dict:
    """The headline rates overall, by kind and by language (counts are in ``items``)."""
    def rates(g: dict) -> dict:
        return {"n": g["n"], "accuracy": g["accuracy"], "cited": g["cited_accuracy"],
                "answered_wrong": g.get("answered_wrong_rate")}

    return {"overall": {**rates(summary), "p50_ms": summary["latency_ms"]["p50"]},
            "by_kind": {k: rates(g) for k, g in summary["by_kind"].items()},
            "by_lang": {k: rates(g) for k, g in summary["by_lang"].items()}}


def append_run(path: Path, record: dict) -> None:
    """Append one record (one line, one write) so concurrent runs never interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _LOCK, path.open("a", encoding="utf-8") as fh:
        fh.write(line)


def load_runs(path: Path) -> list[dict]:
    """Every readable record, oldest first; a damaged line (a run killed mid-write) is skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    runs = []
    for raw in text.splitlines():
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "run_id" in record and isinstance(record.get("items"), dict):
            runs.append(record)
    return runs


def set_label(record: dict) -> str:
    return " + ".join(record.get("sets") or ["?"])


def runs_of_set(runs: Sequence[dict], label: str, last: int | None = None) -> list[dict]:
    """The runs of one set (by name), oldest first, the last ``last`` of them."""
    mine = [r for r in runs if set_label(r) == label]
    return mine[-last:] if last else mine


def resolve_run(runs: Sequence[dict], ref: str, other: dict | None = None) -> dict:
    """A run by id (or unique id prefix), ``last`` (the latest run) or ``prev``.

    ``prev`` is the run before ``other`` (default: the latest) on the same set, since comparing
    different sets would show every item as added or removed.
    """
    if not runs:
        raise RunNotFound("no eval runs recorded yet (run `baocao eval` first)")
    if ref == "last":
        return runs[-1]
    if ref == "prev":
        anchor = other or runs[-1]
        before = [r for r in runs[: runs.index(anchor)] if set_label(r) == set_label(anchor)] if anchor in runs else []
        if not before:
            raise RunNotFound(f"no run of {set_label(anchor)} before {anchor['run_id']}")
        return before[-1]
    hits = [r for r in runs if r["run_id"] == ref] or [r for r in runs if r["run_id"].startswith(ref)]
    if len(hits) != 1:
        raise RunNotFound(f"run {ref!r} {'is ambiguous' if hits else 'not found'}; use a run id, last or prev")
    return hits[0]


def compare(a: dict, b: dict) -> dict:
    """Which items went right → wrong and wrong → right from run ``a`` to run ``b``, and which are new/gone."""
    ia, ib = a["items"], b["items"]
    shared = [i for i in ib if i in ia]
    return {
        "a": a["run_id"], "b": b["run_id"],
        "same_set": a.get("set_hash") == b.get("set_hash"),
        "broke": [i for i in shared if ia[i]["correct"] and not ib[i]["correct"]],
        "fixed": [i for i in shared if not ia[i]["correct"] and ib[i]["correct"]],
        "only_a": [i for i in ia if i not in ib],
        "only_b": [i for i in ib if i not in ia],
    }


def moved_items(runs: Sequence[dict]) -> list[str]:
    """Items whose verdict is not the same in every one of ``runs`` (for a side-by-side grid)."""
    ids = list(dict.fromkeys(i for r in runs for i in r["items"]))
    return [i for i in ids if len({r["items"][i]["correct"] for r in runs if i in r["items"]}) > 1]


# --- side-by-side text ---------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def score_rows(runs: Sequence[dict]) -> tuple[list[str], list[list[str]]]:
    """Runs as columns, measures as rows (what changed reads across a row)."""
    head = ["", *[r["run_id"] for r in runs]]
    meta = [("time", lambda r: r["time"].replace("T", " ")[:16]), ("sets", set_label),
            ("content hash", lambda r: r["set_hash"][:8]), ("index generation", lambda r: r["index_generation"]),
            ("answer mode", lambda r: r["answer_mode"]), ("n", lambda r: str(r["n"]))]
    rows = [[label, *[fn(r) for r in runs]] for label, fn in meta]
    overall = [("accuracy", "accuracy"), ("cited", "cited"), ("answered wrong", "answered_wrong")]
    rows += [[label, *[_pct(r["scores"]["overall"].get(key)) for r in runs]] for label, key in overall]
    for group, prefix in (("by_kind", "kind"), ("by_lang", "lang")):
        names = list(dict.fromkeys(k for r in runs for k in r["scores"][group]))
        rows += [[f"{prefix} {k}", *[_pct(r["scores"][group].get(k, {}).get("accuracy")) for r in runs]]
                 for k in names]
    return head, rows


def format_compare(a: dict, b: dict) -> str:
    """``baocao eval --compare``: both runs side by side, then the items that moved."""
    from evals.runner import text_table

    head, rows = score_rows([a, b])
    diff = compare(a, b)
    out = [text_table(head, rows), ""]
    if not diff["same_set"]:
        out += ["Note: the two runs are of different set contents (content hash differs).", ""]
    for key, label in (("broke", "right → wrong"), ("fixed", "wrong → right"),
                       ("only_a", f"only in {a['run_id']}"), ("only_b", f"only in {b['run_id']}")):
        ids = diff[key]
        out.append(f"{label} ({len(ids)}):")
        src = b if key in ("broke", "fixed", "only_b") else a
        out += [f"  {i}: {src['items'][i]['question']} [{src['items'][i]['status']}]" for i in ids]
    return "\n".join(out)
