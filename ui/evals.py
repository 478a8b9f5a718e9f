"""The Evals tab: choose or upload an eval set, check it, run it, read the failures, see what moved.

A researcher's loop, in the app alone: upload a JSONL set (``evals/FORMAT.md``), which is
checked at once (``evals.check``: quotes at their lines, figures in the reference answer);
run it with a progress bar; read every failure with the passages cited; download the report;
change something (a report, the index, the answer mode) and run again to see which items moved.
Every run is appended to the run history in the data directory (``evals.history``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from baocao.config import PROJECT_ROOT
from evals.check import CheckReport, check_file
from evals.history import load_runs, runs_of_set
from evals.runner import DEFAULT_SET, build_report, format_csv, format_json, format_markdown, record_runs, run_eval
from ui.eval_views import (
    OUTCOME_COLORS,
    check_html,
    failures_html,
    headline,
    history_frame,
    legend_html,
    moved_html,
    outcome_frame,
    scores_frame,
)
from ui.render import notice
from ui.state import HOLDER

EVALS_DIR = PROJECT_ROOT / "evals"
UPLOADED = "Uploaded: "
MODES = ["hybrid"]  # the recall table for the mode the app answers with; the CLI compares modes
HISTORY_RUNS = 5  # runs of a set shown side by side


def shipped_sets() -> list[Path]:
    """Every eval set that ships with the project (public, dev, extra, …)."""
    return sorted(EVALS_DIR.glob("*.jsonl"))


def set_choices(uploaded: dict | None) -> list[str]:
    names = [p.name for p in shipped_sets()]
    return names + ([UPLOADED + uploaded["name"]] if uploaded else [])


def resolve_choice(choice: str | None, uploaded: dict | None) -> tuple[Path, str] | None:
    """The file and history label of a dropdown choice; only listed files, so no path can be injected."""
    if choice and uploaded and choice == UPLOADED + uploaded["name"]:
        return Path(uploaded["path"]), uploaded["name"]
    for path in shipped_sets():
        if path.name == choice:
            return path, path.name
    return None


def check_choice(choice: str | None, uploaded: dict | None) -> CheckReport | None:
    target = resolve_choice(choice, uploaded)
    if target is None:
        return None
    return check_file(target[0], HOLDER.settings.reports_dir, name=target[1])


# --- handlers ------------------------------------------------------------------------------


def on_upload(path: str | None) -> tuple:
    """Check an uploaded set at once and make it the chosen set (even when it fails: the report says why)."""
    if not path:
        return None, gr.Dropdown(choices=set_choices(None)), "", None, *history_outputs(None)
    name = Path(path).name
    uploaded = {"path": path, "name": name}
    report = check_file(Path(path), HOLDER.settings.reports_dir, name=name)
    choice = UPLOADED + name
    # the upload box is emptied so a corrected file can be dropped in next; the set stays chosen
    return (uploaded, gr.Dropdown(choices=set_choices(uploaded), value=choice), check_html(report), None,
            *history_outputs(name))


def on_choose(choice: str | None, uploaded: dict | None) -> tuple:
    """A newly chosen set: its check and its run history."""
    target = resolve_choice(choice, uploaded)
    return check_html(check_choice(choice, uploaded)), *history_outputs(target[1] if target else None)


def history_outputs(label: str | None) -> tuple:
    runs = runs_of_set(load_runs(HOLDER.settings.eval_history_path), label, HISTORY_RUNS) if label else []
    return history_frame(runs), moved_html(runs) if runs else ""


def run_set(choice: str | None, uploaded: dict | None, force: bool,
            progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple:  # noqa: B008 - Gradio's idiom
    """Check, then run the chosen set; the runner's tqdm bar drives the progress bar."""
    assistant = HOLDER.get()
    target = resolve_choice(choice, uploaded)
    if assistant is None or target is None:
        return _not_run(HOLDER.busy_message if assistant is None else "Choose an eval set or upload one.")
    path, label = target
    check = check_file(path, HOLDER.settings.reports_dir, name=label)
    if not check.items or (check.problems and not force):
        return _not_run("Not run: the set fails the check (see above).", check)
    progress(0, desc=f"Asking {len(check.items)} questions…")
    run = run_eval(assistant, check.items, MODES)
    report = build_report(run, [label], MODES, [check])
    records = record_runs(run, report, HOLDER.settings.eval_history_path)
    run_id = records[0]["run_id"] if records else "not recorded"
    downloads = write_downloads(report, label, run_id)
    s = report["summary"]
    return (headline(report, label, run_id), scores_frame(s), outcome_frame(s),
            failures_html(report, HOLDER.settings.reports_dir), *downloads, check_html(check),
            *history_outputs(label))


