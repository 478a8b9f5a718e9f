"""HTML and tables for the Evals tab: the check report, failures with their sources, run history.

Everything from an eval file (questions, answers, ids, file names) is user text and goes
through ``esc``; cited passages reuse the chat's source cards (``ui.render.source_card``), so a
failure shows exactly what a chat user would have seen as proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from assistant.schema import Citation
from evals.check import CheckReport
from evals.history import compare, moved_items, score_rows, set_hash
from evals.runner import accuracy_rows, failures, pct
from ui.render import esc, notice, source_card

OUTCOMES = ["correct", "answered wrong", "refused or error"]
OUTCOME_COLORS = {"correct": "#059669", "answered wrong": "#dc2626", "refused or error": "#94a3b8"}
OPEN_FAILURES = 10  # failure cards shown expanded; the rest open on a click (a long set stays scrollable)
SCORE_COLUMNS = ["group", "n", "correct", "accuracy", "cited", "answered wrong"]


# --- check ---------------------------------------------------------------------------------


def check_html(report: CheckReport | None) -> str:
    """The checker's verdict: a green line, or a red one with a table of problems by line number."""
    if report is None:
        return ""
    if report.ok:  # the content hash ties the file to its runs in the history below
        return notice(f"{report.summary()} (content hash {set_hash(report.items)[:8]})", "ok")
    rows = "".join(f"<tr><td>{p.line or '—'}</td><td>{esc(p.item_id or '')}</td><td>{esc(p.message)}</td></tr>"
                   for p in report.problems)
    advice = ("Fix these lines and upload the file again, or tick “Skip lines that fail the check” to run the "
              "others." if report.items else "No line is usable.")
    return (f'<div class="eval-check">{notice(report.summary(), "error")}'
            f'<div class="eval-problems"><table><thead><tr><th>line</th><th>id</th><th>problem</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div><p class="muted">{esc(advice)}</p></div>')


# --- scores --------------------------------------------------------------------------------


def scores_frame(summary: dict | None) -> pd.DataFrame:
    if summary is None:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    return pd.DataFrame(accuracy_rows(summary), columns=SCORE_COLUMNS)


def outcome_frame(summary: dict | None) -> pd.DataFrame:
    """Per group (overall, each kind, each language): shares correct / answered wrong / refused, summing to 100.

    Before any run: one zero row per outcome, because the chart fixes its colour legend from the first
    value it is given; an empty first frame leaves later bars uncoloured.
    """
    if summary is None:
        rows = [["overall", outcome, 0.0] for outcome in OUTCOMES]
    else:
        rows = []
        groups = [("overall", summary), *[(f"kind {k}", g) for k, g in summary["by_kind"].items()],
                  *[(f"lang {k}", g) for k, g in summary["by_lang"].items()]]
        for name, g in groups:
            n = g["n"] or 1
            right, wrong = g["correct"], g.get("answered_wrong", 0)
            for outcome, count in zip(OUTCOMES, (right, wrong, g["n"] - right - wrong), strict=True):
                rows.append([name, outcome, round(100 * count / n, 1)])
    frame = pd.DataFrame(rows, columns=["group", "outcome", "percent"])
    return frame.astype({"group": str, "outcome": str, "percent": float})  # typed: a numeric axis


def legend_html() -> str:
    """The chart's colours, as HTML under it: the plot's own legend is cut off by its fixed height."""
    keys = "".join(f'<span><i style="background:{color}"></i>{esc(name)}</span>'
                   for name, color in OUTCOME_COLORS.items())
    return f'<div class="eval-legend">{keys}</div>'


def headline(report: dict, label: str, run_id: str = "") -> str:
    s = report["summary"]
    skipped = sum(len(c["problems"]) for c in report.get("check", []))
    note = f" — {skipped} line(s) skipped by the check" if skipped else ""
    return (f"**{esc(label)}: accuracy {pct(s['accuracy'])}** ({s['correct']}/{s['n']}), "
            f"cited {pct(s['cited_accuracy'])}, answered wrong {pct(s.get('answered_wrong_rate'))} "
            f"({s.get('answered_wrong', 0)}){note}  \nRun `{esc(run_id)}` on index "
            f"`{esc(report.get('index_generation'))}`, answer mode `{esc(report.get('answer_mode'))}`")


# --- failures ------------------------------------------------------------------------------


def failures_html(report: dict, reports_dir: Path) -> str:
    """Every wrong answer: the question, what was expected, what we answered and the passages we cited."""
    wrong = failures(report)
    if not wrong:
        return notice(f"No failures: all {report['summary']['n']} answers are correct.", "ok")
    cards = "".join(_failure_card(rec, reports_dir, i < OPEN_FAILURES) for i, rec in enumerate(wrong))
    return f'<div class="eval-failures"><h3>Failures ({len(wrong)})</h3>{cards}</div>'


