"""Pick the sentence(s) that answer the question, and judge whether they really do.

Retrieval ranks passages; this module reads them. Each candidate window (a whole target
item or table row, or one or two sentences of prose) is scored on how much of the
question's topic it covers (IDF-weighted, so "cà phê" counts more than "tỷ lệ"), whether
it holds a figure of the kind asked for, and whether its period, kind and former commune
fit the question. A window that misses the question's most specific term, or a figure the
question needs, does not answer it: the answer is then ``not_found``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.features import window_features
from assistant.indicators import QuestionIndicators
from assistant.model import AnswerModel
from assistant.query import LANG_EN, Query
from assistant.retrieval import Hit
from baocao.config import DATA_FILES
from index.schema import KIND_RESULT_ITEM, KIND_TABLE_ROW, KIND_TARGET, Passage
from index.text import DATE, FIGURE, fold, fold_expanded, sentences, tokens

UNMAPPED_WEIGHT = 1.5  # an English topic word the glossary cannot translate
WHOLE_KINDS = (KIND_TARGET, KIND_RESULT_ITEM, KIND_TABLE_ROW)
_FLOWS_FILE = DATA_FILES / "count_flows.txt"
_YEAR = re.compile(r"^(19|20)\d\d(\s*[-–]\s*(19|20)\d\d)?$")  # "2030", "2026-2030"


@dataclass
class Term:
    """A topic term of the question with its alternatives (folded) and its weight."""

    alternatives: tuple[str, ...]
    weight: float
    translated: bool = False  # from the glossary: a bare "bản" must not match inside "văn bản"


@dataclass
class Window:
    hit: Hit
    rank: int
    text: str
    coverage: float = 0.0
    matched: list[Term] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    score: float = 0.0  # the answer model's probability that this window answers the question
    has_top_term: bool = False
    keys: set[str] = field(default_factory=set)  # lexicon keys of the records the window states
    features: list[float] = field(default_factory=list)
    threshold: float = 1.01
    min_coverage: float = 0.0

    @property
    def passage(self) -> Passage:
        return self.hit.passage


class IdfTable:
    """Inverse document frequency of folded tokens over all passages."""

    def __init__(self, passages: list[Passage]) -> None:
        df: Counter[str] = Counter()
        for p in passages:
            df.update(set(tokens(p.text)))
        self.n = max(len(passages), 1)
        self.df = df
        pairs: Counter[str] = Counter()
        for p in passages:
            toks = tokens(p.text)
            pairs.update({f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)})
        self.pair_df = pairs

    def idf(self, token: str) -> float:
        return math.log(1 + (self.n - self.df.get(token, 0) + 0.5) / (self.df.get(token, 0) + 0.5))

    def phrase_weight(self, phrase: str) -> float:
        toks = tokens(phrase)
        return sum(self.idf(t) for t in toks) / len(toks) if toks else 0.0

    def known(self, token: str) -> bool:
        return token in self.df

    def known_pair(self, a: str, b: str) -> bool:
        return f"{a} {b}" in self.pair_df

    def pair_idf(self, pair: str) -> float:
        df = self.pair_df.get(pair, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))


def question_terms(query: Query, idf: IdfTable) -> list[Term]:
    """The topic of the question as weighted terms (glossary concepts for English)."""
    terms: list[Term] = []
    seen: set[tuple[str, ...]] = set()
    if query.language == LANG_EN:
        for concept in query.concepts:
            if concept.phrases in seen:  # "livestock" and "herd" bring the same row once
                continue
            seen.add(concept.phrases)
            weight = max(idf.phrase_weight(p) for p in concept.phrases)
            terms.append(Term(concept.phrases, weight, translated=True))
        covered = {t for c in query.concepts for p in c.phrases for t in tokens(p)}
        for token in query.content_tokens:
            if token not in covered and idf.known(token):
                terms.append(Term((token,), idf.idf(token)))
        for word in query.unmapped:  # untranslatable topic words: a passage can't be shown to cover them
            terms.append(Term((f"«{word}»",), UNMAPPED_WEIGHT))
    else:
        terms = _vietnamese_terms(query, idf)
    return terms


def _vietnamese_terms(query: Query, idf: IdfTable) -> list[Term]:
    """Topic words as the reports' own two-syllable words where the question has them.

    Vietnamese words are mostly two syllables: "thu nhập" (income) shares "thu" with "tổng thu
    ngân sách" (budget revenue) and "bình quân" with every average. Adjacent topic syllables that
    also stand together in the reports count as one phrase; the rest count alone.
    """
    content = list(dict.fromkeys(t for t in query.content_tokens if idf.known(t)))
    wanted = set(content)
    order = [t for t in tokens(query.text) if t in wanted]
    phrases: list[str] = []
    used: set[str] = set()
    for a, b in zip(order, order[1:], strict=False):
        if a != b and idf.known_pair(a, b) and a not in used:
            phrases.append(f"{a} {b}")
            used.update((a, b))
    terms = [Term((p,), idf.pair_idf(p)) for p in phrases]
    terms += [Term((t,), idf.idf(t)) for t in content if t not in used]
    return terms


def windows_of(hit: Hit, rank: int) -> list[Window]:
    """Whole items for list kinds; single sentences and sentence pairs for prose."""
    p = hit.passage
    if p.kind in WHOLE_KINDS:
        return [Window(hit, rank, p.text)]
    parts = sentences(p.text) or [p.text]
    out = [Window(hit, rank, s) for s in parts]
    out += [Window(hit, rank, f"{a} {b}") for a, b in zip(parts, parts[1:], strict=False)]
    # long sentences list one clause per former commune ("…; xã Chiềng Hặc giảm từ …; xã Tú Nang …")
    out += [Window(hit, rank, c) for s in parts if len(s) > 200 for c in _clauses(s)]
    return out


def _clauses(sentence: str) -> list[str]:
    parts = [c.strip() for c in re.split(r";\s+", sentence)]
    return [c for c in parts if len(c) > 30] if len(parts) > 1 else []


# One-syllable words that are also the second half of common compounds: "bản" in "văn bản",
# "thôn" in "nông thôn", "trường" in "môi trường" are not villages or schools.
_COMPOUND_HEADS = {"ban": ("van", "co"), "thon": ("nong",), "truong": ("moi", "thi", "tang"), "ho": ("ung", "bao")}


def contains(folded_text: str, alternative: str, strict: bool = False) -> bool:
    heads = _COMPOUND_HEADS.get(alternative) if strict else None
    for m in re.finditer(rf"(?<![a-z0-9]){re.escape(alternative)}(?![a-z0-9])", folded_text):
        before = folded_text[: m.start()].split()[-1:] if heads else []
        if not (before and before[0] in heads):
            return True
    return False


def content_figures(text: str) -> list[str]:
    """Figures that can answer a question: not years, not list numbers like "(7)", not heading numbers."""
    out = []
    for m in FIGURE.finditer(text):
        value = m.group(0).strip()
        is_list_number = re.fullmatch(r"\d{1,2}", value) and text[max(0, m.start() - 1): m.start()] == "(" \
            and text[m.end(): m.end() + 1] == ")"
        if _YEAR.match(value) or is_list_number or _is_heading_number(text, m):
            continue
        out.append(value)
    return out


def _is_heading_number(text: str, m: re.Match[str]) -> bool:
    """"1. Công tác …", "1.1. Về kinh tế", "2) …" open a heading or list item: the number is no figure."""
    return (not text[: m.start()].strip(" (") and re.fullmatch(r"\d{1,2}(\.\d{1,2})*", m.group(0).strip()) is not None
            and re.match(r"[.)\-]\s", text[m.end():m.end() + 2]) is not None)


@lru_cache(maxsize=1)
def _flow_words() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(the reports' phrase, the words a question may use for it), folded, from ``data/count_flows.txt``."""
    if not _FLOWS_FILE.exists():
        return ()
    lines = [line.strip() for line in _FLOWS_FILE.read_text(encoding="utf-8").splitlines()]
    rows = [[fold(p.strip()) for p in line.split("|")] for line in lines if line and not line.startswith("#")]
    return tuple((row[0], tuple(row)) for row in rows)


