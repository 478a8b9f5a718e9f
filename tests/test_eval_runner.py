"""The eval runner: reports, failure listings and the CI exit code.

Most tests drive the runner with a scripted assistant, so they check the runner's own logic
quickly; the ``slow`` test runs a few real items through the real assistant end to end.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from assistant.schema import Answer, Citation
from baocao.config import PROJECT_ROOT
from evals import runner
from evals.scoring import load_eval_set
from index.schema import Passage

PUBLIC = PROJECT_ROOT / "evals" / "public.jsonl"
PICKED = ("muong-la-01", "bo-sinh-03", "compare-03", "muong-la-28")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="baocao eval")
    runner.add_eval_arguments(parser)
    return parser.parse_args(argv)


def small_set(tmp_path: Path, ids: tuple[str, ...] = PICKED) -> Path:
    """A few real items (answerable, a follow-up with history, unanswerable) in a temp file."""
    all_lines = PUBLIC.read_text(encoding="utf-8").splitlines()
    lines = [line for line in all_lines if json.loads(line)["id"] in ids]
    assert len(lines) == len(ids)
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class ScriptedAssistant:
    """Answers muong-la-01 right with the evidence cited, bo-sinh-03 wrong, refuses the
    unanswerable one and crashes on compare-03; retrieval finds evidence only in hybrid mode."""

    def __init__(self, items: list[dict]):
        self.by_question = {it["question"]: it for it in items}
        self.histories: dict[str, list | None] = {}

    def ask(self, question: str, history: list[dict] | None = None) -> Answer:
        item = self.by_question[question]
        self.histories[item["id"]] = history
        if item["id"] == "compare-03":
            raise RuntimeError("boom")
        if item["kind"] == "unanswerable":
            return Answer(status="not_found", answer="Các báo cáo không có thông tin này.", latency_ms=5.0)
        ev = item["evidence"][0]
        text = item["answer"] if item["id"] == "muong-la-01" else "Thu ngân sách đạt 500 triệu đồng [1]."
        cite = Citation(1, ev["file"], ev["line"], ev["line"] + 2, "Chỉ tiêu", ev["quote"])
        return Answer(status="answered", answer=text, citations=[cite], latency_ms=20.0)

    def retrieve(self, question: str, history=None, k: int = 10, mode: str = "hybrid") -> list[Passage]:
        item = self.by_question[question]
        if mode != "hybrid" or not item["evidence"]:
            return [Passage(file="other.txt", commune="X", text="...", line_start=1, line_end=3)]
        ev = item["evidence"][0]
        filler = Passage(file=ev["file"], commune="X", text="...", line_start=1, line_end=2)
        line = ev["line"]
        hit = Passage(file=ev["file"], commune="X", text=ev["quote"], line_start=line, line_end=line)
        return [filler, hit][:k]


@pytest.fixture
def scripted(tmp_path, monkeypatch):
    path = small_set(tmp_path)
    fake = ScriptedAssistant(load_eval_set(path))
    monkeypatch.setattr(runner, "open_assistant", lambda: fake)
    monkeypatch.setenv("BAOCAO_EVAL_HISTORY", str(tmp_path / "history.jsonl"))
    return path, fake


def test_reports_failures_and_exit_codes(scripted, tmp_path, capsys):
    path, fake = scripted
    out_json, out_md = tmp_path / "deep" / "r.json", tmp_path / "deeper" / "x" / "r.md"
    out_csv = tmp_path / "r.csv"
    argv = ["--set", str(path), "--json", str(out_json), "--md", str(out_md), "--csv", str(out_csv),
            "--mode", "hybrid,lexical"]
    assert runner.run_eval_command(parse(argv)) == 0  # no floor: always 0

    report = json.loads(out_json.read_text(encoding="utf-8"))
    s = report["summary"]
    assert (s["n"], s["correct"], s["cited"]) == (4, 2, 2)
    assert s["errors"] == 1 and s["unanswerable"]["refused"] == 1
    assert report["retrieval"]["hybrid"]["recall@1"] == 0.0
    assert report["retrieval"]["hybrid"]["recall@3"] == 1.0
    assert report["retrieval"]["lexical"]["recall@10"] == 0.0
    verdicts = {r["id"]: r["correct"] for r in report["items"]}
    assert verdicts == {"muong-la-01": True, "bo-sinh-03": False, "compare-03": False, "muong-la-28": True}
    # the follow-up's history reached the assistant
    assert fake.histories["compare-03"] and fake.histories["muong-la-01"] is None

    console = capsys.readouterr().out
    assert "Failures (2)" in console
    assert "bo-sinh-03" in console and "500 triệu" in console and '[["515"]]' in console
    assert "bo-sinh.txt:950-952" in console  # what we cited
    assert "answered [error]: RuntimeError: boom" in console
    md = out_md.read_text(encoding="utf-8")
    assert "| overall | 4 | 2 | 50.0% | 50.0% | 25.0% |" in md  # bo-sinh-03: answered, wrong figure
    assert "### `bo-sinh-03`" in md and "### `muong-la-01`" not in md
    assert "| hybrid | retrieval |" in md and "| lexical | retrieval |" in md  # modes in one table
    assert s["answered_wrong"] == 1 and [r["id"] for r in report["items"] if r["answered_wrong"]] == ["bo-sinh-03"]
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8", newline="")))
    assert [r["id"] for r in rows] == [r["id"] for r in report["items"]]
    wrong = next(r for r in rows if r["id"] == "bo-sinh-03")
    assert wrong["correct"] == "False" and "500 triệu" in wrong["answer"] and "bo-sinh.txt:950-952" in \
        wrong["cited_passages"]

    assert runner.run_eval_command(parse(["--set", str(path), "--min-accuracy", "0.5"])) == 0
    assert runner.run_eval_command(parse(["--set", str(path), "--min-accuracy", "0.51"])) == 1
    assert runner.run_eval_command(parse(["--set", str(path), "--min-accuracy", "1.01"])) == 1


def test_long_answers_are_truncated_in_the_listing():
    rec = {
        "expected": "x",
        "must_include": [["1"]],
        "missing": [["1"]],
        "evidence": [],
        "first_hit_rank": {},
        "result": {"status": "answered", "answer": "a" * 1000, "citations": []},
    }
    answered = next(line for line in runner.failure_lines(rec) if line.startswith("answered"))
    assert len(answered) < 330 and answered.endswith("…")


def test_bad_inputs_exit_2_without_opening_the_assistant(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "open_assistant", lambda: pytest.fail("assistant opened"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(PUBLIC.read_text(encoding="utf-8").splitlines()[0] + "\n{oops\n", encoding="utf-8")
    assert runner.run_eval_command(parse(["--set", str(bad)])) == 2
    assert "bad.jsonl:2" in capsys.readouterr().err
    assert runner.run_eval_command(parse(["--set", str(PUBLIC), "--mode", "hybrid,fuzzy"])) == 2
    assert "fuzzy" in capsys.readouterr().err
    assert runner.run_eval_command(parse(["--set", str(PUBLIC), str(PUBLIC)])) == 2  # duplicate ids


def test_default_set_and_modes():
    args = parse([])
    assert args.sets is None and args.min_accuracy is None
    assert runner.DEFAULT_SET.is_file()
    assert runner.parse_modes("dense, lexical,dense") == ["dense", "lexical"]
    assert runner.resolve_set_path(Path("evals/public.jsonl")).is_file()


@pytest.mark.slow
def test_end_to_end_with_the_real_assistant(tmp_path, capsys, monkeypatch):
    pytest.importorskip("assistant.service")
    monkeypatch.setenv("BAOCAO_EVAL_HISTORY", str(tmp_path / "history.jsonl"))
    path = small_set(tmp_path)
    out_json, out_md = tmp_path / "reports" / "e2e.json", tmp_path / "reports" / "e2e.md"
    modes = "hybrid,dense,lexical"
    argv = ["--set", str(path), "--json", str(out_json), "--md", str(out_md), "--mode", modes]
    assert runner.run_eval_command(parse(argv)) == 0

    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert report["summary"]["n"] == len(PICKED)
    assert set(report["retrieval"]) == {"hybrid", "dense", "lexical"}
    assert {r["id"] for r in report["items"]} == set(PICKED)
    for rec in report["items"]:
        assert rec["result"]["status"] in ("answered", "not_found", "error")
        assert rec["result"]["latency_ms"] > 0
    assert "# baocao eval" in out_md.read_text(encoding="utf-8")
    assert "Modes side by side" in capsys.readouterr().out

    assert runner.run_eval_command(parse(["--set", str(path), "--min-accuracy", "1.01"])) == 1


def test_a_set_that_fails_the_check_is_refused_or_run_without_its_bad_lines(scripted, tmp_path, capsys):
    path, _ = scripted
    good = path.read_text(encoding="utf-8").splitlines()
    broken = json.loads(good[0])
    broken["id"] = "moved-quote"
    broken["evidence"][0]["line"] += 5  # the quote is not on that line
    bad = tmp_path / "mixed.jsonl"
    bad.write_text("\n".join([*good, json.dumps(broken, ensure_ascii=False)]) + "\n", encoding="utf-8")
    out_json = tmp_path / "forced.json"

    assert runner.run_eval_command(parse(["--set", str(bad)])) == 2
    err = capsys.readouterr().err
    assert f"mixed.jsonl:{len(good) + 1} (moved-quote)" in err and "--force" in err

    assert runner.run_eval_command(parse(["--set", str(bad), "--force", "--json", str(out_json)])) == 0
    captured = capsys.readouterr()
    assert "skipping 1 bad line" in captured.err and "Skipped (failed the check)" in captured.out
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert report["summary"]["n"] == len(good)
    assert "moved-quote" not in {r["id"] for r in report["items"]}


def test_check_only_reports_and_exits(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "open_assistant", lambda: pytest.fail("assistant opened"))
    assert runner.run_eval_command(parse(["--check", str(PUBLIC)])) == 0
    assert "80 items, all well formed" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n", encoding="utf-8")
    assert runner.run_eval_command(parse(["--check", str(PUBLIC), str(bad)])) == 2
    assert "bad.jsonl:1: not valid JSON" in capsys.readouterr().out


def test_each_run_is_recorded_and_an_unwritable_history_costs_only_the_record(scripted, tmp_path, capsys,
                                                                              monkeypatch):
    path, _ = scripted
    out = tmp_path / "r.json"
    assert runner.run_eval_command(parse(["--set", str(path)])) == 0
    assert runner.run_eval_command(parse(["--set", str(path), "--no-history"])) == 0
    runs = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(runs) == 1 and runs[0]["sets"] == ["small.jsonl"] and runs[0]["n"] == 4
    assert runs[0]["items"]["bo-sinh-03"] == {**runs[0]["items"]["bo-sinh-03"], "correct": False,
                                              "answered_wrong": True, "status": "answered"}
    assert runs[0]["scores"]["overall"]["answered_wrong"] == 0.25
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("BAOCAO_EVAL_HISTORY", str(blocker / "history.jsonl"))
    capsys.readouterr()
    assert runner.run_eval_command(parse(["--set", str(path), "--json", str(out)])) == 0
    assert "run not recorded" in capsys.readouterr().err and out.exists()
