"""Scoring of answers against the eval set (rules in ``evals/FORMAT.md``).

Pure functions: the runner, the tests and any notebook share one definition of "correct",
so a number printed in CI means the same thing everywhere.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

KINDS = ("target", "result", "fact", "list", "comparison", "unanswerable")
LANGS = ("en", "vi", "vi-ascii")
PERIODS = ("2025-2030", "2020-2025", None)
REQUIRED_FIELDS = (
    "id",
    "question",
    "lang",
    "communes",
    "kind",
    "period",
    "answer",
    "must_include",
    "evidence",
)
STATUS_ANSWERED = "answered"
STATUS_NOT_FOUND = "not_found"

# "[1]", "[2, 3]": citation markers are not part of what the answer claims, and a marker
# "[3]" must not satisfy a must_include "3".
_CITATION_MARKER = re.compile(r"\[\d+(?:\s*[,;–-]\s*\d+)*\]")
_WS = re.compile(r"\s+")


class EvalSetError(ValueError):
    """A malformed eval set; the message names the file and the 1-based line."""


# --- loading -------------------------------------------------------------------------------


def load_eval_set(path: str | Path) -> list[dict]:
    """Read and validate a JSONL eval set, failing loudly on the first bad line.

    A silently skipped item would inflate accuracy, so every problem is an error that says
    where it is.
    """
    path = Path(path)
    items: list[dict] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise EvalSetError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            problem = item_problem(item)
            if problem is None and item["id"] in seen:
                problem = f"duplicate id {item['id']!r} (first on line {seen[item['id']]})"
            if problem:
                raise EvalSetError(f"{path}:{lineno}: {problem}")
            seen[item["id"]] = lineno
            items.append(item)
    return items


def item_problem(item: object) -> str | None:
    """What is wrong with one parsed item's shape, or None (also used by ``evals.check``)."""
    if not isinstance(item, dict):
        return "expected a JSON object"
    missing = [f for f in REQUIRED_FIELDS if f not in item]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    if not isinstance(item["id"], str) or not item["id"]:
        return "id must be a non-empty string"
    if not isinstance(item["question"], str) or not item["question"].strip():
        return "question must be a non-empty string"
    if item["kind"] not in KINDS:
        return f"kind {item['kind']!r} not one of {KINDS}"
    if item["lang"] not in LANGS:
        return f"lang {item['lang']!r} not one of {LANGS}"
    return _must_include_problem(item) or _evidence_problem(item) or _history_problem(item)


def _must_include_problem(item: dict) -> str | None:
    groups = item["must_include"]
    if not isinstance(groups, list) or not all(
        isinstance(g, list) and g and all(isinstance(a, str) and a.strip() for a in g) for g in groups
    ):
        return "must_include must be a list of non-empty lists of non-empty strings"
    if item["kind"] == "unanswerable" and (groups or item["evidence"]):
        return "an unanswerable item must have empty must_include and evidence"
    if item["kind"] != "unanswerable" and not groups:
        return "an answerable item needs at least one must_include group"
    return None


def _evidence_problem(item: dict) -> str | None:
    evidence = item["evidence"]
    if not isinstance(evidence, list):
        return "evidence must be a list"
    for ev in evidence:
        if not isinstance(ev, dict) or not {"file", "line", "quote"} <= ev.keys():
            return "each evidence entry needs file, line and quote"
        if not isinstance(ev["line"], int) or isinstance(ev["line"], bool) or ev["line"] < 1:
            return f"evidence line must be a positive integer, got {ev['line']!r}"
    return None


def _history_problem(item: dict) -> str | None:
    history = item.get("history")
    if history is None:
        return None
    if not isinstance(history, list) or not all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
        for t in history
    ):
        return "history must be a list of {role: user|assistant, content: str}"
    return None


