"""The Documents tab: which reports are indexed, add one, remove one.

An upload is validated by ``import_report`` (which slugifies the name into the reports folder)
before anything is written; a refused file leaves the reports and the index untouched. After a
change the index is rebuilt incrementally and a fresh Assistant is swapped in for every user.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import gradio as gr
import pandas as pd
from gradio.utils import get_upload_folder

from index.build import build_index
from index.communes import clean_commune_name, save_user_commune
from index.loaders import ORIGINALS_DIR, ReportError, import_report, list_reports
from ui.compare import refreshed_compare
from ui.render import notice
from ui.scorecard import refreshed_scorecard
from ui.state import HOLDER

COLUMNS = ["commune", "district", "province", "file", "versions", "passages", "targets", "former units",
           "last indexed"]


def documents_frame() -> pd.DataFrame:
    """The indexed reports as a table (empty while the index loads); a commune with several files is marked."""
    assistant = HOLDER.get()
    docs = assistant.documents() if assistant else []
    versions = assistant.versions if assistant else {}
    rows = [[d["commune"], d.get("district", ""), d.get("province", ""), d["file"],
             version_mark(d["file"], versions.get(d["commune"], [])), d["passages"], d["targets"],
             d["former_units"], d["indexed"]] for d in docs]
    return pd.DataFrame(rows, columns=COLUMNS)


def version_mark(file: str, files: list[str]) -> str:
    """"⚠ 2 versions (also: x.txt); keep one" for a commune with several reports, else "" (one version)."""
    if len(files) < 2:
        return ""
    others = ", ".join(f for f in files if f != file)
    return f"⚠ {len(files)} versions (also: {others}); keep one"


def conflict_of(file: str) -> list[str]:
    """The other report files of ``file``'s commune (a revised copy beside the original), if any."""
    assistant = HOLDER.get()
    if assistant is None:
        return []
    return next((f for f in assistant.versions.values() if file in f), [])


def report_files() -> list[str]:
    return [p.name for p in list_reports(HOLDER.settings.reports_dir)]


def communes() -> list[str]:
    assistant = HOLDER.get()
    return assistant.registry.names() if assistant else []


def _rebuild(progress: gr.Progress) -> str:
    """Bring the index up to date and swap in a new Assistant; returns the build summary line."""
    def report(stage: str, done: int, total: int) -> None:
        progress((done, total), desc=f"Indexing: {stage}", unit="passages")

    progress(0, desc="Reading and splitting the reports…")
    summary = build_index(HOLDER.settings, progress=report)
    progress(1, desc="Loading the new index…")
    HOLDER.reload()
    return summary.line()


