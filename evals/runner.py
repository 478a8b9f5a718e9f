"""``baocao eval``: run the eval set through the assistant and report what it got wrong.

The report is meant to be read by a person fixing the answerer, so every failure is listed
with what was expected, what was answered and what was cited, next to the aggregate numbers
CI gates on (``--min-accuracy``).
"""

from __future__ import annotations

import argparse
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

from baocao.config import PROJECT_ROOT
from evals.scoring import (
    EvalSetError,
    evidence_cited,
    first_hit_rank,
    is_unanswerable,
    item_cited,
    item_correct,
    load_eval_set,
    missing_groups,
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


def run_eval_command(args: argparse.Namespace) -> int:
    """Entry point of ``baocao eval``: 0 ok, 1 below --min-accuracy, 2 unusable input."""
    try:
        modes = parse_modes(args.mode)
        sets = [resolve_set_path(p) for p in (args.sets or [DEFAULT_SET])]
        items = load_sets(sets)
    except (EvalSetError, ValueError, OSError) as exc:
        print(f"baocao eval: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "cv", False):
        return run_cv(items, args)
    answer_modes = [m for m in modes if m in ANSWER_MODES]
    modes = [m for m in modes if m in MODES] or ["hybrid"]
    run = run_eval(open_assistant(), items, modes, answer_modes)
    report = build_report(run, sets, modes)
    print(format_text(report))
    write_reports(report, getattr(args, "json_out", None), getattr(args, "md_out", None))
    return exit_code(report["summary"], args.min_accuracy)


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


def load_sets(paths: Sequence[Path]) -> list[dict]:
    """All items of all sets; ids must stay unique across sets so results can be keyed by id."""
    items: list[dict] = []
    seen: dict[str, Path] = {}
    for path in paths:
        for item in load_eval_set(path):
            if item["id"] in seen:
                raise EvalSetError(f"{path}: id {item['id']!r} already used in {seen[item['id']]}")
            seen[item["id"]] = path
            items.append(item)
    if not items:
        raise EvalSetError(f"no items in {', '.join(map(str, paths))}")
    return items


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
    run = EvalRun(items=items, results=[])
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
            run.retrieved[mode] = {}
            for item in answerable:
                run.retrieved[mode][item["id"]] = retrieve_spans(assistant, item, mode)
                bar.update()
    return run


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


def build_report(run: EvalRun, sets: Sequence[Path], modes: Sequence[str]) -> dict:
    """Everything the text, JSON and Markdown outputs show, as one JSON-able dict."""
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sets": [str(p) for p in sets],
        "modes": list(modes),
        "summary": summarize(run.items, run.results),
        "retrieval": {m: retrieval_recall(run.items, run.retrieved.get(m, {}), RECALL_KS) for m in modes},
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


ANSWER_MODE_HEAD = ["answer mode", "model", "n", "accuracy", "cited", "unans. refused", "false refusals",
                    "p50", "p95", "LLM answers", "fallbacks"]


def answer_mode_rows(answer_modes: dict) -> list[list[str]]:
    rows = []
    for mode, a in answer_modes.items():
        s = a["summary"]
        rows.append([mode, a["model"], str(s["n"]), pct(s["accuracy"]), pct(s["cited_accuracy"]),
                     pct(s["unanswerable"]["refusal_rate"]), pct(s["false_refusals"]["rate"]),
                     ms(s["latency_ms"]["p50"]), ms(s["latency_ms"]["p95"]), str(a["llm_answers"]),
                     f"{a['fallbacks']} ({pct(a['fallback_share'])})"])
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
        [name, str(g["n"]), str(g["correct"]), pct(g["accuracy"]), pct(g["cited_accuracy"])]
        for name, g in groups
    ]


ACCURACY_HEAD = ["", "n", "correct", "accuracy", "cited"]
RECALL_HEAD = ["mode", "n", *[f"R@{k}" for k in RECALL_KS], "MRR"]


def recall_rows(retrieval: dict) -> list[list[str]]:
    rows = []
    for mode, r in retrieval.items():
        mrr = "—" if r["mrr"] is None else f"{r['mrr']:.3f}"
        rows.append([mode, str(r["n"]), *[pct(r[f"recall@{k}"]) for k in RECALL_KS], mrr])
    return rows


def refusal_line(summary: dict) -> str:
    u, f = summary["unanswerable"], summary["false_refusals"]
    return (
        f"unanswerable refused {u['refused']}/{u['n']} ({pct(u['refusal_rate'])}); "
        f"false refusals {f['count']}/{f['n']} ({pct(f['rate'])}); errors {summary['errors']}"
    )


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
        "",
    ]
    if report.get("answer_modes"):
        out += ["Answer modes, side by side (the first one is scored above and gated on):",
                text_table(ANSWER_MODE_HEAD, answer_mode_rows(report["answer_modes"])),
                *answer_mode_lines(report["answer_modes"]), ""]
    out += [
        "Retrieval (evidence among top k, answerable items):",
        text_table(RECALL_HEAD, recall_rows(report["retrieval"])),
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
    ]
    if report.get("answer_modes"):
        out += ["## Answer modes, side by side", "",
                md_table(ANSWER_MODE_HEAD, answer_mode_rows(report["answer_modes"])), "",
                *[f"- {line}" for line in answer_mode_lines(report["answer_modes"])], ""]
    out += [
        "## Retrieval (evidence among top k)",
        "",
        md_table(RECALL_HEAD, recall_rows(report["retrieval"])),
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


def write_reports(report: dict, json_out: Path | None, md_out: Path | None) -> None:
    """Write whichever reports were asked for, creating their directories."""
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if md_out:
        md_out.parent.mkdir(parents=True, exist_ok=True)
        md_out.write_text(format_markdown(report), encoding="utf-8")