# --- matching ------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """NFC, lowercase, no Vietnamese diacritics (đ→d), single spaces.

    Users and the answerer may or may not type diacritics ("Mường Lầm" / "Muong Lam"); the
    reference alternatives only need to be written once.
    """
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("đ", "d")
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _answer_text(answer_text: str) -> str:
    """The answer as matched: citation markers dropped, then normalized."""
    return normalize(_CITATION_MARKER.sub(" ", answer_text or ""))


def _digit_before(text: str, i: int) -> bool:
    """True if ``text[i]`` is preceded by a digit or by a decimal/thousands separator after a digit."""
    if i > 0 and text[i - 1].isdigit():
        return True
    return i > 1 and text[i - 1] in ".," and text[i - 2].isdigit()


def _digit_after(text: str, j: int) -> bool:
    """True if the number ending before ``text[j]`` continues: a digit, or [.,] then a digit.

    A sentence-final period ("đạt 48.") or a list comma ("48, 50") does not continue it.
    """
    if j < len(text) and text[j].isdigit():
        return True
    return j + 1 < len(text) and text[j] in ".," and text[j + 1].isdigit()


def matches_alternative(answer_text: str, alt: str) -> bool:
    """Whether one must_include alternative occurs in the answer (FORMAT.md rules).

    Case- and diacritics-insensitive substring; an alternative starting with a digit must
    stand as a whole number on the left (``48`` not in ``148``/``1,48``, ``0%`` not in
    ``10%``), and one ending with a digit must end a number (``48`` not in ``48,13``/``48.5``,
    ``17`` not in ``17.732``).
    """
    hay, needle = _answer_text(answer_text), normalize(alt)
    if not needle:
        return False
    check_left, check_right = needle[0].isdigit(), needle[-1].isdigit()
    start = hay.find(needle)
    while start != -1:
        end = start + len(needle)
        if not (check_left and _digit_before(hay, start)) and not (check_right and _digit_after(hay, end)):
            return True
        start = hay.find(needle, start + 1)
    return False


def group_matched(answer_text: str, group: Iterable[str]) -> bool:
    """A must_include group is satisfied by any one of its alternatives."""
    return any(matches_alternative(answer_text, alt) for alt in group)


def missing_groups(item: Mapping, result: Mapping) -> list[list[str]]:
    """The must_include groups the answer does not satisfy (for failure listings)."""
    text = result.get("answer") or ""
    return [g for g in item["must_include"] if not group_matched(text, g)]


# --- per-item scoring ----------------------------------------------------------------------


def is_unanswerable(item: Mapping) -> bool:
    return item["kind"] == "unanswerable"


def item_correct(item: Mapping, result: Mapping) -> bool:
    """Answered with every must_include group matched; or, if unanswerable, refused."""
    status = result.get("status")
    if is_unanswerable(item):
        return status == STATUS_NOT_FOUND
    return status == STATUS_ANSWERED and not missing_groups(item, result)


def answered_wrong(item: Mapping, result: Mapping) -> bool:
    """A confident wrong answer: status ``answered`` but not correct (any answer to an unanswerable item).

    Worse than a refusal for the people who use this, so it is counted on its own.
    """
    return result.get("status") == STATUS_ANSWERED and not item_correct(item, result)


def _same_file(a: str, b: str) -> bool:
    """Compare by file name: a citation may carry a path where the eval set has a bare name."""
    return Path(str(a)).name == Path(str(b)).name


def squash(text: str) -> str:
    """Normalized and without any whitespace, so a quote spanning a line break still matches."""
    return normalize(text).replace(" ", "")


def line_covered(line: int, start: int, end: int) -> bool:
    """Evidence line within the passage's range, with one line of slack either side."""
    return start - 1 <= line <= end + 1


def citation_supports(citation: Mapping, evidence: Mapping) -> bool:
    """A citation proves one evidence entry: same file, and its lines or its text hold it."""
    if not _same_file(citation.get("file", ""), evidence["file"]):
        return False
    try:
        if line_covered(int(evidence["line"]), int(citation["line_start"]), int(citation["line_end"])):
            return True
    except (KeyError, TypeError, ValueError):
        pass
    quote = squash(evidence.get("quote") or "")
    return bool(quote) and quote in squash(citation.get("text") or "")


def evidence_cited(item: Mapping, result: Mapping) -> bool:
    """At least one citation supports at least one evidence entry."""
    citations = result.get("citations") or []
    return any(citation_supports(c, ev) for c in citations for ev in item["evidence"])


def item_cited(item: Mapping, result: Mapping) -> bool:
    """Correct *and* backed by a citation of the evidence ("cited accuracy").

    For unanswerable items there is nothing to cite, so cited equals correct.
    """
    if not item_correct(item, result):
        return False
    if is_unanswerable(item) or not item["evidence"]:
        return True
    return evidence_cited(item, result)