def upload(path: str | None, commune: str | None = None,
           progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008 - Gradio's idiom
    """Validate, store and index one uploaded report; a bad file is refused with the reason.

    ``commune``: the commune the user typed (blank: read from the document's own text).
    Gradio's copy of the upload is deleted either way: the reports folder holds the only copy, so a
    removed report leaves nothing behind that ``/gradio_api/file=`` could still serve.
    """
    if not path:
        return _refresh(notice(""))
    try:
        return _import_and_index(Path(path), commune, progress)
    finally:
        _discard_upload(Path(path))


def _import_and_index(path: Path, commune: str | None, progress: gr.Progress) -> tuple:
    settings, name, notes = HOLDER.settings, path.name, []
    with HOLDER.write_lock:
        try:
            named = clean_commune_name(commune) if commune and commune.strip() else None
            stored = import_report(path, settings.reports_dir, original_name=name,
                                   max_bytes=settings.max_upload_bytes, notes=notes)
        except (ReportError, OSError, ValueError) as exc:
            gr.Warning(str(exc))
            return _refresh(notice(f"Not added: {exc}", "error"))
        try:
            save_user_commune(stored, named)
            line = _rebuild(progress)
        except Exception as exc:  # noqa: BLE001 - undo the import so the index stays as it was
            _delete_report(stored.name)
            print(f"indexing {stored.name} failed: {type(exc).__name__}", file=sys.stderr)
            return _refresh(notice(f"Not added: indexing {name} failed ({exc}).", "error"))
    others = [f for f in conflict_of(stored.name) if f != stored.name]
    if others:
        notes.append(f"its commune already has {', '.join(others)}: both are kept as versions and answers name "
                     "the file they quote; choose one below and press “Keep only this version”")
    extra = "".join(f" Note: {n}." for n in notes)
    return _refresh(notice(f"Added {name} as {stored.name}.{extra} Index: {line}", "ok"))


def _discard_upload(path: Path) -> None:
    """Delete Gradio's cached copy of an upload (and its per-upload folder when that is now empty).

    Only inside Gradio's upload folder: a path from anywhere else is the caller's file, not a cache.
    """
    cache = Path(get_upload_folder()).resolve()
    path = path.resolve()
    if path == cache or not path.is_relative_to(cache):
        return
    path.unlink(missing_ok=True)
    if path.parent != cache:
        with contextlib.suppress(OSError):
            path.parent.rmdir()


def keep_version(file: str | None, confirmed: bool, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
    """Resolve a conflict: keep ``file`` and remove the other reports of its commune, then re-index."""
    others = [f for f in conflict_of(file or "") if f != file]
    if not file or not others:
        return _refresh(notice("Choose a report whose commune has several versions (marked ⚠).", "error"))
    if not confirmed:
        return _refresh(notice(f"Tick “Yes, remove this report” to confirm removing {', '.join(others)}.",
                               "error"), keep=file)
    with HOLDER.write_lock:
        for other in others:
            _delete_report(other)
        try:
            line = _rebuild(progress)
        except Exception as exc:  # noqa: BLE001 - the previous index generation keeps answering
            print(f"re-indexing after keeping {file} failed: {type(exc).__name__}", file=sys.stderr)
            return _refresh(notice(f"Removed {', '.join(others)}, but re-indexing failed ({exc}).", "error"))
    return _refresh(notice(f"Kept {file}; removed {', '.join(others)}. Index: {line}", "ok"))


def remove(file: str | None, confirmed: bool, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
    """Delete one report file (only a listed one, so no path can escape the folder) and re-index."""
    if not file or file not in report_files():
        return _refresh(notice("Choose a report to remove.", "error"))
    if not confirmed:
        return _refresh(notice(f"Tick “Yes, remove this report” to confirm removing {file}.", "error"), keep=file)
    if len(report_files()) <= 1:
        return _refresh(notice("The last report cannot be removed: the assistant needs at least one.", "error"))
    with HOLDER.write_lock:
        _delete_report(file)
        try:
            line = _rebuild(progress)
        except Exception as exc:  # noqa: BLE001 - the previous index generation keeps answering
            print(f"re-indexing after removing {file} failed: {type(exc).__name__}", file=sys.stderr)
            return _refresh(notice(f"Removed {file}, but re-indexing failed ({exc}).", "error"))
    return _refresh(notice(f"Removed {file}. Index: {line}", "ok"))


def _delete_report(file: str) -> None:
    """Remove a report's .txt and, when it came from a PDF/DOCX, the kept original."""
    reports = HOLDER.settings.reports_dir
    (reports / file).unlink(missing_ok=True)
    for original in (reports / ORIGINALS_DIR).glob(f"{Path(file).stem}.*"):
        original.unlink(missing_ok=True)


def _refresh(message: str, keep: str | None = None) -> tuple:
    """Everything a change of reports touches: tables, pickers, the message; the upload box is cleared.

    ``keep``: the report still chosen for removal (when the user only has to tick the confirmation).
    """
    return (documents_frame(), message, None, gr.Dropdown(choices=report_files(), value=keep), False,
            *picker_updates())


def picker_updates() -> tuple:
    """New choices for the chat's commune filter, and the Compare and Scorecard tabs recomputed."""
    return gr.Dropdown(choices=["All", *communes()]), *refreshed_compare(), *refreshed_scorecard()


def build_documents_tab(pickers: list[gr.components.Component]) -> dict:
    """Lay out the documents tab; changes also refresh the pickers of the other tabs (``picker_updates``)."""
    table = gr.Dataframe(documents_frame(), label="Indexed reports", interactive=False, wrap=True,
                         column_widths=["120px", "100px", "100px", "170px", "170px", "90px", "80px", "260px",
                                        "170px"],
                         elem_id="documents-table")
    message = gr.HTML(elem_id="documents-message")
    with gr.Row(elem_id="documents-actions"):
        with gr.Column(min_width=280):
            gr.Markdown("#### Add a report\n.txt (UTF-8, UTF-16, Windows-1258, …), .pdf with a text layer, .docx or "
                        ".doc, up to "
                        f"{HOLDER.settings.max_upload_bytes // (1024 * 1024)} MB.")
            commune = gr.Textbox(label="Commune (optional)", placeholder="blank: read from the document",
                                 max_lines=1, elem_id="upload-commune")
            file = gr.File(label="Report file", file_count="single", type="filepath", elem_id="upload")
        with gr.Column(min_width=280):
            gr.Markdown("#### Remove a report\nDeletes the file from `data/reports/` and re-indexes. For a commune "
                        "with several versions (⚠), “Keep only this version” removes the others.")
            chosen = gr.Dropdown(report_files(), value=None, label="Report", elem_id="remove-file")
            confirm = gr.Checkbox(label="Yes, remove this report", value=False, elem_id="remove-confirm")
            with gr.Row():
                delete = gr.Button("Remove report", variant="stop", elem_id="remove-btn")
                keep = gr.Button("Keep only this version", variant="secondary", elem_id="keep-btn")
    outputs = [table, message, file, chosen, confirm, *pickers]
    file.upload(upload, [file, commune], outputs, api_visibility="private")
    delete.click(remove, [chosen, confirm], outputs, api_visibility="private")
    keep.click(keep_version, [chosen, confirm], outputs, api_visibility="private")
    return {"table": table, "remove": chosen}
