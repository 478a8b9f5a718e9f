"""``baocao eval``: run the eval set through the assistant and report what it got wrong.

The report is meant to be read by a person fixing the answerer, so every failure is listed
with what was expected, what was answered and what was cited, next to the aggregate numbers
CI gates on (``--min-accuracy``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from baocao.config import PROJECT_ROOT, get_settings
from evals.check import CheckReport, check_file
from evals.history import RunNotFound, append_run, format_compare, load_runs, make_record, resolve_run
from evals.scoring import (
    EvalSetError,
    answered_wrong,
    evidence_cited,
    first_hit_rank,
    is_unanswerable,
    item_cited,
    item_correct,
    missing_groups,
    percentile,
    retrieval_recall,
    summarize,
)

DEFAULT_SET = PROJECT_ROOT / "evals" / "public.jsonl"
MODES = ("hybrid", "dense", "lexical")
ANSWER_MODES = ("extractive", "llm")  # answerer modes: each runs the whole set (assistant.ask(mode=...))
RECALL_KS = (1, 3, 5, 10)
ANSWER_PREVIEW_CHARS = 300


class AssistantLike(Protocol):
    """What the runner needs from ``assistant.service.Assistant`` (lets tests pass a fake)."""

    def ask(self, question: str, history: list[dict] | None = None) -> Any: ...

    def retrieve(
        self, question: str, history: list[dict] | None = None, k: int = 10, mode: str = "hybrid"
    ) -> list: ...


@dataclass
class EvalRun:
    """Raw outcome of one run: results in item order and retrieved spans per mode."""

    items: list[dict]
    results: list[dict]
    retrieved: dict[str, dict[str, list[tuple[str, int, int]]]] = field(default_factory=dict)
    by_answer_mode: dict[str, list[dict]] = field(default_factory=dict)  # only with --mode extractive,llm
    model: str = ""  # the LLM backend and model, when "llm" was run
    retrieve_ms: dict[str, list[float]] = field(default_factory=dict)  # per retrieval mode, per item
    answer_mode: str = ""  # the answerer that produced ``results`` (for the history)
    generation: str = ""  # the index generation the run was answered on


# --- CLI -----------------------------------------------------------------------------------


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``baocao eval``; kept here so the CLI module only wires sub-commands."""
    parser.add_argument(
        "--set",
        dest="sets",
        action="extend",
        nargs="+",
        type=Path,
        metavar="FILE",
        help=f"eval set(s) in JSONL (default: {DEFAULT_SET.relative_to(PROJECT_ROOT)})",
    )
    parser.add_argument("--json", dest="json_out", type=Path, metavar="OUT", help="write a JSON report")
    parser.add_argument("--md", dest="md_out", type=Path, metavar="OUT", help="write a Markdown report")
    parser.add_argument(
        "--min-accuracy",
        type=float,
        default=None,
        metavar="X",
        help="exit with status 1 if accuracy (0..1) is below X",
    )
    parser.add_argument(
        "--cv",
        action="store_true",
        help="leave-one-commune-out cross-validation: fit the answer model on four communes' items, score the fifth",
    )
    parser.add_argument(
        "--mode",
        default="hybrid",
        metavar="MODES",
        help=f"comma-separated retrieval modes for the recall table ({', '.join(MODES)}) and/or answer "
        f"modes ({', '.join(ANSWER_MODES)}) to run the answerer in, side by side; without an answer mode "
        "answers use the default answerer",
    )
    parser.add_argument("--csv", dest="csv_out", type=Path, metavar="OUT", help="write a per-item CSV report")
    parser.add_argument("--check", dest="check", action="extend", nargs="+", type=Path, metavar="FILE",
                        help="only check eval file(s): fields, quotes at their lines, must_include vs answer; "
                        "exit 2 if any fails")
    parser.add_argument("--force", action="store_true",
                        help="run a set that fails the check, skipping its bad lines (they are listed)")
    parser.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"),
                        help="compare two recorded runs (run ids, 'last' or 'prev'): scores and the items "
                        "that moved")
    parser.add_argument("--no-history", dest="history", action="store_false",
                        help="do not append this run to the run history")