def _failure_card(rec: dict, reports_dir: Path, expanded: bool = True) -> str:
    res = rec["result"]
    status = res.get("status") or "?"
    badge = "badge-error" if rec.get("answered_wrong") or status == "error" else "badge-muted"
    label = "answered wrong" if rec.get("answered_wrong") else status.replace("_", " ")
    groups = " ".join(f'<span class="fig{" fig-missing" if g in rec["missing"] else ""}">{esc(" / ".join(g))}'
                      "</span>" for g in rec["must_include"]) or '<span class="muted">a refusal (not_found)</span>'
    citations = [_citation(c) for c in res.get("citations") or []]
    sources = ("".join(source_card(reports_dir, c) for c in citations) if citations
               else '<p class="muted">No passage cited.</p>')
    evidence = ", ".join(rec["evidence"]) or "—"
    return (
        f'<details class="eval-fail" data-id="{esc(rec["id"])}"{" open" if expanded else ""}>'
        f'<summary><code>{esc(rec["id"])}</code> '
        f'<span class="pill">{esc(rec["kind"])}</span><span class="pill">{esc(rec["lang"])}</span> '
        f'<span class="badge {badge}">{esc(label)}</span></summary>'
        f'<div class="fail-q">{esc(rec["question"])}</div>'
        f'<dl class="fail-facts"><dt>Expected</dt><dd>{esc(rec["expected"])}</dd>'
        f'<dt>Must include</dt><dd>{groups}</dd>'
        f'<dt>Our answer</dt><dd class="fail-answer">{esc(res.get("answer", ""))}</dd>'
        f'<dt>Evidence</dt><dd><code>{esc(evidence)}</code></dd></dl>'
        f'<div class="fail-sources"><div class="muted">Passages we cited</div>{sources}</div></details>'
    )


def _citation(c: dict) -> Citation:
    """A citation from the JSON contract back into the record the source cards draw."""
    def as_int(v: object) -> int:
        try:
            return int(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return 0

    return Citation(n=as_int(c.get("n")), file=str(c.get("file") or ""), line_start=as_int(c.get("line_start")),
                    line_end=as_int(c.get("line_end")), section=str(c.get("section") or ""),
                    text=str(c.get("text") or ""), commune=str(c.get("commune") or ""), period=c.get("period"))


# --- history -------------------------------------------------------------------------------


def history_frame(runs: Sequence[dict]) -> pd.DataFrame:
    """The last runs of a set side by side: runs as columns, measures as rows."""
    if not runs:
        return pd.DataFrame(columns=["", "no runs yet"])
    head, rows = score_rows(runs)
    return pd.DataFrame(rows, columns=_unique(head))


def moved_html(runs: Sequence[dict]) -> str:
    """Since the previous run: which items went right → wrong and back; then every item that moved, run by run."""
    if len(runs) < 2:
        return '<p class="muted">Run the set again (after a change of reports, index or answer mode) to see which ' \
               "items moved.</p>"
    a, b = runs[-2], runs[-1]
    diff = compare(a, b)
    parts = [f'<p class="moved-since">Since run <code>{esc(a["run_id"])}</code>: '
             f'<span class="badge badge-error">{len(diff["broke"])} right → wrong</span> '
             f'<span class="badge badge-ok">{len(diff["fixed"])} wrong → right</span></p>']
    if not diff["same_set"]:
        parts.append('<p class="muted">The set\'s content changed between these runs (another content hash).</p>')
    ids = moved_items(runs)
    if not ids:
        parts.append('<p class="muted">No item changed its verdict across these runs.</p>')
        return '<div class="eval-moved">' + "".join(parts) + "</div>"
    head = "".join(f"<th>{esc(r['run_id'])}</th>" for r in runs)
    body = "".join(_moved_row(i, runs, diff) for i in ids)
    parts.append(f'<div class="moved-scroll"><table class="moved"><thead><tr><th>item</th>{head}</tr></thead>'
                 f"<tbody>{body}</tbody></table></div>")
    return '<div class="eval-moved">' + "".join(parts) + "</div>"


def _moved_row(item_id: str, runs: Sequence[dict], diff: dict) -> str:
    cells = []
    for r in runs:
        v = r["items"].get(item_id)
        cells.append('<td class="muted">—</td>' if v is None else
                     f'<td class="{"ok" if v["correct"] else "ko"}">{"✓" if v["correct"] else "✗"} '
                     f'<span class="muted">{esc(v.get("status"))}</span></td>')
    latest = next(r["items"][item_id] for r in reversed(runs) if item_id in r["items"])
    move = "broke" if item_id in diff["broke"] else "fixed" if item_id in diff["fixed"] else ""
    return (f'<tr class="{move}" data-id="{esc(item_id)}"><td><code>{esc(item_id)}</code>'
            f'<div class="muted">{esc(latest.get("question", ""))}</div></td>{"".join(cells)}</tr>')


def _unique(names: list[str]) -> list[str]:
    """Dataframe columns must differ; two runs in the same second would share a prefix, never an id."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out