def _not_run(message: str, check: CheckReport | None = None) -> tuple:
    hidden = [gr.DownloadButton(visible=False)] * 3
    return (notice(message, "error"), scores_frame(None), outcome_frame(None), "", *hidden,
            check_html(check) if check else gr.skip(), gr.skip(), gr.skip())


def write_downloads(report: dict, label: str, run_id: str) -> list:
    """The report as Markdown, JSON and CSV files for the download buttons."""
    folder = Path(tempfile.mkdtemp(prefix="baocao-eval-"))
    stem = f"eval-{Path(label).stem}-{run_id}"
    buttons = []
    for ext, fmt, text in (("md", format_markdown, "Markdown"), ("json", format_json, "JSON"),
                           ("csv", format_csv, "CSV")):
        path = folder / f"{stem}.{ext}"
        path.write_text(fmt(report), encoding="utf-8", newline="")
        buttons.append(gr.DownloadButton(f"Download {text}", value=str(path), visible=True))
    return buttons


# --- layout --------------------------------------------------------------------------------


def build_evals_tab() -> None:
    """Set picker and upload, the check, run, scores (table and chart), downloads, failures, history."""
    uploaded = gr.State(None)
    names = [p.name for p in shipped_sets()]
    first = DEFAULT_SET.name if DEFAULT_SET.name in names else (names[0] if names else None)
    gr.Markdown("Score the assistant on an eval set: a shipped one, or your own JSONL file in the "
                "`evals/FORMAT.md` format. Its evidence quotes must stand in a report of the Documents tab (add "
                "your report there first). Every run is kept in the history at the bottom.", elem_id="eval-intro")
    with gr.Row(elem_id="eval-pick"):  # choose or upload, see the check, then run (the order on a phone too)
        with gr.Column(min_width=260):
            choice = gr.Dropdown(set_choices(None), value=first, label="Eval set", elem_id="eval-set")
        with gr.Column(min_width=260):
            upload = gr.File(label="Or upload your own (.jsonl)", file_count="single", type="filepath",
                             file_types=[".jsonl", ".json", ".txt"], height=170, elem_id="eval-upload")
    check = gr.HTML(check_html(check_choice(first, None)), elem_id="eval-check")
    with gr.Row(elem_id="eval-run-row"):
        force = gr.Checkbox(label="Skip lines that fail the check", value=False, elem_id="eval-force")
        run = gr.Button("Run the eval set", variant="primary", elem_id="eval-btn")
    head = gr.Markdown(elem_id="eval-headline")
    with gr.Row(elem_id="eval-results"):
        with gr.Column(min_width=300):
            scores = gr.Dataframe(scores_frame(None), label="Scores by kind and language", interactive=False,
                                  elem_id="eval-scores")
        with gr.Column(min_width=300):
            chart = gr.BarPlot(outcome_frame(None), x="group", y="percent", color="outcome",
                               color_map=OUTCOME_COLORS, y_lim=[0, 100], x_title=" ", y_title="% of items",
                               x_label_angle=-40, height=360, label="Outcome by group", sort=None,
                               elem_id="eval-chart")
            gr.HTML(legend_html(), elem_id="eval-legend")
    with gr.Row(elem_id="eval-downloads"):
        dl_md, dl_json, dl_csv = (gr.DownloadButton(f"Download {t}", visible=False, size="sm",
                                                    elem_id=f"eval-dl-{t.lower()}")
                                  for t in ("Markdown", "JSON", "CSV"))
    failures = gr.HTML(elem_id="eval-failures")
    gr.Markdown("#### Run history of this set", elem_id="eval-history-title")
    history = gr.Dataframe(*history_outputs(first)[:1], label="Last runs side by side", interactive=False,
                           wrap=True, elem_id="eval-history")
    moved = gr.HTML(history_outputs(first)[1], elem_id="eval-moved")

    history_out = [history, moved]
    upload.upload(on_upload, upload, [uploaded, choice, check, upload, *history_out], api_visibility="private")
    choice.input(on_choose, [choice, uploaded], [check, *history_out], api_visibility="private")
    run.click(run_set, [choice, uploaded, force],
              [head, scores, chart, failures, dl_md, dl_json, dl_csv, check, *history_out],
              api_visibility="private")
