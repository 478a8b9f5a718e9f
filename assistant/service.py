"""The assistant as one object: open the index once, then ask, retrieve, compare, list targets.

This is what the CLI, the JSON batch interface, the Gradio app and the eval runner call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from assistant.answer import merge_answers, single_answer
from assistant.compare import compare_answer
from assistant.conversation import resolve
from assistant.evidence import IdfTable, Term, Window, best_windows, rescore
from assistant.glossary import load_glossary
from assistant.grounding import ungrounded_figures
from assistant.indicators import IndicatorIndex
from assistant.limits import Budget, BudgetExceeded, InputRejected, check_budget, checked_history
from assistant.llm import condense_if_unsure, grounded_llm_answer
from assistant.model import AnswerModel, load_model
from assistant.normalize import normalize_question
from assistant.places import PlaceReader, PlaceReading
from assistant.query import Query, load_question_words, split_compound, understand, unknown_places
from assistant.retrieval import HybridRetriever
from assistant.schema import STATUS_ANSWERED, STATUS_ERROR, STATUS_NOT_FOUND, Answer
from assistant.templates import phrase
from baocao.config import Settings, get_settings
from index.build import build_index, embedder_label
from index.communes import CommuneInfo, CommuneRegistry, load_overrides
from index.lexicon import load_lexicon
from index.reader import IndexReader, IndexUnavailable, open_index
from index.schema import Passage
from index.text import fold, tokens


@dataclass
class Assistant:
    settings: Settings
    index: IndexReader
    registry: CommuneRegistry
    retriever: HybridRetriever
    idf: IdfTable
    vocabulary: set[str]
    corpus_folded: str
    places: PlaceReader
    versions: dict[str, list[str]] = field(default_factory=dict)  # commune → its report files, when several
    model: AnswerModel | None = None
    trace: list | None = None
    memo: dict | None = None  # evals/fit.py asks the same questions under many models: keep their windows
    indicators: IndicatorIndex | None = None

    @classmethod
    def open(cls, settings: Settings | None = None, *, build_if_missing: bool = True,
             with_model: bool = True) -> Assistant:
        """Open the current index; on first run build it (with a progress bar)."""
        settings = settings or get_settings()
        try:
            index = open_index(settings)
        except IndexUnavailable:
            if not build_if_missing:
                raise
            build_index(settings)
            index = open_index(settings)
        return cls.from_index(settings, index, with_model=with_model)

    @classmethod
    def from_index(cls, settings: Settings, index: IndexReader, *, with_model: bool = True) -> Assistant:
        """``with_model=False``: no answer model yet (``baocao fit`` opens it so, to fit one on new features)."""
        registry = _registry(settings, index)
        vocabulary = {t for p in index.passages for t in tokens(p.text)}
        corpus = " ".join(fold(p.text) for p in index.passages)
        retriever = HybridRetriever(index, settings)
        lexicon = load_lexicon(settings.indicators_path, settings.indicator_qualifiers_path)
        indicators = IndicatorIndex.build(lexicon, index.facts, retriever.embedder,
                                          settings.index_dir / "embeddings.sqlite", embedder_label(settings.embedder))
        return cls(settings, index, registry, retriever, IdfTable(index.passages),
                   vocabulary, corpus, PlaceReader(registry, corpus_folded=corpus), report_versions(index.manifest),
                   load_model(settings.answer_model_path) if with_model else None, indicators=indicators)

    # -- questions -----------------------------------------------------------------------
    def parse(self, question: str) -> Query:
        """The question read as the answerer reads it (text normalised first: NFC, no invisible or look-alike
        characters)."""
        check_budget()  # every parse (the question, each history turn, each compound part) is a stage
        return understand(normalize_question(question), self.registry, load_glossary(self.settings.glossary_path),
                          self.vocabulary, load_question_words(self.settings.question_words_path))

    def ask(self, question: object, history: list[dict] | None = None, *, commune: str | None = None,
            period: str | None = None, mode: str | None = None) -> Answer:
        """Answer one question (with the conversation so far); never raises on bad input.

        ``mode``: "extractive" or "llm" (default: ``settings.default_answer_mode``).
        """
        started = time.perf_counter()
        problem = self._invalid(question)
        if problem:
            return Answer(status=STATUS_ERROR, answer=problem, latency_ms=_ms(started))
        mode = mode or self.settings.default_answer_mode
        if mode not in ("extractive", "llm"):
            raise ValueError(f"unknown answer mode {mode!r}; choose 'extractive' or 'llm'")
        try:
            turns = checked_history(history, self.settings)
        except InputRejected as exc:
            return Answer(status=STATUS_ERROR, answer=str(exc), latency_ms=_ms(started))
        turns = [{**t, "content": normalize_question(t["content"])} for t in turns]
        text = normalize_question(str(question)).strip()
        if not text:  # only invisible characters ("\u200b\u200d")
            return Answer(status=STATUS_ERROR, answer=phrase("en", "empty_question"), latency_ms=_ms(started))
        try:
            llm_time = 2 * self.settings.llm_timeout if mode == "llm" else 0.0  # the LLM has its own timeout
            with Budget(self.settings.answer_budget_s + llm_time):
                answer = self._ask(text, turns, commune, period, mode)
        except BudgetExceeded:
            lang = "vi" if any(ord(c) > 127 for c in str(question)) else "en"
            answer = Answer(status=STATUS_ERROR, language=lang,
                            answer=phrase(lang, "over_budget", seconds=self.settings.answer_budget_s))
        answer.latency_ms = _ms(started)
        return answer

    def _ask(self, question: str, history: list[dict], commune: str | None, period: str | None,
             mode: str) -> Answer:
        standalone, query = resolve(question, history, self.registry, self.parse)
        if mode == "llm":  # --- optional LLM (assistant/llm.py): a follow-up the rules left alone ---
            standalone, query = condense_if_unsure(self.settings, question, standalone, query,
                                                   history, self.parse, self.registry)
        _apply_filters(query, commune, period, self.registry)
        answer = self._answer(query, standalone)
        if ungrounded_figures(answer):  # never show a figure that no cited passage holds
            answer = Answer(status=STATUS_NOT_FOUND, answer=phrase(query.language, "not_found", scope=""),
                            language=query.language)
        if mode == "llm":  # --- optional LLM: reword from the same passages, guarded, else the fallback ---
            answer = grounded_llm_answer(self.settings, standalone, query, answer, self.registry)
        answer.question = standalone
        note = self._version_note(answer)
        if note:  # after the figure check: a file name like "muong-la-2.txt" is not a figure of the answer
            answer.answer = f"{answer.answer}\n\n{note}"
        return answer

    def _version_note(self, answer: Answer) -> str:
        """Which report version the answer quotes, when a commune has several (a revised copy was uploaded)."""
        notes = []
        for commune, files in self.versions.items():
            quoted = sorted({c.file for c in answer.citations if c.file in files})
            if quoted:
                notes.append(phrase(answer.language, "version_note", commune=commune, count=len(files),
                                    files=", ".join(files), quoted=", ".join(quoted)))
        return " ".join(notes)

    def _invalid(self, question: object) -> str | None:
        if not isinstance(question, str):
            return phrase("en", "not_text")
        text = question.strip()
        lang = "vi" if any(ord(c) > 127 for c in text) else "en"
        if not text:
            return phrase("en", "empty_question")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: "\\ud800" in JSON, or bad bytes in argv (surrogateescape)
            return phrase("en", "not_utf8")
        if len(text) > self.settings.max_question_chars:
            return phrase(lang, "too_long", length=len(text), limit=self.settings.max_question_chars)
        return None

    def _answer(self, query: Query, question: str) -> Answer:
        refusal = self._place_refusal(query, self.places.read(question))
        if refusal:  # never answer for a place the reports do not cover with another commune's figure
            return refusal
        unknown = unknown_places(question, self.registry, self.corpus_folded, self.vocabulary)
        if unknown and not query.communes:  # never answer for "Hà Nội" with another commune's figure
            return self._refuse(query, "unknown_commune", names=", ".join(unknown))
        if not query.communes and not query.compare:  # no place named: every commune, or ask which
            if not query.wants_figure:
                return self._refuse(query, "which_commune")
            query.compare = True
        if query.compare:
            communes = query.communes if len(query.communes) >= 2 else self.registry.names()
            return compare_answer(query, communes, self._windows_for)
        parts = split_compound(question)
        if len(parts) == 2:  # "how many criteria …, and how many villages …?": answer each part
            first, second = (self._single(self._inherit(self.parse(p), query)) for p in parts)
            if first.status == STATUS_ANSWERED and second.status == STATUS_ANSWERED:
                return merge_answers(first, second)
        return self._single(query)

    def _place_refusal(self, query: Query, reading: PlaceReading) -> Answer | None:
        """A province or district beside its own commune is context; anything else about places is a refusal:
        a commune put in another province, a place with no report, a whole province or district."""
        if reading.mismatch:
            commune, place = reading.mismatch[0]
            home = self.places.province_of.get(commune) or ", ".join(
                p.name for p in reading.places if self.places.fits(commune, p)) or "?"
            return self._refuse(query, "place_mismatch", commune=commune, place=place, home=home)
        if reading.unknown:
            return self._refuse(query, "unknown_commune", names=", ".join(reading.unknown))
        if query.communes:
            return None
        home = [p for p in reading.places if self.places.is_home(p)]
        others = [p for p in reading.places if p not in home]
        if others:
            return self._refuse(query, "unknown_commune", names=", ".join(p.name for p in others))
        if home and not query.compare:
            return self._refuse(query, "whole_area", place=home[0].name)
        return None

    def _refuse(self, query: Query, key: str, **values: str) -> Answer:
        return Answer(status=STATUS_NOT_FOUND, language=query.language,
                      answer=phrase(query.language, key, known=", ".join(self.registry.names()), **values))

    def _single(self, query: Query) -> Answer:
        check_budget()
        hits = self.retriever.retrieve(query, k=self.settings.answer_candidates)
        if query.wants_list:
            hits = self.retriever.with_siblings(hits, top=3)
        windows, terms = self.windows(query, hits)
        return single_answer(query, windows, terms, self.section_passages)

    def windows(self, query: Query, hits: list) -> tuple[list[Window], list[Term]]:
        """Candidate windows of the hits, judged by the fitted answer model (``self.model``).

        ``self.trace`` (a list, set by ``evals/fit.py``) receives every candidate set, so the model
        is fitted on exactly the windows the answerer chooses from.
        """
        key = (repr(query), tuple(h.passage.id for h in hits))
        if self.memo is not None and key in self.memo:  # fitting: same candidates, another model
            windows, terms = self.memo[key]
            rescore(windows, self.model)
        else:
            asked = self.indicators.for_question(query, self.retriever.question_vector(query.text)) \
                if self.indicators and hits else None
            windows, terms = best_windows(query, hits, self.idf, self.model, self.retriever.similarities(query, hits),
                                          asked)
            if self.memo is not None:
                self.memo[key] = (windows, terms)
        if self.trace is not None:
            self.trace.append((query, windows, terms))
        return windows, terms

    def section_passages(self, passage: Passage) -> list[Passage]:
        """The passages under the same heading of the same report (the items of a list)."""
        return self.index.section(passage)

    @staticmethod
    def _inherit(part: Query, whole: Query) -> Query:
        """A part of a compound question keeps the whole question's communes, units and period."""
        part.communes, part.units, part.other_units = whole.communes, whole.units, whole.other_units
        part.unit_kind, part.period, part.period_explicit = whole.unit_kind, whole.period, whole.period_explicit
        return part

    def _windows_for(self, query: Query, commune: str) -> tuple[list[Window], list[Term]]:
        check_budget()  # a comparison retrieves once per commune
        hits = self.retriever.retrieve(query, k=self.settings.answer_candidates, communes=[commune])
        return self.windows(query, hits)

    def retrieve(self, question: str, history: list[dict] | None = None, k: int = 10,
                 mode: str = "hybrid") -> list[Passage]:
        """The passages retrieval ranks first (for evals and the sources panel)."""
        try:
            turns = checked_history(history, self.settings)
        except InputRejected:  # evals and the sources panel: the answer already carries the message
            turns = []
        _, query = resolve(normalize_question(question).strip(), turns, self.registry, self.parse)
        return [h.passage for h in self.retriever.retrieve(query, k=k, mode=mode)]

    # -- records ---------------------------------------------------------------------------
    def targets(self, commune: str | None = None) -> list[dict]:
        owner = self.registry.owner_of(commune) if commune else None
        return [t for t in self.index.targets if commune is None or t["commune"] == owner]

    def facts(self, period: str | None = None, commune: str | None = None,
              indicator: str | None = None) -> list[dict]:
        """Fact records (index/facts.py; the JSON contract in the README), filtered.

        ``commune`` may be any name of a commune, former ones included ("Ít Ong" → Mường La);
        ``indicator`` is an ``indicator_key`` of ``data/indicators.tsv``. An unknown commune gives [].
        """
        owner = self.registry.owner_of(commune) if commune else None
        if commune and owner is None:
            return []
        return [f for f in self.index.facts if (period is None or f["period"] == period)
                and (owner is None or f["commune"] == owner)
                and (indicator is None or f["indicator_key"] == indicator)]

    def documents(self) -> list[dict]:
        """The indexed reports: commune, passages, target items, when indexed."""
        out = []
        for entry in self.index.manifest.get("communes", []):
            passages = [p for p in self.index.passages if p.file == entry["file"]]
            out.append({"file": entry["file"], "commune": entry["name"], "passages": len(passages),
                        "targets": sum(1 for t in self.index.targets if t["file"] == entry["file"]),
                        "former_units": ", ".join(entry.get("former_units", [])),
                        "district": entry.get("district") or "", "province": entry.get("province") or "",
                        "indexed": self.index.manifest.get("built_at", "")})
        return out


