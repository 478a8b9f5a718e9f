"""Optional LLM answers that stay grounded: llama.cpp, Ollama or any OpenAI-compatible server.

The extractive answerer stays the default and the source of truth. In ``llm`` mode it runs
first; its cited passages (and nothing else) are numbered and handed to the LLM with the
prompt in ``prompts/llm_answer.txt`` (``llm_compare.txt`` for comparisons). The LLM's text
is then checked by :func:`guard`:

* it cites at least one passage, and every ``[n]`` points at a passage it was given;
* every figure in it stands in a passage it cites (``assistant.grounding``);
* the figure the extractive answer found is kept (every row's figure, for a comparison);
* the communes and periods it names are those of the cited passages (or of the question).

A passing answer has ``mode == "llm"`` and keeps the citations it used, renumbered 1..k in
order of use. Anything else (no backend configured, package missing, server unreachable,
a rejected answer) gives the extractive answer with ``mode == "extractive-fallback"`` and a
short ``note`` saying why. Nothing is downloaded at run time: a GGUF must be a local file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from assistant.english import english_number
from assistant.grounding import ungrounded_figures
from assistant.query import Query, find_communes
from assistant.schema import STATUS_ANSWERED, Answer, Citation
from assistant.templates import PROMPTS_DIR, phrase
from baocao.config import Settings
from index.text import FIGURE

if TYPE_CHECKING:  # pragma: no cover
    from index.communes import CommuneRegistry

BACKENDS = ("none", "openai-like", "ollama", "llama-cpp")
MODE_LLM, MODE_EXTRACTIVE, MODE_FALLBACK = "llm", "extractive", "extractive-fallback"
DEFAULT_URLS = {"openai-like": "http://127.0.0.1:8080/v1", "ollama": "http://127.0.0.1:11434"}
_EXTRA_HINT = "install the extra: pip install -e '.[llm]'"
_MARK = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_PERIOD = re.compile(r"\b(20\d\d)\s*[-–]\s*(20\d\d)\b")
_LEADING_LABEL = re.compile(r"^\s*(answer|trả lời|tra loi)\s*:\s*", re.IGNORECASE)


class LLMUnavailable(RuntimeError):
    """No usable backend: not configured, package not installed, model file missing."""


# --- backends ----------------------------------------------------------------------------


def describe_backend(settings: Settings) -> str:
    """One line naming the backend and model (for notes and eval reports)."""
    backend = settings.llm_backend
    if backend == "none":
        return "none"
    if backend == "llama-cpp":
        return f"llama-cpp {settings.llm_gguf or '(no GGUF set)'}"
    url = settings.llm_url or DEFAULT_URLS.get(backend, "?")
    return f"{backend} {settings.llm_model or '(default model)'} at {url}"


def get_llm(settings: Settings) -> Any:
    """The configured llama-index LLM (cached: a local GGUF is loaded once)."""
    return _cached_llm(settings.llm_backend, settings.llm_url, settings.llm_model, settings.llm_gguf,
                       settings.llm_timeout, settings.llm_max_tokens, settings.llm_context)


@lru_cache(maxsize=4)
def _cached_llm(backend: str, url: str, model: str, gguf: str | None, timeout: float, max_tokens: int,
                context: int) -> Any:
    if backend not in BACKENDS:
        raise LLMUnavailable(f"unknown LLM backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "none":
        raise LLMUnavailable("no LLM backend configured (set BAOCAO_LLM_BACKEND)")
    if backend == "openai-like":
        try:
            from llama_index.llms.openai_like import OpenAILike
        except ImportError as exc:
            raise LLMUnavailable(f"llama-index-llms-openai-like is not installed ({_EXTRA_HINT})") from exc
        return OpenAILike(api_base=url or DEFAULT_URLS[backend], api_key="none", model=model or "local",
                          is_chat_model=True, temperature=0.0, max_tokens=max_tokens, timeout=timeout,
                          max_retries=0, context_window=context)
    if backend == "ollama":
        try:
            from llama_index.llms.ollama import Ollama
        except ImportError as exc:
            raise LLMUnavailable(f"llama-index-llms-ollama is not installed ({_EXTRA_HINT})") from exc
        if not model:
            raise LLMUnavailable("set BAOCAO_LLM_MODEL to an Ollama model that is already pulled")
        return Ollama(model=model, base_url=url or DEFAULT_URLS[backend], request_timeout=timeout,
                      temperature=0.0, context_window=context, additional_kwargs={"num_predict": max_tokens})
    return _llama_cpp(gguf, max_tokens, context)


def _llama_cpp(gguf: str | None, max_tokens: int, context: int) -> Any:
    """A GGUF run in-process; its own chat template formats the prompt. Never downloads."""
    from pathlib import Path

    if not gguf or not Path(gguf).is_file():
        raise LLMUnavailable(f"BAOCAO_LLM_GGUF must name a local .gguf file (got {gguf!r})")
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError as exc:
        raise LLMUnavailable(f"llama-index-llms-llama-cpp / llama-cpp-python not installed ({_EXTRA_HINT})") from exc
    try:
        llm = LlamaCPP(model_path=gguf, model_url=None, temperature=0.0, max_new_tokens=max_tokens,
                       context_window=context, verbose=False)
    except Exception as exc:  # noqa: BLE001 - a corrupt or incompatible file
        raise LLMUnavailable(f"could not load {gguf}: {type(exc).__name__}: {exc}") from exc
    chat = _gguf_chat_formatter(llm._model)
    if chat is not None:  # the prompt goes in as the user turn of the model's own chat template
        llm.completion_to_prompt = lambda prompt: chat(messages=[{"role": "user", "content": prompt}]).prompt
    return llm


def _gguf_chat_formatter(model: Any) -> Any:
    """The chat template stored in the GGUF's metadata, as llama-cpp-python's server would use it."""
    template = (getattr(model, "metadata", None) or {}).get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def text(token: int) -> str:
        return model._model.token_get_text(token) if token != -1 else ""

    return Jinja2ChatFormatter(template=template, eos_token=text(model.token_eos()), bos_token=text(model.token_bos()))


# --- prompts -----------------------------------------------------------------------------


@lru_cache(maxsize=8)
def load_prompt(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")


def language_name(language: str) -> str:
    return "English" if language == "en" else "Vietnamese"


def passages_block(citations: list[Citation]) -> str:
    """``[n] (commune, period, file:lines) text`` for each passage, as the LLM sees them."""
    lines = []
    for c in citations:
        period = c.period or "report"
        text = " ".join(c.text.split())
        lines.append(f"[{c.n}] ({c.commune}, {period}, {c.file}:{c.line_start}-{c.line_end}) {text}")
    return "\n".join(lines)


def answer_prompt(question: str, query: Query, extractive: Answer) -> str:
    """The prompt for the LLM, built from the extractive answer's cited passages only."""
    cites = extractive.citations
    communes = ", ".join(dict.fromkeys(c.commune for c in cites if c.commune)) or "-"
    values = {"question": question, "language_name": language_name(query.language), "communes": communes,
              "period": query.period or extractive.period or "as in the passages",
              "passages": passages_block(cites),
              "not_found": phrase(query.language, "not_found", scope="")}
    if extractive.table is not None:
        missing = [r.commune for r in extractive.table if r.figure is None]
        return load_prompt("llm_compare").format(missing=", ".join(missing) or "none", **values)
    return load_prompt("llm_answer").format(**values)