def run_eval_command(args: argparse.Namespace) -> int:
    """Entry point of ``baocao eval``: 0 ok, 1 below --min-accuracy, 2 unusable input."""
    if getattr(args, "compare", None):
        return compare_command(*args.compare)
    if getattr(args, "check", None):
        return check_command(args.check)
    try:
        modes = parse_modes(args.mode)
        sets = [resolve_set_path(p) for p in (args.sets or [DEFAULT_SET])]
        items, checks = checked_sets(sets, force=getattr(args, "force", False))
    except (EvalSetError, ValueError, OSError) as exc:
        print(f"baocao eval: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "cv", False):
        return run_cv(items, args)
    answer_modes = [m for m in modes if m in ANSWER_MODES]
    modes = [m for m in modes if m in MODES] or ["hybrid"]
    run = run_eval(open_assistant(), items, modes, answer_modes)
    report = build_report(run, sets, modes, checks)
    print(format_text(report))
    write_reports(report, getattr(args, "json_out", None), getattr(args, "md_out", None),
                  getattr(args, "csv_out", None))
    if getattr(args, "history", True):
        for record in record_runs(run, report, get_settings().eval_history_path):
            print(f"Recorded run {record['run_id']} ({record['answer_mode']}); "
                  "compare with: baocao eval --compare prev last", file=sys.stderr)
    return exit_code(report["summary"], args.min_accuracy)


def check_command(paths: Sequence[Path]) -> int:
    """``--check``: print each file's report; 0 when all are clean, 2 otherwise."""
    reports_dir = get_settings().reports_dir
    ok = True
    for path in paths:
        report = check_file(resolve_set_path(path), reports_dir, name=str(path))
        print(report.text())
        ok = ok and report.ok
    return 0 if ok else 2


def compare_command(ref_a: str, ref_b: str) -> int:
    """``--compare RUN_A RUN_B``: both runs side by side and the items that moved."""
    runs = load_runs(get_settings().eval_history_path)
    try:
        b = resolve_run(runs, ref_b)
        a = resolve_run(runs, ref_a, other=b if ref_a == "prev" else None)
    except RunNotFound as exc:
        print(f"baocao eval: {exc}", file=sys.stderr)
        return 2
    print(format_compare(a, b))
    return 0


def checked_sets(paths: Sequence[Path], force: bool = False, reports_dir: Path | None = None,
                 names: Sequence[str] | None = None) -> tuple[list[dict], list[CheckReport]]:
    """The items of all sets after the checker; a failing set is refused unless ``force`` (bad lines skipped).

    Ids must stay unique across sets so results can be keyed by id.
    """
    reports_dir = reports_dir or get_settings().reports_dir
    items: list[dict] = []
    checks: list[CheckReport] = []
    seen: dict[str, str] = {}
    for i, path in enumerate(paths):
        report = check_file(path, reports_dir, name=names[i] if names else str(path))
        checks.append(report)
        if report.problems and not force:
            raise EvalSetError(f"{report.text()}\nFix these lines, or run with --force to skip them.")
        if report.problems:
            print(f"baocao eval: skipping {len(report.bad_lines)} bad line(s) of {report.name}:\n{report.text()}",
                  file=sys.stderr)
        for item in report.items:
            if item["id"] in seen:
                raise EvalSetError(f"{report.name}: id {item['id']!r} already used in {seen[item['id']]}")
            seen[item["id"]] = report.name
            items.append(item)
    if not items:
        raise EvalSetError(f"no usable items in {', '.join(map(str, paths))}")
    return items, checks


def record_runs(run: EvalRun, report: dict, path: Path) -> list[dict]:
    """Append the run to the history: one record per answer mode, so modes can be compared later."""
    sets = [Path(p).name for p in report["sets"]]
    skipped = sum(len(c.get("problems", [])) for c in report.get("check", []))
    passes = run.by_answer_mode or {run.answer_mode or "extractive": run.results}
    records = []
    for mode, results in passes.items():
        summary = summarize(run.items, results)
        record = make_record(run.items, results, summary, sets=sets, generation=run.generation,
                             answer_mode=mode, skipped=skipped)
        try:
            append_run(path, record)
        except OSError as exc:  # a read-only data dir must not cost the run's report
            print(f"baocao eval: run not recorded in {path}: {exc}", file=sys.stderr)
            return records
        records.append(record)
    return records


def run_cv(items: list[dict], args: argparse.Namespace) -> int:
    """``baocao eval --cv``: leave-one-commune-out — fit on four communes' items, score the fifth."""
    from evals.fit import choose_c, collect, cross_validate, format_cv

    assistant = open_assistant()
    examples = collect(assistant, items)
    report = cross_validate(assistant, examples, choose_c(examples))
    print(format_cv(report))
    run = EvalRun(items=report["items"], results=[report["results"][it["id"]] for it in report["items"]])
    cv_report = build_report(run, [Path("cv")], [])
    print(format_text(cv_report))
    write_reports(cv_report, getattr(args, "json_out", None), getattr(args, "md_out", None))
    return exit_code(cv_report["summary"], args.min_accuracy)


def parse_modes(spec: str | None) -> list[str]:
    """``"hybrid,dense"`` -> ``["hybrid", "dense"]``; unknown modes are an error, not ignored."""
    modes = [m.strip() for m in (spec or "hybrid").split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES + ANSWER_MODES]
    if unknown or not modes:
        raise ValueError(f"unknown mode(s) {unknown or spec!r}; choose from {', '.join(MODES + ANSWER_MODES)}")
    return list(dict.fromkeys(modes))


def resolve_set_path(path: Path) -> Path:
    """A relative path is tried from the working directory, then from the project root.

    So ``baocao eval --set evals/public.jsonl`` works from any directory.
    """
    if path.is_absolute() or path.exists():
        return path
    candidate = PROJECT_ROOT / path
    return candidate if candidate.exists() else path


def open_assistant() -> AssistantLike:
    """Imported lazily: loading the index is slow and ``--help`` should not pay for it."""
    from assistant.service import Assistant

    return Assistant.open()


def exit_code(summary: dict, min_accuracy: float | None) -> int:
    """1 when a floor is set and accuracy is under it (CI gate), else 0."""
    if min_accuracy is None:
        return 0
    return 1 if (summary.get("accuracy") or 0.0) < min_accuracy else 0


# --- running -------------------------------------------------------------------------------


def run_eval(
    assistant: AssistantLike, items: list[dict], modes: Sequence[str], answer_modes: Sequence[str] = ()
) -> EvalRun:
    """Ask every question once (once per answer mode, if any) and retrieve for every answerable one."""
    answerable = [it for it in items if not is_unanswerable(it)]
    passes: list[str | None] = list(answer_modes) or [None]
    total = len(items) * len(passes) + len(modes) * len(answerable)
    run = EvalRun(items=items, results=[], answer_mode=(answer_modes or [default_answer_mode(assistant)])[0],
                  generation=index_generation(assistant))
    if "llm" in answer_modes:
        run.model = llm_model_name(assistant)
    with tqdm(total=total, file=sys.stderr, desc="eval", unit="q", dynamic_ncols=True) as bar:
        for answer_mode in passes:
            bar.set_description(f"answer {answer_mode}" if answer_mode else "eval")
            results = []
            for item in items:
                results.append(ask_one(assistant, item, answer_mode))
                bar.update()
            if answer_mode:
                run.by_answer_mode[answer_mode] = results
            run.results = run.results or results  # the first answer mode drives the summary and the CI gate
        for mode in modes:
            bar.set_description(f"retrieve {mode}")
            run.retrieved[mode], run.retrieve_ms[mode] = {}, []
            for item in answerable:
                start = time.perf_counter()
                run.retrieved[mode][item["id"]] = retrieve_spans(assistant, item, mode)
                run.retrieve_ms[mode].append((time.perf_counter() - start) * 1000)
                bar.update()
    return run


def default_answer_mode(assistant: AssistantLike) -> str:
    settings = getattr(assistant, "settings", None)
    return getattr(settings, "default_answer_mode", "extractive") or "extractive"


def index_generation(assistant: AssistantLike) -> str:
    """Which index the answers came from: runs on different generations are what the history compares."""
    index = getattr(assistant, "index", None)
    manifest = getattr(index, "manifest", None) or {}
    return str(manifest.get("generation") or "?")


def llm_model_name(assistant: AssistantLike) -> str:
    settings = getattr(assistant, "settings", None)
    if settings is None:
        return "?"
    from assistant.llm import describe_backend

    return describe_backend(settings)


def ask_one(assistant: AssistantLike, item: dict, answer_mode: str | None = None) -> dict:
    """One answer as its JSON contract; a crash becomes an ``error`` result, not a dead run.

    One bad question should show up as a listed failure, with the exception text, rather
    than hide the other results.
    """
    start = time.perf_counter()
    try:
        kwargs = {"mode": answer_mode} if answer_mode else {}
        result = assistant.ask(item["question"], item.get("history"), **kwargs).to_json(item["id"])
    except Exception as exc:  # noqa: BLE001 - reported as a failure below
        answer = f"{type(exc).__name__}: {exc}"
        result = {"id": item["id"], "status": "error", "answer": answer, "citations": []}
    if not result.get("latency_ms"):
        result["latency_ms"] = round((time.perf_counter() - start) * 1000, 1)
    return result


def retrieve_spans(assistant: AssistantLike, item: dict, mode: str) -> list[tuple[str, int, int]]:
    """Top-10 passages as (file, line_start, line_end); a failure counts as retrieving nothing."""
    try:
        passages = assistant.retrieve(item["question"], item.get("history"), k=max(RECALL_KS), mode=mode)
    except Exception as exc:  # noqa: BLE001 - a miss in the recall table, noted on stderr
        print(f"retrieve {mode} failed on {item['id']}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return []
    return [(p.file, int(p.line_start), int(p.line_end)) for p in passages]


# --- report --------------------------------------------------------------------------------


def build_report(run: EvalRun, sets: Sequence[Path | str], modes: Sequence[str],
                 checks: Sequence[CheckReport] = ()) -> dict:
    """Everything the text, JSON, Markdown and CSV outputs show, as one JSON-able dict."""
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sets": [str(p) for p in sets],
        "modes": list(modes),
        "answer_mode": run.answer_mode,
        "index_generation": run.generation,
        "check": [c.to_json() for c in checks],
        "summary": summarize(run.items, run.results),
        "retrieval": {m: retrieval_recall(run.items, run.retrieved.get(m, {}), RECALL_KS)
                      | {"latency_ms": latency_stats(run.retrieve_ms.get(m, []))} for m in modes},
        "items": [
            item_record(it, res, run.retrieved) for it, res in zip(run.items, run.results, strict=True)
        ],
    }
    if run.by_answer_mode:
        report["answer_modes"] = {
            m: answer_mode_summary(run.items, res, m, run.model) for m, res in run.by_answer_mode.items()
        }
    return report


def answer_mode_summary(items: list[dict], results: list[dict], mode: str, model: str) -> dict:
    """One answer mode's scores, with how often an LLM answer was used or fell back (and why)."""
    modes = Counter(r.get("mode", "extractive") for r in results)
    reasons = Counter(
        (r.get("note") or "?").split(":")[0].split(";")[0] for r in results if r.get("mode") == "extractive-fallback"
    )
    return {
        "model": model if mode == "llm" else "—",
        "summary": summarize(items, results),
        "llm_answers": modes["llm"],
        "fallbacks": modes["extractive-fallback"],
        "fallback_share": modes["extractive-fallback"] / len(results) if results else None,
        "fallback_reasons": dict(reasons.most_common()),
        "wrong": [it["id"] for it, r in zip(items, results, strict=True) if not item_correct(it, r)],
        "results": {it["id"]: r for it, r in zip(items, results, strict=True)},
    }


def latency_stats(values: Sequence[float]) -> dict:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95)}