# --- aggregates ----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _align(items: Sequence[Mapping], results: Sequence[Mapping] | Mapping[str, Mapping]) -> list[Mapping]:
    """Results in item order; accepts a list in the same order or a dict by id.

    A missing result counts as an error rather than being dropped, so it costs accuracy.
    """
    if isinstance(results, Mapping):
        return [results.get(it["id"]) or {"status": "error", "answer": ""} for it in items]
    if len(results) != len(items):
        raise ValueError(f"{len(results)} results for {len(items)} items")
    return list(results)


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _breakdown(rows: list[tuple[Mapping, bool, bool, bool]], key: str) -> dict[str, dict]:
    groups: dict[str, list[tuple[bool, bool, bool]]] = {}
    for item, ok, cited, wrong in rows:
        groups.setdefault(str(item[key]), []).append((ok, cited, wrong))
    return {
        name: {
            "n": len(v),
            "correct": sum(o for o, _, _ in v),
            "accuracy": _rate(sum(o for o, _, _ in v), len(v)),
            "cited_accuracy": _rate(sum(c for _, c, _ in v), len(v)),
            "answered_wrong": sum(w for _, _, w in v),
            "answered_wrong_rate": _rate(sum(w for _, _, w in v), len(v)),
        }
        for name, v in sorted(groups.items())
    }


def summarize(items: Sequence[Mapping], results: Sequence[Mapping] | Mapping[str, Mapping]) -> dict:
    """Accuracy (plain and cited) and answered-wrong overall, by kind and by lang; refusals; latency."""
    aligned = _align(items, results)
    rows = [(it, item_correct(it, r), item_cited(it, r), answered_wrong(it, r))
            for it, r in zip(items, aligned, strict=True)]
    n = len(rows)
    unans = [(it, r) for it, r in zip(items, aligned, strict=True) if is_unanswerable(it)]
    ans = [(it, r) for it, r in zip(items, aligned, strict=True) if not is_unanswerable(it)]
    refused = sum(r.get("status") == STATUS_NOT_FOUND for _, r in unans)
    false_ref = sum(r.get("status") == STATUS_NOT_FOUND for _, r in ans)
    latencies = [float(r["latency_ms"]) for r in aligned if r.get("latency_ms") is not None]
    return {
        "n": n,
        "correct": sum(row[1] for row in rows),
        "cited": sum(row[2] for row in rows),
        "accuracy": _rate(sum(row[1] for row in rows), n),
        "cited_accuracy": _rate(sum(row[2] for row in rows), n),
        "answered_wrong": sum(row[3] for row in rows),
        "answered_wrong_rate": _rate(sum(row[3] for row in rows), n),
        "by_kind": _breakdown(rows, "kind"),
        "by_lang": _breakdown(rows, "lang"),
        "unanswerable": {"n": len(unans), "refused": refused, "refusal_rate": _rate(refused, len(unans))},
        "false_refusals": {"n": len(ans), "count": false_ref, "rate": _rate(false_ref, len(ans))},
        "errors": sum(r.get("status") == "error" for r in aligned),
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "max": max(latencies) if latencies else None,
        },
    }


Span = tuple[str, int, int]


def evidence_hit(item: Mapping, span: Span) -> bool:
    """A retrieved passage (file, line_start, line_end) holds one of the item's evidence lines."""
    file, start, end = span
    return any(
        _same_file(file, ev["file"]) and line_covered(int(ev["line"]), start, end) for ev in item["evidence"]
    )


def first_hit_rank(item: Mapping, spans: Sequence[Span]) -> int | None:
    """1-based rank of the first retrieved passage holding evidence, or None."""
    for rank, span in enumerate(spans, start=1):
        if evidence_hit(item, span):
            return rank
    return None


def retrieval_recall(
    items: Sequence[Mapping], retrieved: Mapping[str, Sequence[Span]], ks: Sequence[int] = (1, 3, 5, 10)
) -> dict:
    """Share of answerable items whose evidence is among the top k retrieved passages.

    Items absent from ``retrieved`` count as misses, so a crashed retrieval lowers recall.
    """
    scored = [it for it in items if not is_unanswerable(it) and it["evidence"]]
    ranks = [first_hit_rank(it, retrieved.get(it["id"], ())) for it in scored]
    out: dict = {"n": len(scored)}
    for k in ks:
        out[f"recall@{k}"] = _rate(sum(r is not None and r <= k for r in ranks), len(scored))
    hits = [1.0 / r for r in ranks if r is not None]
    out["mrr"] = sum(hits) / len(scored) if scored else None
    return out
