"""evals/extra.jsonl stays valid: every evidence quote is verbatim in its report, starting at the
line it gives, and every must_include group is backed by the evidence.

A held-out set is only worth something if its references are right; this checks the set, not
the assistant (``baocao eval --set evals/extra.jsonl`` scores the assistant on it).
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter

import pytest

from baocao.config import PROJECT_ROOT
from evals.scoring import KINDS, LANGS, load_eval_set, normalize
from evals.validate_items import ABSENT as ABSENT_FILE
from evals.validate_items import COMMUNES, FILES, absent_hits, quote_starts_on_line, report_lines
from index.text import has_diacritics

EXTRA = PROJECT_ROOT / "evals" / "extra.jsonl"
PUBLIC = PROJECT_ROOT / "evals" / "public.jsonl"
REPORTS = PROJECT_ROOT / "data" / "reports"
CONTEXT_BEFORE, CONTEXT_AFTER = 2, 6  # lines around an evidence line that may back a must_include

# For unanswerable items: regexes (over the normalized report text, optionally within a line range)
# that would hold the answer and match nothing in the commune's report ("*": in any report).
ABSENT = json.loads(ABSENT_FILE.read_text(encoding="utf-8"))
report = report_lines  # the validator's reading of a report file, cached


def evidence_text(item: dict) -> str:
    """The evidence quotes, the lines around them and whose report they are, normalized like answers."""
    parts = []
    for ev in item["evidence"]:
        lines = report(ev["file"])
        lo, hi = max(0, ev["line"] - 1 - CONTEXT_BEFORE), ev["line"] + CONTEXT_AFTER
        parts += [ev["quote"], " ".join(lines[lo:hi]), FILES[ev["file"]]]
    return normalize(" ".join(parts))


def items() -> list[dict]:
    return load_eval_set(EXTRA)  # the runner's own validation: fields, kinds, langs, unique ids


def test_extra_set_loads_and_has_the_original_25_and_the_new_items():
    extra = items()
    assert len(extra) >= 175
    assert sum(it["id"].startswith("x-") for it in extra) == 25


def test_extra_set_is_nfc_utf8_one_object_per_line():
    raw = EXTRA.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", raw)
    for line in raw.splitlines():
        assert isinstance(json.loads(line), dict)


def test_extra_ids_and_questions_are_new():
    public = load_eval_set(PUBLIC)
    assert not {it["id"] for it in items()} & {it["id"] for it in public}
    public_questions = {normalize(it["question"]) for it in public}
    assert not [it["id"] for it in items() if normalize(it["question"]) in public_questions]


def test_extra_set_is_spread_over_communes_kinds_and_languages():
    extra = items()
    per_commune = Counter(c for it in extra for c in it["communes"])
    assert set(per_commune) == COMMUNES
    assert min(per_commune.values()) >= 4
    assert set(Counter(it["kind"] for it in extra)) == set(KINDS)
    langs = Counter(it["lang"] for it in extra)
    assert set(langs) == set(LANGS) and min(langs.values()) >= 5


@pytest.mark.parametrize("item", items(), ids=lambda it: it["id"])
def test_item_fields_are_consistent(item):
    assert set(item["communes"]) <= COMMUNES
    assert item["period"] in (None, "2020-2025", "2025-2030")
    if item["kind"] == "target":
        assert item["period"] == "2025-2030"
    if item["kind"] == "result":
        assert item["period"] == "2020-2025"
    if item["kind"] == "comparison" and "history" not in item:
        assert len(item["communes"]) >= 2
    if item["lang"] == "vi-ascii":
        assert not has_diacritics(item["question"]), item["question"]
    if item["lang"] == "vi":
        assert has_diacritics(item["question"]), item["question"]
    for ev in item["evidence"]:
        assert ev["file"] in FILES
        assert FILES[ev["file"]] in item["communes"]


@pytest.mark.parametrize(
    ("item_id", "file", "line", "quote"),
    [(it["id"], ev["file"], ev["line"], ev["quote"]) for it in items() for ev in it["evidence"]],
    ids=lambda v: v if isinstance(v, str) and v.startswith("x-") else "",
)
def test_evidence_quote_starts_on_its_line(item_id, file, line, quote):
    assert 1 <= line <= len(report(file)), (item_id, line)
    assert quote_starts_on_line(file, line, quote), f"{item_id}: {quote!r} does not start on {file}:{line}"


ANSWERABLE = [it for it in items() if it["kind"] != "unanswerable"]


@pytest.mark.parametrize("item", ANSWERABLE, ids=lambda it: it["id"])
def test_must_include_is_backed_by_the_evidence(item):
    text = evidence_text(item)
    unbacked = [g for g in item["must_include"] if not any(normalize(a) in text for a in g)]
    assert unbacked == [], f"{item['id']}: {unbacked}"


@pytest.mark.parametrize("item_id", sorted(it["id"] for it in items() if it["kind"] == "unanswerable"))
def test_unanswerable_items_really_are_absent_from_the_report(item_id):
    item = next(it for it in items() if it["id"] == item_id)
    assert item["kind"] == "unanswerable" and item["must_include"] == [] and item["evidence"] == []
    spec = ABSENT[item_id]
    files = list(FILES) if spec["file"] == "*" else [spec["file"]]
    for file in files:
        assert absent_hits({**spec, "file": file}) == [], (item_id, file)


def test_every_unanswerable_item_has_an_absence_check():
    assert {it["id"] for it in items() if it["kind"] == "unanswerable"} <= set(ABSENT)


def test_the_line_check_catches_an_off_by_one_line():
    quote = "(7)- Tỷ lệ che phủ rừng đạt 51,51% trở lên."
    assert quote_starts_on_line("muong-la.txt", 884, quote)
    assert not quote_starts_on_line("muong-la.txt", 883, quote)
    assert not quote_starts_on_line("muong-la.txt", 885, quote)
    assert not quote_starts_on_line("muong-la.txt", 884, "(7)- Tỷ lệ che phủ rừng đạt 51,52% trở lên.")