def condense_prompt(question: str, history: list[dict]) -> str:
    turns = [f"{t.get('role', 'user')}: {' '.join(str(t.get('content', '')).split())[:500]}"
             for t in history[-6:] if isinstance(t, dict)]
    return load_prompt("llm_condense").format(history="\n".join(turns), question=question)


# --- the guard ---------------------------------------------------------------------------


@dataclass
class Verdict:
    ok: bool
    reason: str = ""
    answer: Answer | None = None


def _canonical(text: str) -> str:
    return re.sub(r"\s+", "", text).rstrip(".,")


def _clean(text: str) -> str:
    """The LLM's text without a leading "Answer:" and with "[1, 2]" written as "[1][2]"."""
    text = _LEADING_LABEL.sub("", (text or "").strip())
    return _MARK.sub(lambda m: "".join(f"[{n}]" for n in re.split(r"\s*[,;]\s*", m.group(1))), text)


def _english_form(figure: str) -> str:
    """"51,51%" as an English answer writes it ("51.51%"): either form keeps the figure."""
    return re.sub(r"\d+(?:[.,]\d+)*", lambda m: english_number(m.group(0)), figure)


def _key_figures(extractive: Answer) -> list[str]:
    """The numbers the extractive answer found (its lead figure; each comparison row's figure)."""
    if extractive.table is not None:
        wanted = [r.figure for r in extractive.table if r.figure]
    else:
        wanted = extractive.citations[0].figures[:1] if extractive.citations else []
    out = []
    for figure in wanted:
        m = FIGURE.search(figure)
        if m:
            out.append(_canonical(m.group(0)))
    return out


