"""The Compare tab: every indicator two or more communes set, as a matrix of cited figures.

For the chosen period (2025-2030 targets, 2020-2025 results, the commune profile) each row is one
aligned indicator (``indicator_key``), each column a commune. A cell shows the figure as written
and its citation (file:lines); opening it shows the quoted line. A commune whose report does not
state the indicator shows "—" ("not in report"), never zero. Under the matrix: a bar chart of one
indicator, and the matrix as CSV / XLSX. All of it is computed when the page opens.

Report text is only ever inserted escaped (``ui.render.esc``): a report cannot add markup, links or
images to the page, so no URL written in a report is fetched by the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import pandas as pd

from ui.matrix import PERIODS, Row, chart_frame, chartable, empty_chart, export_files, matrix
from ui.render import esc
from ui.state import HOLDER

DEFAULT_PERIOD = "2025-2030"
MISSING = '<td class="mx-missing" title="not in report"><span aria-label="not in report">—</span></td>'


def period_rows(period: str) -> tuple[list[Row], list[str]]:
    """The matrix rows and the communes (columns) for ``period`` on the index as it is now."""
    assistant = HOLDER.get()
    if assistant is None:
        return [], []
    communes = assistant.registry.names()
    return matrix(assistant.facts(period=period), period, communes), communes


def cell_html(row: Row, commune: str) -> str:
    """One cell: the figure and file:lines; opening it shows the quote (escaped) and its section."""
    cell = row.cells.get(commune)
    if cell is None:
        return MISSING
    more = "".join(f'<li><span class="mx-also-fig">{esc(figure)}</span>{f" ({esc(unit)})" if unit else ""} '
                   f'<span class="mx-also-cite">{esc(cite)}</span></li>' for figure, unit, cite in cell.others)
    more = f'<div class="mx-more">Also in the report:<ul>{more}</ul></div>' if more else ""
    badge = f'<span class="mx-count" title="figures for it in the report">+{len(cell.others)}</span>' \
        if cell.others else ""
    return (f'<td class="mx-cell" data-commune="{esc(commune)}" data-cite="{esc(cell.citation)}" '
            f'title="{esc(cell.citation)}: {esc(cell.text)}"><details><summary>'
            f'<span class="mx-fig">{esc(cell.figure)}</span><span class="mx-cite">{esc(cell.citation)}{badge}</span>'
            f'</summary><blockquote class="mx-quote">{esc(cell.text)}</blockquote>'
            f'<div class="mx-sec">{esc(cell.section)}</div>{more}</details></td>')


def matrix_html(rows: list[Row], communes: list[str], period: str) -> str:
    """The matrix as an HTML table that scrolls sideways inside its box (the page itself never does)."""
    if not rows:
        return (f'<p class="muted" id="mx-empty">No indicator is stated by two or more communes for '
                f'{esc(PERIODS.get(period, period))}.</p>')
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in communes)
    body = "".join(
        f'<tr data-key="{esc(r.key)}"><th scope="row"><div class="mx-en">{esc(r.label)}</div>'
        f'<div class="mx-vi">{esc(r.indicator)}</div></th>{"".join(cell_html(r, c) for c in communes)}</tr>'
        for r in rows)
    return (f'<div class="mx-wrap"><table class="mx" data-period="{esc(period)}"><thead><tr>'
            f'<th scope="col">Indicator</th>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def summary_html(rows: list[Row], communes: list[str], period: str) -> str:
    cells = sum(r.present for r in rows)
    return (f'<p class="mx-summary"><strong>{len(rows)}</strong> indicators stated by two or more of '
            f'{len(communes)} communes ({esc(PERIODS.get(period, period))}); {cells} of {len(rows) * len(communes)} '
            f'cells filled. Open a cell for the quoted line; — means the report does not state it.</p>')


def chart_choices(rows: list[Row]) -> list[tuple[str, str]]:
    return [(f"{r.label} — {r.indicator}" if r.indicator else r.label, r.key) for r in chartable(rows)]


def default_chart_key(rows: list[Row]) -> str | None:
    """The indicator with figures in the most communes (the fullest chart); the matrix order on a tie."""
    charted = chartable(rows)
    return max(charted, key=lambda r: len(chart_frame(r)[0])).key if charted else None


def chart_for(rows: list[Row], key: str | None, period: str) -> tuple[pd.DataFrame, str]:
    """The bar chart's data for one indicator key, and a caption naming the unit."""
    row = next((r for r in rows if r.key == key), None)
    frame, unit = chart_frame(row)
    if row is None or frame.empty:
        return empty_chart(), '<p class="muted">Choose an indicator with figures in two or more communes.</p>'
    left_out = [c for c, cell in row.cells.items() if cell is None or cell.number is None or cell.unit != unit]
    note = f" Not shown: {esc(', '.join(left_out))} (not in report, or another unit)." if left_out else ""
    return frame, (f'<p class="mx-chart-note"><strong>{esc(row.label)}</strong> — {esc(PERIODS.get(period, period))}'
                   f', unit: <strong>{esc(unit or "as written")}</strong>.{note}</p>')