def is_flow_count(folded: str, start: int, question_folded: str) -> bool:
    """Is the count at ``start`` what was done to some ("kết nạp 208 đảng viên"), not how many there are?

    Only when the question does not itself ask about that ("how many members were admitted")."""
    clause = re.split(r"[;.]\s", folded[max(0, start - 40): start])[-1]
    return any(phrase in clause and not any(re.search(rf"\b{re.escape(a)}", question_folded) for a in asked)
               for phrase, asked in _flow_words())


def score_window(window: Window, query: Query, terms: list[Term], idf: IdfTable,
                 model: AnswerModel | None, dense_sim: float = 0.0, asked: QuestionIndicators | None = None) -> Window:
    """Measure a window against the question, then let the fitted model judge it."""
    # The heading counts too: "III- CÁC KHÂU ĐỘT PHÁ" is what its items "1. …", "2. …" are about.
    folded = fold_expanded(f"{_last_title(window.passage)} {window.text}")
    total = sum(t.weight for t in terms) or 1.0
    window.matched = [t for t in terms if any(contains(folded, a, t.translated) for a in t.alternatives)]
    window.coverage = sum(t.weight for t in window.matched) / total if terms else 0.0
    top = max(terms, key=lambda t: t.weight) if terms else None
    window.has_top_term = top is None or top in window.matched
    window.figures = content_figures(window.text)
    window.keys = asked.keys_of(window.passage, window.text) if asked else set()
    window.features = window_features(window, query, terms, dense_sim, idf.idf, asked)
    window.score = model.probability(window.features) if model else 0.0
    window.threshold = model.threshold if model else 1.01
    window.min_coverage = model.min_coverage if model else 0.0
    return window


