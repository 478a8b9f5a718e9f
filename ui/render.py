"""HTML for the app: source cards, chat messages, badges.

Every piece of user text and report text goes through ``html.escape`` here before it reaches a
``gr.HTML`` or the chatbot, so a question like ``<script>…</script>`` is shown, never run. Where the
text lands in Markdown (the chatbot, ``gr.Markdown``) it is escaped as Markdown too (``literal_markdown``):
a report line holding ``![x](http://host/x.png)`` must read as that text, because rendered as an image it
makes every reader's browser fetch the URL. Markdown built from such text (the eval report) is rendered
here with raw HTML and images off (``safe_markdown_html``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt

from assistant.schema import STATUS_ERROR, STATUS_NOT_FOUND, Answer, Citation, TableRow
from index.loaders import ReportError, read_report

CONTEXT_LINES = 3  # raw report lines shown around a cited passage
# Markdown's punctuation, plus "$" (the chatbot's LaTeX delimiters) and ":" (a URL's "://" escaped is no
# autolink, where backslash escapes would stay visible: "127\\.0\\.0\\.1").
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~$:])")
_SAFE_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.txt")


def esc(text: object) -> str:
    """HTML-escape anything (None becomes an empty string)."""
    return html.escape("" if text is None else str(text), quote=True)


def text_esc(text: str) -> str:
    """Escape text content (<, >, &); quotes stay readable, since Markdown would show "&#x27;" as is."""
    return html.escape(text, quote=False)


def literal_markdown(text: str) -> str:
    """Any text for a Markdown component: escaped as HTML *and* as Markdown, so it shows literally
    (no image is loaded, no link or heading made, no HTML run)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text_esc(text))


def user_markdown(text: str) -> str:
    """A user's message for the chatbot, shown literally."""
    return literal_markdown(text)


@lru_cache(maxsize=1)
def _markdown_renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")


def safe_markdown_html(markdown: str) -> str:
    """Markdown written by our code around quoted text (the eval report) as HTML for ``gr.HTML``: tables and
    emphasis work, raw HTML is escaped and ``![…](url)`` stays text, so nothing in it is fetched or run."""
    return _markdown_renderer().render(markdown)


def answer_markdown(answer: Answer) -> str:
    """An answer for the chatbot: its text shown literally (it quotes reports), with a badge when nothing
    was found."""
    body = literal_markdown(answer.answer)
    if answer.status == STATUS_NOT_FOUND:
        return f'<span class="badge badge-muted">Not in the reports</span>\n\n{body}'
    if answer.status == STATUS_ERROR:
        return f'<span class="badge badge-error">Could not answer</span>\n\n{body}'
    return body


def highlight(text: str, figures: list[str]) -> str:
    """Escape ``text`` and wrap each of the answer's figures in ``<mark>``."""
    wanted = sorted({f.strip() for f in figures if f and f.strip()}, key=len, reverse=True)
    if not wanted:
        return esc(text)
    pattern = re.compile("|".join(rf"(?<![\d,.]){re.escape(f)}(?![\d])" for f in wanted))
    out, last = [], 0
    for m in pattern.finditer(text):
        out += [esc(text[last:m.start()]), f"<mark>{esc(m.group(0))}</mark>"]
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)


@lru_cache(maxsize=32)
def _report_lines(path: str, mtime: float) -> tuple[str, ...]:
    """A report's lines as the index read them (same decoding, same numbering), cached per file version."""
    try:
        lines = read_report(Path(path)).lines
    except ReportError:
        return ()
    return tuple(unicodedata.normalize("NFC", line) for line in lines)  # NFD marks render badly


def report_lines(reports_dir: Path, file: str) -> tuple[str, ...]:
    """The shipped report's lines; empty for names that are not a plain report file in the folder."""
    if not _SAFE_FILE.fullmatch(file or ""):
        return ()
    path = reports_dir / file
    try:
        return _report_lines(str(path), path.stat().st_mtime)
    except OSError:
        return ()


def context_html(reports_dir: Path, c: Citation) -> str:
    """The raw lines around a citation, numbered, cited lines marked: proof the quote is real."""
    lines = report_lines(reports_dir, c.file)
    if not lines:
        return '<p class="muted">The report file is not available.</p>'
    first, last = max(1, c.line_start - CONTEXT_LINES), min(len(lines), c.line_end + CONTEXT_LINES)
    rows = []
    for n in range(first, last + 1):
        cited = c.line_start <= n <= c.line_end
        text = highlight(lines[n - 1], c.figures) if cited else esc(lines[n - 1])
        rows.append(f'<div class="ctx-line{" cited" if cited else ""}"><span class="ln">{n}</span>'
                    f'<span class="lt">{text or "&nbsp;"}</span></div>')
    return (f'<details class="src-context"><summary>Report lines {first}–{last}</summary>'
            f'<div class="ctx">{"".join(rows)}</div></details>')


def source_card(reports_dir: Path, c: Citation) -> str:
    """One cited passage as a card: who, where, which period, the quote, the raw lines."""
    lines = f"{c.line_start}" if c.line_start == c.line_end else f"{c.line_start}–{c.line_end}"
    period = f'<span class="pill">{esc(c.period)}</span>' if c.period else ""
    return (
        f'<article class="src-card" data-file="{esc(c.file)}" data-lines="{c.line_start}-{c.line_end}">'
        f'<div class="src-head"><span class="src-n">{c.n}</span><strong>{esc(c.commune)}</strong>{period}'
        f'<span class="src-loc">{esc(c.file)}:{lines}</span></div>'
        f'<div class="src-section">{esc(c.section)}</div>'
        f'<blockquote class="src-quote">{highlight(c.text, c.figures)}</blockquote>'
        f"{context_html(reports_dir, c)}</article>"
    )


def table_html(rows: list[TableRow]) -> str:
    """A comparison answer's rows; a commune without the figure reads "missing", never 0."""
    body = "".join(
        f"<tr><td>{esc(r.commune)}</td><td>{esc(r.figure) if r.figure else '<em class=muted>missing</em>'}"
        f"</td><td>{f'[{r.citation}]' if r.citation else ''}</td></tr>"
        for r in rows
    )
    return f'<table class="cmp"><thead><tr><th>Commune</th><th>Figure</th><th></th></tr></thead>' \
           f"<tbody>{body}</tbody></table>"


def sources_html(reports_dir: Path, answer: Answer | None, question: str = "") -> str:
    """The sources panel for the latest answer."""
    if answer is None:
        return placeholder("Sources appear here: each cited passage with its file, lines and context.")
    head = f'<div class="src-q">Sources for <q>{esc(answer.question or question)}</q></div>'
    if not answer.citations:
        note = "No passage cited." if answer.status != STATUS_ERROR else "The question could not be used."
        return f'<div class="sources">{head}{placeholder(note)}</div>'
    table = table_html(answer.table) if answer.table else ""
    cards = "".join(source_card(reports_dir, c) for c in answer.citations)
    return f'<div class="sources">{head}{table}{cards}</div>'


def placeholder(text: str) -> str:
    return f'<div class="sources"><p class="muted">{esc(text)}</p></div>'


def notice(text: str, kind: str = "info") -> str:
    """A one-line status box (info, ok, error) for gr.HTML."""
    return f'<div class="notice notice-{esc(kind)}">{esc(text)}</div>' if text else ""