MODES_HEAD = ["mode", "type", "model", "n", "accuracy", "cited", "answered wrong", "false refusals",
              *[f"R@{k}" for k in RECALL_KS], "MRR", "p50", "p95", "fallbacks"]


def modes_rows(report: dict) -> list[list[str]]:
    """Answer modes (accuracy) and retrieval modes (recall) in one table, each with its latency.

    Without ``--mode extractive,llm`` the one answer pass is the answer-mode row.
    """
    rows = []
    answer_modes = report.get("answer_modes") or {
        report.get("answer_mode") or "extractive": {"model": "—", "summary": report["summary"], "fallbacks": None}}
    blank = ["—"] * (len(RECALL_KS) + 1)
    for mode, a in answer_modes.items():
        s = a["summary"]
        fallbacks = "—" if a.get("fallbacks") is None else f"{a['fallbacks']} ({pct(a.get('fallback_share'))})"
        rows.append([mode, "answer", a["model"], str(s["n"]), pct(s["accuracy"]), pct(s["cited_accuracy"]),
                     pct(s.get("answered_wrong_rate")), pct(s["false_refusals"]["rate"]), *blank,
                     ms(s["latency_ms"]["p50"]), ms(s["latency_ms"]["p95"]), fallbacks])
    for mode, r in report["retrieval"].items():
        lat = r.get("latency_ms") or {}
        mrr = "—" if r["mrr"] is None else f"{r['mrr']:.3f}"
        rows.append([mode, "retrieval", "—", str(r["n"]), "—", "—", "—", "—",
                     *[pct(r[f"recall@{k}"]) for k in RECALL_KS], mrr, ms(lat.get("p50")), ms(lat.get("p95")), "—"])
    return rows


