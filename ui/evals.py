"""The Evals tab: run the public eval set against the live Assistant and show what it got wrong."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from evals.runner import (
    ACCURACY_HEAD,
    DEFAULT_SET,
    accuracy_rows,
    build_report,
    format_markdown,
    latency_line,
    load_sets,
    pct,
    refusal_line,
    run_eval,
)
from evals.scoring import EvalSetError
from ui.render import safe_markdown_html
from ui.state import HOLDER

MODES = ["hybrid"]  # the recall table for the mode the app answers with; the CLI compares modes


def run_evals(progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple:  # noqa: B008 - Gradio's idiom
    """Score every item of evals/public.jsonl; the runner's tqdm bar drives the progress bar."""
    assistant = HOLDER.get()
    if assistant is None:
        return _empty(), HOLDER.busy_message, ""
    try:
        items = load_sets([DEFAULT_SET])
    except (EvalSetError, OSError) as exc:
        return _empty(), f"The eval set could not be read: {exc}", ""
    progress(0, desc=f"Asking {len(items)} questions…")
    report = build_report(run_eval(assistant, items, MODES), [DEFAULT_SET], MODES)
    s = report["summary"]
    headline = (f"**Accuracy {pct(s['accuracy'])}** ({s['correct']}/{s['n']}), cited {pct(s['cited_accuracy'])}  \n"
                f"Refusals: {refusal_line(s)}  \nLatency: {latency_line(s)}")
    table = pd.DataFrame(accuracy_rows(s), columns=["group", *ACCURACY_HEAD[1:]])
    return table, headline, safe_markdown_html(format_markdown(report))  # it quotes questions and reports


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["group", *ACCURACY_HEAD[1:]])


def build_evals_tab() -> None:
    """A button, the score table (overall, by kind, by language) and the full failure report."""
    gr.Markdown(f"Runs the {_count()} questions of `evals/public.jsonl` through the assistant (about a minute) "
                "and lists every wrong answer with what was expected and what was cited.")
    run = gr.Button("Run the eval set", variant="primary", elem_id="eval-btn")
    headline = gr.Markdown(elem_id="eval-headline")
    scores = gr.Dataframe(_empty(), label="Scores", interactive=False, elem_id="eval-scores")
    with gr.Accordion("Full report: failures and retrieval", open=False):
        report = gr.HTML(elem_id="eval-report")
    run.click(run_evals, None, [scores, headline, report], api_visibility="private")


def _count() -> int:
    try:
        return len(load_sets([DEFAULT_SET]))
    except (EvalSetError, OSError):
        return 0
