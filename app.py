"""The Gradio app: chat with visible sources, comparison, evals and document management.

``python app.py`` or ``baocao serve`` starts it on http://127.0.0.1:7860. The programmatic API
is ``POST /ask`` (see ``ui.chat.ask``), e.g. with gradio_client::

    Client("http://127.0.0.1:7860/").predict("What is Mường La's forest-cover target?", api_name="/ask")
"""

from __future__ import annotations

# isort: off
import baocao.config  # noqa: F401 - first: turns analytics and hub look-ups off before gradio loads
# isort: on

import ipaddress
import sys
from collections.abc import Callable
from functools import partial

import gradio as gr
from starlette.middleware import Middleware

from baocao.config import SettingError, Settings, get_settings
from index.build import current_manifest
from ui.chat import ask, build_chat_tab
from ui.compare import build_compare_tab
from ui.documents import build_documents_tab, communes, documents_frame, picker_updates, report_files
from ui.evals import build_evals_tab
from ui.facts_api import facts
from ui.guard import RequestGuard
from ui.logs import quiet_tracebacks
from ui.render import notice
from ui.scorecard import build_scorecard_tab
from ui.state import HOLDER, Factory
from ui.style import CSS, theme

TITLE = "Báo cáo chính trị · Sơn La communes"
DESCRIPTION = ("Ask about the 2025-2030 targets and 2020-2025 results in five commune Party-congress reports; "
               "every answer cites the report lines it comes from.")


def default_factory(settings: Settings) -> Factory:
    """Open the Assistant on ``settings`` (imported lazily: loading the index is the slow part)."""
    def factory():
        from assistant.service import Assistant

        return Assistant.open(settings, build_if_missing=False)  # the holder builds with progress

    return factory


def build_app(assistant_factory: Callable[[], object] | None = None, settings: Settings | None = None) -> gr.Blocks:
    """The whole UI around one shared Assistant (``ui.state.HOLDER``).

    Without a factory the holder keeps what ``serve`` configured (it may still be building the
    index); with one, the app uses it (tests, embedding the app elsewhere).
    """
    if assistant_factory is not None or settings is not None:
        settings = settings or get_settings()
        HOLDER.configure(assistant_factory or default_factory(settings), settings)
    assistant = HOLDER.get()
    names = communes()
    with gr.Blocks(title="baocao — Sơn La commune reports", analytics_enabled=False) as demo:
        gr.HTML(f"<h1>{TITLE}</h1><p>{DESCRIPTION}</p>", elem_id="app-header")
        banner = gr.HTML(notice(_status()), elem_id="status-banner", visible=assistant is None)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat = build_chat_tab(names)
            with gr.Tab("Compare", id="compare"):
                compare = build_compare_tab()
            with gr.Tab("Scorecard", id="scorecard"):
                scorecard = build_scorecard_tab()
            pickers = [chat["commune"], *compare["outputs"], *scorecard["outputs"]]
            with gr.Tab("Evals", id="evals"):
                build_evals_tab()
            with gr.Tab("Documents", id="documents"):
                docs = build_documents_tab(pickers)
        gr.api(ask, api_name="ask")
        gr.api(facts, api_name="facts")  # the fact records (baocao facts), README "Facts"
        fresh = [docs["table"], docs["remove"], *pickers]
        demo.load(_fresh_lists, None, fresh, api_visibility="private")  # another user may have changed reports
        timer = gr.Timer(2.0, active=assistant is None)
        timer.tick(partial(_poll, len(fresh)), None, [banner, timer, *fresh], api_visibility="private")
    return demo


def _status() -> str:
    return "" if HOLDER.get() is not None else HOLDER.busy_message


def _fresh_lists() -> tuple:
    """The documents table, the removable files and the pickers for the reports indexed now."""
    return documents_frame(), gr.Dropdown(choices=report_files(), value=None), *picker_updates()


def _poll(n_fresh: int) -> tuple:
    """While the first index build runs: show its progress; once ready, fill the tables and pickers."""
    if HOLDER.get() is None:
        kind = "error" if HOLDER.error else "info"
        return gr.HTML(notice(HOLDER.busy_message, kind), visible=True), gr.Timer(active=True), *[gr.skip()] * n_fresh
    return gr.HTML("", visible=False), gr.Timer(active=False), *_fresh_lists()


def serve(host: str = "127.0.0.1", port: int = 7860, auth: str | None = None) -> int:
    """Start the app (blocking); returns an exit status for the CLI."""
    credentials = _parse_auth(auth)
    if auth and credentials is None:
        print("error: --auth must look like user:password", file=sys.stderr)
        return 2
    if not _is_loopback(host) and credentials is None:
        print(f"WARNING: serving on {host} without --auth: anyone who can reach this machine can use the app "
              "and add or remove reports. Use --auth user:password.", file=sys.stderr)
    settings = get_settings()
    HOLDER.configure(default_factory(settings), settings)
    if current_manifest(settings) is None:
        HOLDER.start_background_load()  # first run: build (tqdm on the console, status in the UI)
    demo = build_app()
    quiet_tracebacks()  # the log says what failed, never what was sent
    try:
        demo.queue(default_concurrency_limit=4).launch(
            server_name=host, server_port=port, share=False, auth=credentials, theme=theme(), css=CSS,
            footer_links=["api"], show_error=False, max_file_size=settings.max_upload_bytes,
            app_kwargs={"middleware": [Middleware(RequestGuard, settings=settings)]})  # login + bounded JSON
    except OSError as exc:  # the port is taken or the address is not this machine's
        print(f"error: cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0


def _parse_auth(auth: str | None) -> tuple[str, str] | None:
    user, sep, password = (auth or "").partition(":")
    return (user, password) if sep and user and password else None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    from baocao.cli import Parser, port_number

    parser = Parser(prog="app.py", description="Start the baocao Gradio app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=7860)
    parser.add_argument("--auth", help="user:password required for every page and API call")
    args = parser.parse_args(argv)
    try:
        return serve(args.host, args.port, args.auth)
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
