"""The Chat tab: conversation on the left, the cited passages on the right.

The conversation is kept twice: raw turns (``gr.State``) that go back to ``Assistant.ask`` as
history, and an escaped copy for display, so what the user typed is never rendered as HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import gradio as gr

from assistant.limits import loads_bounded
from assistant.schema import STATUS_ERROR, Answer
from ui.render import answer_markdown, placeholder, sources_html, user_markdown
from ui.state import HOLDER

ALL = "All"
PERIODS = [ALL, "2025-2030", "2020-2025"]
EXAMPLES = [
    "What is Mường La's forest-cover target?",
    "ty le ho ngheo xa Bo Sinh 2030",
    "Compare the 2030 forest-cover targets of Mường La and Bó Sinh.",
    "Tỷ lệ dân số tham gia bảo hiểm y tế của xã Mai Sơn đến năm 2030?",
]
MAX_HISTORY = 12  # messages sent back as context; follow-ups only need the last full question
MAX_ANSWER_CONTEXT = 1000  # characters of each earlier answer sent back: the rules read only the questions


def ask(question: str, history: str | list[dict] | None = None, commune: str | None = None,
        period: str | None = None) -> dict:
    """Answer one question about the reports, with cited passages (the JSON contract of `baocao ask --json`).

    history: earlier messages as a list of {"role", "content"} dicts or that list as a JSON string.
    commune: only this commune's report ("All" or empty: every report). period: "2025-2030" or "2020-2025".
    """
    return answer_question(question, history, commune, period).to_json()


def answer_question(question: object, history: object, commune: str | None, period: str | None) -> Answer:
    """Ask the shared Assistant; bad input and an unready index become an ``error`` answer."""
    assistant = HOLDER.get()
    if assistant is None:
        return Answer(status=STATUS_ERROR, answer=HOLDER.busy_message)
    try:
        turns = parse_history(history)
    except ValueError as exc:  # InputRejected (nesting limit) is a ValueError too
        return Answer(status=STATUS_ERROR, answer=str(exc))
    return assistant.ask(question, turns, commune=_filter(commune), period=_filter(period))


def parse_history(history: object) -> list[dict] | None:
    """History from the API or the UI: a list of messages, a JSON string of one, or nothing.

    A JSON string is checked for nesting before it is parsed (``assistant.limits``); the turns themselves
    are checked by ``Assistant.ask``, which refuses bad ones by number instead of dropping them.
    """
    if history in (None, "", []):
        return []
    if isinstance(history, str):
        try:
            history = loads_bounded(history, HOLDER.settings, "history")
        except json.JSONDecodeError as exc:
            raise ValueError("history must be a JSON list of {role, content} messages") from exc
    return history  # type: ignore[return-value]


def _filter(value: str | None) -> str | None:
    return None if not value or value == ALL else value


def display(turns: list[dict]) -> list[dict]:
    """The chatbot's messages: escaped user text, answers with their status badge."""
    out = []
    for t in turns:
        if t["role"] == "user":
            out.append({"role": "user", "content": user_markdown(t["content"])})
        else:
            out.append({"role": "assistant", "content": t["shown"]})
    return out


def respond(question: str, turns: list[dict], commune: str, period: str) -> Iterator[tuple]:
    """Show the question at once, then the answer and its sources (a generator: prompt feedback)."""
    question = (question or "").strip()
    if not question:
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    pending = [*turns, {"role": "user", "content": question}]
    waiting = {"role": "assistant", "content": "_Searching the reports…_"}
    yield display(pending) + [waiting], "", placeholder("Looking for passages…"), turns
    history = [{"role": t["role"], "content": t["content"] if t["role"] == "user"
                else t["content"][:MAX_ANSWER_CONTEXT]} for t in turns][-MAX_HISTORY:]
    answer = answer_question(question, history, commune, period)
    done = [*pending, {"role": "assistant", "content": answer.answer, "shown": answer_markdown(answer)}]
    yield display(done), "", sources_html(HOLDER.settings.reports_dir, answer, question), done


def respond_example(evt: gr.SelectData, turns: list[dict], commune: str, period: str) -> Iterator[tuple]:
    """An example question clicked in the empty chat is asked at once."""
    value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
    yield from respond(str(value.get("text", "")), turns, commune, period)


def clear() -> tuple:
    """A new conversation: no messages, no sources, no history for follow-ups."""
    return [], "", sources_html(HOLDER.settings.reports_dir, None), []


def build_chat_tab(communes: list[str]) -> dict[str, gr.components.Component]:
    """Lay out the chat tab and wire its events; returns the components other tabs update."""
    turns = gr.State([])
    with gr.Row(elem_id="chat-row", equal_height=False):
        with gr.Column(scale=3, min_width=320, elem_id="chat-col"):
            with gr.Row(elem_id="filter-row"):
                commune = gr.Dropdown([ALL, *communes], value=ALL, label="Commune", min_width=130,
                                      elem_id="commune-filter")
                period = gr.Dropdown(PERIODS, value=ALL, label="Period", min_width=120, elem_id="period-filter")
                new_chat = gr.Button("New chat", variant="secondary", size="md", min_width=90, elem_id="new-chat")
            chatbot = gr.Chatbot(show_label=False, height=460, sanitize_html=True, allow_tags=False,
                                 elem_id="chatbot", buttons=["copy"], feedback_options=None,
                                 examples=[{"text": q} for q in EXAMPLES],
                                 placeholder="**Ask about a commune's 2025-2030 targets or 2020-2025 results.**  \n"
                                             "English or Vietnamese, with or without diacritics. Try one:")
            with gr.Row(elem_id="ask-row"):
                question = gr.Textbox(show_label=False, placeholder="Ask about the reports…",
                                      scale=5, min_width=200, elem_id="question", max_lines=4, container=False)
                send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask-btn")
        with gr.Column(scale=2, min_width=300, elem_id="sources-col"):
            gr.Markdown("### Sources", elem_classes=["panel-title"])
            sources = gr.HTML(sources_html(HOLDER.settings.reports_dir, None), elem_id="sources")
    inputs, outputs = [question, turns, commune, period], [chatbot, question, sources, turns]
    for trigger in (question.submit, send.click):
        trigger(respond, inputs, outputs, api_visibility="private", show_progress="hidden")
    chatbot.example_select(respond_example, [turns, commune, period], outputs, api_visibility="private",
                           show_progress="hidden")
    for trigger in (new_chat.click, chatbot.clear):
        trigger(clear, None, outputs, api_visibility="private")
    return {"commune": commune}