@dataclass(frozen=True)
class View:
    """What the tab shows for one period."""

    summary: str
    matrix: str
    choices: list[tuple[str, str]]
    key: str | None
    chart: pd.DataFrame
    chart_note: str
    csv: str | None
    xlsx: str | None


def compare_data(period: str | None, key: str | None = None) -> View:
    """Summary, matrix, chartable indicators, the chart of ``key`` (or the first), export files."""
    period = period if period in PERIODS else DEFAULT_PERIOD
    if HOLDER.get() is None:
        return View(f'<p class="muted">{esc(HOLDER.busy_message)}</p>', "", [], None, empty_chart(), "", None, None)
    rows, communes = period_rows(period)
    choices = chart_choices(rows)
    keys = [k for _, k in choices]
    key = key if key in keys else default_chart_key(rows)
    frame, note = chart_for(rows, key, period)
    csv_path, xlsx_path = export_files(rows, communes, period)
    return View(summary_html(rows, communes, period), matrix_html(rows, communes, period), choices, key, frame,
                note, str(csv_path), str(xlsx_path))


def compare_view(period: str | None) -> tuple:
    """The tab's outputs for a period (in ``build_compare_tab``'s ``outputs`` order)."""
    v = compare_data(period)
    return (v.summary, v.matrix, gr.Dropdown(choices=v.choices, value=v.key), v.chart, v.chart_note, v.csv, v.xlsx)


def refreshed_compare() -> tuple:
    """After a page load or a change of reports: the default period, recomputed, plus the period picker."""
    return (*compare_view(DEFAULT_PERIOD), gr.Radio(value=DEFAULT_PERIOD))


def chart_view(period: str, key: str | None) -> tuple[pd.DataFrame, str]:
    # A bare DataFrame: returning gr.BarPlot(...) as an update draws an empty chart in Gradio 6.31.
    rows, _ = period_rows(period if period in PERIODS else DEFAULT_PERIOD)
    return chart_for(rows, key, period)


def build_compare_tab() -> dict:
    """Lay out the tab, already filled for the default period (``refreshed_compare`` refills it on load)."""
    v = compare_data(DEFAULT_PERIOD)
    with gr.Row(elem_id="compare-controls"):
        period = gr.Radio([(label, p) for p, label in PERIODS.items()], value=DEFAULT_PERIOD, label="Period",
                          elem_id="compare-period", scale=3, min_width=260)
        csv = gr.DownloadButton("Download CSV", value=v.csv, elem_id="compare-csv", size="sm", scale=0,
                                min_width=140)
        xlsx = gr.DownloadButton("Download XLSX", value=v.xlsx, elem_id="compare-xlsx", size="sm", scale=0,
                                 min_width=140)
    summary = gr.HTML(v.summary, elem_id="compare-summary")
    table = gr.HTML(v.matrix, elem_id="compare-matrix")
    indicator = gr.Dropdown(v.choices, value=v.key, label="Bar chart of one indicator", elem_id="compare-indicator")
    note = gr.HTML(v.chart_note, elem_id="compare-chart-note")
    chart = gr.BarPlot(v.chart, x="commune", y="value", label="Figures by commune",
                       height=320, y_lim=[0, None], x_title="", y_title="figure", x_label_angle=-30,
                       elem_id="compare-chart")
    outputs = [summary, table, indicator, chart, note, csv, xlsx]
    # .input, not .change: a refresh that sets these from the server must not fire them again.
    period.input(compare_view, [period], outputs, api_visibility="private")
    indicator.input(chart_view, [period, indicator], [chart, note], api_visibility="private")
    return {"outputs": [*outputs, period]}