def answer_mode_lines(answer_modes: dict) -> list[str]:
    """Why answers fell back, and which items each mode got wrong."""
    lines = []
    for mode, a in answer_modes.items():
        if a["fallback_reasons"]:
            why = "; ".join(f"{k} ×{v}" for k, v in a["fallback_reasons"].items())
            lines.append(f"{mode} fallbacks: {why}")
        lines.append(f"{mode} wrong ({len(a['wrong'])}): {', '.join(a['wrong']) or '-'}")
    return lines


def item_record(item: dict, result: dict, retrieved: dict[str, dict]) -> dict:
    """One item's verdict with enough context to debug it without re-running."""
    answerable = not is_unanswerable(item)
    ranks = {m: first_hit_rank(item, spans.get(item["id"], ())) for m, spans in retrieved.items()}
    return {
        "id": item["id"],
        "question": item["question"],
        "kind": item["kind"],
        "lang": item["lang"],
        "expected": item["answer"],
        "must_include": item["must_include"],
        "evidence": [f"{ev['file']}:{ev['line']}" for ev in item["evidence"]],
        "correct": item_correct(item, result),
        "cited": item_cited(item, result),
        "answered_wrong": answered_wrong(item, result),
        "evidence_cited": evidence_cited(item, result) if answerable else None,
        "missing": missing_groups(item, result) if answerable else [],
        "first_hit_rank": ranks if answerable else {},
        "result": result,
    }


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def ms(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f} ms"


