"""Run history (``evals/history.py``): two real runs, one item changed, and what the comparison says.

The change is a real one: a report is removed from a private copy of the data and the index is
rebuilt, so the item about that commune goes right → wrong while the others keep their verdict.
The same runs are then compared with ``baocao eval --compare prev last``.
"""

from __future__ import annotations

import argparse
import json

import pytest

from assistant.service import Assistant
from baocao.config import PROJECT_ROOT
from evals import runner
from evals.history import RunNotFound, compare, load_runs, moved_items, resolve_run
from index.build import build_index

PUBLIC = PROJECT_ROOT / "evals" / "public.jsonl"
IDS = ("phieng-pan-01", "muong-la-01", "bo-sinh-03")
REMOVED = "phieng-pan.txt"

pytestmark = pytest.mark.slow


def picked() -> list[dict]:
    by_id = {it["id"]: it for it in map(json.loads, PUBLIC.read_text(encoding="utf-8").splitlines())}
    return [by_id[i] for i in IDS]


def one_run(settings, items: list[dict], history) -> dict:
    """Open the assistant on the current index, run the items, append the run to ``history``."""
    assistant = Assistant.open(settings, build_if_missing=False)
    run = runner.run_eval(assistant, items, ["hybrid"])
    report = runner.build_report(run, ["mine.jsonl"], ["hybrid"])
    return runner.record_runs(run, report, history)[0]


def test_two_runs_with_one_item_changed_by_removing_a_report(isolated_settings, tmp_path, capsys, monkeypatch):
    history = tmp_path / "history.jsonl"
    items = picked()
    build_index(isolated_settings, show_bar=False)
    first = one_run(isolated_settings, items, history)
    assert first["items"]["phieng-pan-01"]["correct"], "precondition: the Phiêng Pằn item is answered right"

    (isolated_settings.reports_dir / REMOVED).unlink()
    build_index(isolated_settings, show_bar=False)
    second = one_run(isolated_settings, items, history)

    runs = load_runs(history)
    assert [r["run_id"] for r in runs] == [first["run_id"], second["run_id"]]
    assert runs[0]["index_generation"] != runs[1]["index_generation"]  # answered on two different indexes
    assert runs[0]["set_hash"] == runs[1]["set_hash"] and runs[0]["sets"] == ["mine.jsonl"]
    diff = compare(runs[0], runs[1])
    assert diff["broke"] == ["phieng-pan-01"] and diff["fixed"] == [] and diff["same_set"]
    assert moved_items(runs) == ["phieng-pan-01"]
    others = [i for i in IDS if i != "phieng-pan-01"]
    assert [runs[0]["items"][i]["correct"] for i in others] == [runs[1]["items"][i]["correct"] for i in others]
    assert runs[1]["scores"]["overall"]["accuracy"] < runs[0]["scores"]["overall"]["accuracy"]

    # the same, from the command line
    monkeypatch.setenv("BAOCAO_EVAL_HISTORY", str(history))
    parser = argparse.ArgumentParser()
    runner.add_eval_arguments(parser)
    assert runner.run_eval_command(parser.parse_args(["--compare", "prev", "last"])) == 0
    out = capsys.readouterr().out
    assert first["run_id"] in out and second["run_id"] in out
    assert "right → wrong (1):\n  phieng-pan-01: What forest cover rate" in out and "wrong → right (0):" in out
    assert runner.run_eval_command(parser.parse_args(["--compare", first["run_id"][:17], "last"])) == 0
    assert runner.run_eval_command(parser.parse_args(["--compare", "nope", "last"])) == 2
    assert "'nope' not found" in capsys.readouterr().err


def test_run_references_and_a_damaged_history(tmp_path):
    history = tmp_path / "h.jsonl"
    recs = [{"run_id": f"2026-{i}", "sets": [s], "set_hash": "h", "items": {}} for i, s in
            enumerate(["a.jsonl", "b.jsonl", "a.jsonl"])]
    history.write_text("\n".join(json.dumps(r) for r in recs[:2]) + "\n{truncated\n" + json.dumps(recs[2]) + "\n",
                       encoding="utf-8")
    runs = load_runs(history)
    assert [r["run_id"] for r in runs] == ["2026-0", "2026-1", "2026-2"]  # the damaged line is skipped
    assert resolve_run(runs, "last")["run_id"] == "2026-2"
    assert resolve_run(runs, "prev")["run_id"] == "2026-0"  # the run before the last one of the same set
    with pytest.raises(RunNotFound, match="ambiguous"):
        resolve_run(runs, "2026-")
    with pytest.raises(RunNotFound, match="no run of b.jsonl before"):
        resolve_run(runs, "prev", other=runs[1])
    with pytest.raises(RunNotFound, match="no eval runs"):
        resolve_run(load_runs(tmp_path / "missing.jsonl"), "last")