def guard(text: str, query: Query, extractive: Answer, registry: CommuneRegistry | None = None) -> Verdict:
    """Check an LLM answer against the passages it was given; a passing one becomes an Answer."""
    text = _clean(text)
    if not text:
        return Verdict(False, "empty answer")
    given = {c.n: c for c in extractive.citations}
    marks = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    if not marks:
        return Verdict(False, "cites no passage")
    unknown = sorted({n for n in marks if n not in given})
    if unknown:
        return Verdict(False, f"cites [{', '.join(map(str, unknown))}], which was not given")
    used = list(dict.fromkeys(marks))
    if extractive.table is not None:  # table rows point at citations by number: keep them all
        numbering = {n: n for n in given}
    else:
        numbering = {old: new for new, old in enumerate(used, start=1)}
    renumbered = re.sub(r"\[(\d+)\]", lambda m: f"[{numbering[int(m.group(1))]}]", text)
    cited = [replace(given[old], n=new) for old, new in sorted(numbering.items(), key=lambda kv: kv[1])]
    cited_by_llm = [c for c in cited if c.n in {numbering[n] for n in used}]
    candidate = Answer(status=STATUS_ANSWERED, answer=renumbered, citations=cited, communes=extractive.communes,
                       period=extractive.period, language=extractive.language, mode=MODE_LLM,
                       table=extractive.table)
    invented = ungrounded_figures(Answer(status=STATUS_ANSWERED, answer=renumbered, citations=cited_by_llm,
                                         language=extractive.language))
    if invented:
        return Verdict(False, f"figure(s) {', '.join(invented)} not in a cited passage")
    flat = _canonical(renumbered)
    lost = [f for f in _key_figures(extractive) if f not in flat and _english_form(f) not in flat]
    if lost:
        return Verdict(False, f"left out the figure(s) {', '.join(lost)} the passages give")
    if registry is not None:
        allowed = {c.commune for c in cited} | set(query.communes)
        allowed |= set(find_communes(" ".join(c.text for c in cited), registry)[0])
        strangers = [c for c in find_communes(renumbered, registry)[0] if c not in allowed]
        if strangers:
            return Verdict(False, f"names commune(s) {', '.join(strangers)} that no cited passage is about")
    periods = {f"{a}-{b}" for a, b in _PERIOD.findall(renumbered)}
    allowed_periods = {c.period for c in cited} | {query.period} | {
        f"{a}-{b}" for c in cited for a, b in _PERIOD.findall(c.text)}
    wrong = sorted(periods - allowed_periods)
    if wrong:
        return Verdict(False, f"names period(s) {', '.join(wrong)} the question and passages are not about")
    return Verdict(True, answer=candidate)


def fallback(extractive: Answer, note: str) -> Answer:
    """The extractive answer, marked as standing in for an LLM answer, with the reason."""
    extractive.mode = MODE_FALLBACK
    extractive.note = note
    return extractive


def _checked(text: str, query: Query, extractive: Answer, registry: CommuneRegistry | None) -> Answer:
    verdict = guard(text, query, extractive, registry)
    if verdict.ok and verdict.answer is not None:
        return verdict.answer
    return fallback(extractive, f"LLM answer rejected: {verdict.reason}")


def _not_for_llm(extractive: Answer) -> str | None:
    if extractive.status != STATUS_ANSWERED or not extractive.citations:
        return "no passage answers the question; the LLM was not asked"
    return None