def accuracy_rows(summary: dict) -> list[list[str]]:
    """Overall, by kind and by lang, as table rows."""
    groups = [("overall", summary)]
    for key, label in (("by_kind", "kind"), ("by_lang", "lang")):
        groups += [(f"{label} {name}", g) for name, g in summary[key].items()]
    return [
        [name, str(g["n"]), str(g["correct"]), pct(g["accuracy"]), pct(g["cited_accuracy"]),
         pct(g.get("answered_wrong_rate"))]
        for name, g in groups
    ]


ACCURACY_HEAD = ["", "n", "correct", "accuracy", "cited", "answered wrong"]


def refusal_line(summary: dict) -> str:
    u, f = summary["unanswerable"], summary["false_refusals"]
    return (
        f"answered wrong {summary.get('answered_wrong', 0)}/{summary['n']} "
        f"({pct(summary.get('answered_wrong_rate'))}); "
        f"unanswerable refused {u['refused']}/{u['n']} ({pct(u['refusal_rate'])}); "
        f"false refusals {f['count']}/{f['n']} ({pct(f['rate'])}); errors {summary['errors']}"
    )


def check_lines(report: dict) -> list[str]:
    """What the checker skipped (only with --force): a score over fewer items must say so."""
    return [f"Skipped (failed the check): {c['name']} line {p['line']}: {p['message']}"
            for c in report.get("check", []) for p in c["problems"]]


def latency_line(summary: dict) -> str:
    lat = summary["latency_ms"]
    return f"p50 {ms(lat['p50'])}, p95 {ms(lat['p95'])}, max {ms(lat['max'])}"


