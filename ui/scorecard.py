"""The Scorecard tab: one commune's 2020-2025 targets with plan, result, % of plan and assessment.

Only what the report states: the assessment (đạt / vượt / chưa đạt / không đạt) and the % of
plan are the report's own words, never computed here, so a target the report does not assess
counts as "not assessed". Every row cites its file:lines; report text is inserted escaped.
"""

from __future__ import annotations

import gradio as gr

from ui.matrix import ScoreRow, score_counts, scorecard
from ui.render import esc
from ui.state import HOLDER

BADGE = {"met": "sc-met", "not met": "sc-not-met", None: "sc-none"}
SHOW = {"all": "All", "met": "Met", "not met": "Not met", "not assessed": "Not assessed"}


def scorecard_html(commune: str | None, show: str = "all") -> str:
    """The counts (always of all targets), then one row per assessed or planned 2020-2025 target shown."""
    assistant = HOLDER.get()
    if assistant is None:
        return f'<p class="muted">{esc(HOLDER.busy_message)}</p>'
    if not commune:
        return '<p class="muted">Choose a commune.</p>'
    rows = scorecard(assistant.facts(period="2020-2025", commune=commune), commune)
    if not rows:
        return (f'<p class="muted" id="sc-empty">The report of {esc(commune)} states no 2020-2025 target with a plan '
                f"or an assessment.</p>")
    counts = score_counts(rows)
    head = (f'<div class="sc-counts" data-commune="{esc(commune)}">'
            f'<span><strong>{esc(commune)}</strong>, 2020-2025:</span> '
            f'<span class="badge sc-met">{counts["met"]} met</span> '
            f'<span class="badge sc-not-met">{counts["not met"]} not met</span> '
            f'<span class="badge sc-none">{counts["not assessed"]} not assessed in the report</span></div>')
    shown = [r for r in rows if show not in SHOW or show == "all" or (r.status or "not assessed") == show]
    body = "".join(_grouped(shown)) or f'<tr><td colspan="6" class="muted">No target is {esc(show)}.</td></tr>'
    return (f'{head}<div class="mx-wrap"><table class="mx sc"><thead><tr><th scope="col">Target</th>'
            '<th scope="col">Plan</th><th scope="col">Result</th><th scope="col">% of plan</th>'
            f'<th scope="col">Assessment</th><th scope="col">Source</th></tr></thead><tbody>{body}</tbody></table>'
            "</div>")


def _grouped(rows: list[ScoreRow]) -> list[str]:
    """The rows, with a heading row wherever the report moves to another former commune (or back)."""
    out, unit = [], None
    for r in rows:
        if r.unit != unit and (r.unit or unit is not None):
            label = f"{r.unit} (former commune)" if r.unit else "Whole commune"
            out.append(f'<tr class="sc-group"><th colspan="6" scope="rowgroup">{esc(label)}</th></tr>')
        unit = r.unit
        out.append(_row(r))
    return out


def _row(r: ScoreRow) -> str:
    assessed = (f'<span class="badge {BADGE[r.status]}">{esc(r.assessment)}</span>' if r.assessment
                else '<span class="muted" title="the report does not say">—</span>')
    name = (f'<div class="mx-en">{esc(r.label)}</div><div class="mx-vi">{esc(r.indicator)}</div>' if r.label
            else f'<div class="mx-en">{esc(r.indicator)}</div>')  # no English name: the report's words
    return (f'<tr data-status="{esc(r.status or "")}"><th scope="row">{name}</th>'
            f'<td data-label="Plan">{esc(r.plan) or _dash()}</td><td data-label="Result">{esc(r.result)}</td>'
            f'<td data-label="% of plan">{esc(r.ratio) or _dash()}</td><td data-label="Assessment">{assessed}</td>'
            f'<td class="mx-cell" data-label="Source" title="{esc(r.citation)}: {esc(r.text)}"><details><summary>'
            f'<span class="mx-cite">{esc(r.citation)}</span></summary>'
            f'<blockquote class="mx-quote">{esc(r.text)}</blockquote></details></td></tr>')


def _dash() -> str:
    return '<span class="muted" title="not in report">—</span>'


def _communes() -> list[str]:
    assistant = HOLDER.get()
    return assistant.registry.names() if assistant else []


def refreshed_scorecard() -> tuple:
    """After a page load or a change of reports: the communes, the first one chosen, all its targets."""
    names = _communes()
    first = names[0] if names else None
    return gr.Dropdown(choices=names, value=first), gr.Radio(value="all"), scorecard_html(first)


def build_scorecard_tab() -> dict:
    """Lay out the tab, filled for the first commune (``refreshed_scorecard`` refills it on load)."""
    names = _communes()
    gr.HTML('<p class="muted">The 2020-2025 targets of one commune as its report assesses them: plan, result, '
            "% of plan and đạt / vượt / chưa đạt. Open a source for the quoted line.</p>")
    with gr.Row(elem_id="scorecard-controls"):
        commune = gr.Dropdown(names, value=names[0] if names else None, label="Commune", elem_id="scorecard-commune",
                              scale=2, min_width=200)
        show = gr.Radio([(label, key) for key, label in SHOW.items()], value="all", label="Show",
                        elem_id="scorecard-show", scale=3, min_width=260)
    card = gr.HTML(scorecard_html(names[0] if names else None), elem_id="scorecard")
    commune.input(scorecard_html, [commune, show], card, api_visibility="private")
    show.input(scorecard_html, [commune, show], card, api_visibility="private")
    return {"outputs": [commune, show, card]}