# --- answering ---------------------------------------------------------------------------


def grounded_llm_answer(settings: Settings, question: str, query: Query, extractive: Answer,
                        registry: CommuneRegistry | None = None, llm: Any = None) -> Answer:
    """The LLM's answer from the extractive answer's passages if it passes the guard, else the fallback."""
    skip = _not_for_llm(extractive)
    if skip:
        return fallback(extractive, skip)
    try:
        llm = llm if llm is not None else get_llm(settings)
        text = llm.complete(answer_prompt(question, query, extractive)).text
    except LLMUnavailable as exc:
        return fallback(extractive, f"LLM unavailable: {exc}")
    except Exception as exc:  # noqa: BLE001 - unreachable server, timeout, bad response
        return fallback(extractive, f"LLM backend failed ({describe_backend(settings)}): "
                                    f"{type(exc).__name__}: {str(exc)[:200]}")
    return _checked(text, query, extractive, registry)


def stream_llm_answer(assistant: Any, question: str, history: list[dict] | None = None, *,
                      commune: str | None = None, period: str | None = None,
                      llm: Any = None) -> Generator[str, None, Answer]:
    """Yield the LLM's text as it comes; the generator's return value is the final, guarded Answer.

    The streamed text is provisional: show it while it arrives, then replace it with the
    returned Answer (``mode`` "llm", or the extractive answer with "extractive-fallback")::

        gen = stream_llm_answer(assistant, q, history)
        try:
            while True:
                show(next(gen))
        except StopIteration as stop:
            final = stop.value
    """
    extractive = assistant.ask(question, history, commune=commune, period=period, mode=MODE_EXTRACTIVE)
    if extractive.status == "error" or _not_for_llm(extractive):
        return fallback(extractive, _not_for_llm(extractive) or "invalid question")
    query = assistant.parse(extractive.question or question)
    parts: list[str] = []
    try:
        llm = llm if llm is not None else get_llm(assistant.settings)
        for chunk in llm.stream_complete(answer_prompt(extractive.question or question, query, extractive)):
            delta = chunk.delta or ""
            if delta:
                parts.append(delta)
                yield delta
    except LLMUnavailable as exc:
        return fallback(extractive, f"LLM unavailable: {exc}")
    except Exception as exc:  # noqa: BLE001 - unreachable server, timeout, bad response
        return fallback(extractive, f"LLM backend failed: {type(exc).__name__}: {str(exc)[:200]}")
    answer = _checked("".join(parts), query, extractive, getattr(assistant, "registry", None))
    answer.question, answer.latency_ms = extractive.question, extractive.latency_ms
    return answer


# --- follow-ups --------------------------------------------------------------------------


def condense_if_unsure(settings: Settings, question: str, standalone: str, query: Query,
                       history: list[dict] | None, parse: Callable[[str], Query],
                       registry: CommuneRegistry, llm: Any = None) -> tuple[str, Query]:
    """Let the LLM rewrite a follow-up the rule-based resolver left alone.

    "Unsure" means: there is a conversation, the rules did not rewrite the question, and
    the question names no commune and is not a comparison. The rewrite is kept only if it
    names communes, all of them taken from the conversation; otherwise the rules' reading stands.
    """
    if not history or standalone != question or query.communes or query.compare:
        return standalone, query
    if llm is None and settings.llm_backend == "none":
        return standalone, query
    try:
        llm = llm if llm is not None else get_llm(settings)
        text = llm.complete(condense_prompt(question, history)).text
    except Exception:  # noqa: BLE001 - the rules' reading stands
        return standalone, query
    lines = [ln.strip().strip("\"“”'") for ln in (text or "").splitlines() if ln.strip()]
    candidate = _LEADING_LABEL.sub("", lines[0]) if lines else ""
    if not candidate or len(candidate) > settings.max_question_chars:
        return standalone, query
    parsed = parse(candidate)
    spoken = " ".join(str(t.get("content", "")) for t in history if isinstance(t, dict))
    known = set(find_communes(f"{spoken} {question}", registry)[0])
    if not parsed.communes or not set(parsed.communes) <= known:
        return standalone, query
    return candidate, parsed