def text_table(head: list[str], rows: Iterable[list[str]]) -> str:
    """Space-aligned columns: first left, the rest right-aligned (numbers)."""
    rows = [head, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for row in rows:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def md_table(head: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def one_line(text: str, limit: int = ANSWER_PREVIEW_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cited_locations(result: dict) -> str:
    cites = result.get("citations") or []
    spans = [f"{c.get('file')}:{c.get('line_start')}-{c.get('line_end')}" for c in cites]
    return ", ".join(spans) or "(none)"


def failure_lines(rec: dict) -> list[str]:
    """The facts about one wrong answer, one per line, shared by text and Markdown."""
    res = rec["result"]
    lines = [
        f"expected: {one_line(rec['expected'])}",
        f"must_include: {json.dumps(rec['must_include'], ensure_ascii=False)}",
    ]
    if rec["missing"]:
        lines.append(f"missing: {json.dumps(rec['missing'], ensure_ascii=False)}")
    lines += [
        f"answered [{res.get('status')}]: {one_line(res.get('answer', ''))}",
        f"cited: {cited_locations(res)}; evidence: {', '.join(rec['evidence']) or '(none)'}",
    ]
    if rec["first_hit_rank"]:
        ranks = ", ".join(f"{m} {r if r is not None else '>10'}" for m, r in rec["first_hit_rank"].items())
        lines.append(f"evidence rank in retrieval: {ranks}")
    return lines


def uncited_line(rec: dict) -> str:
    return f"{rec['id']}: cited {cited_locations(rec['result'])}; evidence {', '.join(rec['evidence'])}"


def failures(report: dict) -> list[dict]:
    return [r for r in report["items"] if not r["correct"]]


def uncited(report: dict) -> list[dict]:
    return [r for r in report["items"] if r["correct"] and not r["cited"]]


def format_text(report: dict) -> str:
    """The console report."""
    s = report["summary"]
    out = [
        f"Eval: {', '.join(report['sets'])} ({s['n']} items)",
        "",
        text_table(ACCURACY_HEAD, accuracy_rows(s)),
        "",
        f"Refusals: {refusal_line(s)}",
        f"Latency:  {latency_line(s)}",
        *check_lines(report),
        "",
        "Modes side by side (answer modes: accuracy, the first is scored above and gated on; retrieval modes: "
        "evidence among top k):",
        text_table(MODES_HEAD, modes_rows(report)),
        *answer_mode_lines(report.get("answer_modes") or {}),
        "",
        f"Failures ({len(failures(report))}):",
    ]
    for rec in failures(report):
        out.append(f"- {rec['id']} ({rec['kind']}, {rec['lang']}): {one_line(rec['question'])}")
        out += [f"    {line}" for line in failure_lines(rec)]
    out += ["", f"Correct but evidence not cited ({len(uncited(report))}):"]
    out += [f"- {uncited_line(rec)}" for rec in uncited(report)]
    return "\n".join(out)


def format_markdown(report: dict) -> str:
    """The same report for a PR comment or a file in evals/reports/."""
    s = report["summary"]
    out = [
        "# baocao eval",
        "",
        f"Sets: {', '.join(f'`{p}`' for p in report['sets'])} — {s['n']} items — {report['generated_at']}",
        "",
        md_table(["group", *ACCURACY_HEAD[1:]], accuracy_rows(s)),
        "",
        f"**Refusals:** {refusal_line(s)}  ",
        f"**Latency:** {latency_line(s)}",
        "",
        *[f"- {line}" for line in check_lines(report)],
        "## Modes side by side (answer: accuracy; retrieval: evidence among top k)",
        "",
        md_table(MODES_HEAD, modes_rows(report)),
        "",
        *[f"- {line}" for line in answer_mode_lines(report.get("answer_modes") or {})],
        "",
        f"## Failures ({len(failures(report))})",
        "",
    ]
    for rec in failures(report):
        out.append(f"### `{rec['id']}` ({rec['kind']}, {rec['lang']})")
        out.append(f"> {one_line(rec['question'])}\n")
        out += [f"- {line}" for line in failure_lines(rec)]
        out.append("")
    out += [f"## Correct but evidence not cited ({len(uncited(report))})", ""]
    out += [f"- {uncited_line(rec)}" for rec in uncited(report)]
    return "\n".join(out) + "\n"


CSV_HEAD = ["id", "kind", "lang", "question", "correct", "cited", "answered_wrong", "status", "answer",
            "expected", "must_include", "missing", "cited_passages", "evidence", "latency_ms"]


def format_csv(report: dict) -> str:
    """One row per item, for a spreadsheet: verdicts, our answer, what was expected and cited."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEAD)
    for rec in report["items"]:
        res = rec["result"]
        writer.writerow([rec["id"], rec["kind"], rec["lang"], rec["question"], rec["correct"], rec["cited"],
                         rec.get("answered_wrong"), res.get("status"), res.get("answer", ""), rec["expected"],
                         json.dumps(rec["must_include"], ensure_ascii=False),
                         json.dumps(rec["missing"], ensure_ascii=False), cited_locations(res),
                         " ".join(rec["evidence"]), res.get("latency_ms")])
    return buf.getvalue()


def format_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def write_reports(report: dict, json_out: Path | None, md_out: Path | None, csv_out: Path | None = None) -> None:
    """Write whichever reports were asked for, creating their directories."""
    for out, fmt in ((json_out, format_json), (md_out, format_markdown), (csv_out, format_csv)):
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(fmt(report), encoding="utf-8", newline="")