def _registry(settings: Settings, index: IndexReader) -> CommuneRegistry:
    registry = CommuneRegistry()
    for entry in index.manifest.get("communes", []):
        registry.add(CommuneInfo(entry["name"], tuple(entry.get("former_units", ())),
                                 tuple(entry.get("aliases", ())), entry.get("former_district"),
                                 district=entry.get("district"), province=entry.get("province")))
    if not registry.communes:  # an index built before communes were recorded
        overrides = load_overrides(settings.communes_path)
        for name in sorted({p.commune for p in index.passages}):
            entry = next((e for e in overrides.values() if e["name"] == name), {})
            registry.add(CommuneInfo(name, tuple(entry.get("former_units", ())), tuple(entry.get("aliases", ()))))
    return registry


def report_versions(manifest: dict) -> dict[str, list[str]]:
    """Communes with more than one report file in the index: {commune: [files]}, a conflict to show."""
    files: dict[str, list[str]] = {}
    for entry in manifest.get("communes", []):
        files.setdefault(entry["name"], []).append(entry["file"])
    return {name: sorted(found) for name, found in files.items() if len(found) > 1}


def _apply_filters(query: Query, commune: str | None, period: str | None, registry: CommuneRegistry) -> None:
    """Filters chosen in the UI or on the command line narrow the question's own reading."""
    if commune:
        owner = registry.owner_of(commune)
        if owner:
            query.communes = [owner]
    if period in ("2020-2025", "2025-2030"):
        query.period, query.period_explicit = period, True


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000