def _last_title(p: Passage) -> str:
    return p.section.rsplit("›", 1)[-1] if p.section else ""




def figure_with_unit(text: str, unit: str | None) -> bool:
    """Does the text hold a figure of the unit asked for ("… ha", "…%", "… km2")?"""
    if unit is None:
        return bool(content_figures(text))
    folded = fold(text)
    if unit == "%":
        return re.search(r"\d\s*%", text) is not None
    if unit == "đồng":  # an amount of money: "30 triệu đồng", "2 tỷ đồng", "749 triệu"
        return re.search(r"\d\s*(trieu|ty|nghin|dong)\b", folded) is not None
    unit_f = fold(unit)
    return re.search(rf"\d\s*{re.escape(unit_f)}(?![a-z0-9])", folded) is not None


def best_windows(query: Query, hits: list[Hit], idf: IdfTable, model: AnswerModel | None = None,
                 similarity: dict[str, float] | None = None,
                 asked: QuestionIndicators | None = None) -> tuple[list[Window], list[Term]]:
    """All candidate windows, most likely answer first (``asked``: the question's indicators)."""
    terms = question_terms(query, idf)
    sims = similarity or {}
    windows = [score_window(w, query, terms, idf, model, sims.get(hit.passage.id, 0.0), asked)
               for rank, hit in enumerate(hits) for w in windows_of(hit, rank)]
    windows.sort(key=lambda w: (-w.score, -w.coverage, w.rank))
    return windows, terms


def rescore(windows: list[Window], model: AnswerModel | None) -> None:
    """Judge already measured windows with another model (fitting and cross-validation)."""
    for w in windows:
        w.score = model.probability(w.features) if model else 0.0
        w.threshold = model.threshold if model else 1.01
        w.min_coverage = model.min_coverage if model else 0.0
    windows.sort(key=lambda w: (-w.score, -w.coverage, w.rank))


def answers_question(window: Window, query: Query, terms: list[Term]) -> bool:
    """Does this window really answer, or is it only the nearest text?

    The fitted model decides (its probability against its fitted threshold); what no
    probability can outweigh is checked first: a date question needs a date, a figure
    question a figure (of the unit asked for).
    """
    return passes_gates(window, query, terms) and window.score >= window.threshold


def passes_gates(window: Window, query: Query, terms: list[Term]) -> bool:
    """The hard requirements of the question, whatever the model thinks of the window."""
    if not terms or not window.matched:
        return False  # nothing of the question's topic is in it: only the nearest text
    if window.min_coverage and (window.coverage < window.min_coverage or not window.has_top_term):
        return False  # the fitted gate: too little of the topic, or not its most specific term
    if query.wants_date and not DATE.search(window.text):
        return False  # "from what date …": text without a date does not answer
    if query.wants_figure and query.unit_hint and not figure_with_unit(window.text, query.unit_hint):
        return query.unit_hint == "%" and bool(window.figures) and _percent_optional(query)
    return not (query.wants_figure and not window.figures and not _allows_words(window))


def _percent_optional(query: Query) -> bool:
    """"Tỷ lệ"/"rate" questions can be answered by counts ("14/14 trường", "6/6")."""
    return not re.search(r"%|percent|phan tram", query.folded)


def _allows_words(window: Window) -> bool:
    """Some figures are words: "không còn hộ nghèo", "100%" spelled as "toàn bộ"."""
    return bool(re.search(r"khong con|toan bo|tat ca|xa dat chuan|kieu mau", fold(window.text)))
