"""What the answer model sees of a (question, candidate window) pair: named numeric features.

The evidence module finds candidate windows and measures them (topic coverage, figures,
period, kind, former commune); this module turns those measurements into one vector per
window. The weights that combine them are not set here or anywhere by hand: they are fitted
on labelled questions by ``evals/fit.py`` and stored in ``data/answer_model.json``.

Every feature is something a reader would check before trusting a sentence as the answer:
does it speak of what was asked (and only of that: "hộ cận nghèo" is not "hộ nghèo"), does it
hold a figure of the asked kind, is it from the asked period and former commune.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from index.schema import KIND_FOOTNOTE, KIND_PROSE, KIND_RESULT_ITEM, KIND_TABLE_ROW, KIND_TARGET, PERIOD_PLAN
from index.text import DATE, ENUMERATOR, fold, tokens

if TYPE_CHECKING:
    from assistant.evidence import Term, Window
    from assistant.indicators import QuestionIndicators
    from assistant.query import Query

FEATURES: tuple[str, ...] = (
    "coverage",  # IDF-weighted share of the question's topic terms the window holds
    "has_top_term",  # the question's most specific term is in it
    "missing_weight",  # IDF weight of the topic terms it lacks (absolute: one rare missing word matters)
    "missing_translated",  # an English concept (glossary) of the question that the window lacks
    "unmapped_share",  # English topic words no glossary row translates (the window can't be shown to cover them)
    "context_uncovered",  # IDF share of the words naming the window's figure that the question does not ask for
    "retrieval_rank",  # 1 / (1 + fused retrieval rank)
    "lexical_rank",  # 1 / (1 + BM25 rank), 0 if BM25 did not find it
    "dense_rank",  # 1 / (1 + dense rank), 0 if the embedder did not find it
    "dense_sim",  # cosine of question and passage embeddings
    "has_figure",
    "figure_missing",  # the question wants a figure and the window has none
    "unit_ok",  # the question names a unit (ha, %, km, tấn) and the window has a figure in it
    "unit_missing",  # ... and the window has none in it
    "kind_target", "kind_result", "kind_table", "kind_footnote", "kind_prose",
    "plan_target",  # a 2030 question and an item of the "Các chỉ tiêu chủ yếu" list
    "period_match", "period_other",  # the window's period is / is not the question's
    "period_none_explicit",  # the question names a period; the window is background without one
    "year_missing",  # the question names a single year (2023) the window does not mention
    "count_ok", "count_percent_only",  # "how many": a count before the noun / only percentages
    "date_ok", "date_missing",  # "from what date": a date is / is not in the window
    "unit_named", "unit_other", "unit_none", "own_unit_breakdown",  # former communes (see _unit_signals)
    "length",  # log of the window's length: long windows cover more by chance
    "title_only",  # the topic matched only in the section heading, not in the text
    # the indicator (lexicon key) of the records the window states, against the question's (assistant/indicators.py)
    "key_none",  # the window states no keyed record
    "key_match",  # one of its keys is the question's lexicon key
    "key_conflict",  # the question has a key, the window has keys, and none is it: a neighbouring indicator
    "key_sim",  # the embedder's similarity of the question and the English name of the window's key
    "key_sim_gap",  # how far that is below the question's most similar indicator name
    "key_top",  # the window's key is the question's most similar indicator name
    "list_item",  # a list question, and the window is an item of a list ("1.", "(2)", "Ba là")
    "list_heading",  # an item of a list whose heading the question names ("lessons" → "bài học kinh nghiệm")
)

_SINGLE_YEAR = re.compile(r"(?<![\d–-])\b(20[12]\d)\b(?!\s*[–-]\s*20)")
_KINDS = {KIND_TARGET: "kind_target", KIND_RESULT_ITEM: "kind_result", KIND_TABLE_ROW: "kind_table",
          KIND_FOOTNOTE: "kind_footnote", KIND_PROSE: "kind_prose"}


def window_features(window: Window, query: Query, terms: list[Term], dense_sim: float,
                    idf: Callable[[str], float], asked: QuestionIndicators | None = None) -> list[float]:
    """The feature vector of one scored window, in the order of ``FEATURES``."""
    from assistant.evidence import figure_with_unit  # local: evidence imports this module

    p = window.passage
    f = dict.fromkeys(FEATURES, 0.0)
    f["coverage"] = window.coverage
    f["has_top_term"] = float(window.has_top_term)
    missing = [t for t in terms if t not in window.matched]
    f["missing_weight"] = sum(t.weight for t in missing)
    f["missing_translated"] = float(any(t.translated for t in missing))
    f["unmapped_share"] = len(query.unmapped) / max(len(terms), 1)
    f["context_uncovered"] = _context_uncovered(window, terms, idf)
    f["retrieval_rank"] = 1.0 / (1 + window.rank)
    f["lexical_rank"] = 0.0 if window.hit.lexical_rank is None else 1.0 / (1 + window.hit.lexical_rank)
    f["dense_rank"] = 0.0 if window.hit.dense_rank is None else 1.0 / (1 + window.hit.dense_rank)
    f["dense_sim"] = dense_sim
    f["has_figure"] = float(bool(window.figures))
    f["figure_missing"] = float(query.wants_figure and not window.figures)
    if query.unit_hint:
        ok = figure_with_unit(window.text, query.unit_hint)
        f["unit_ok"], f["unit_missing"] = float(ok), float(not ok)
    f[_KINDS.get(p.kind, "kind_prose")] = 1.0
    f["plan_target"] = float(query.period == PERIOD_PLAN and p.kind == KIND_TARGET)
    if query.period:
        f["period_match"] = float(p.period == query.period)
        f["period_other"] = float(p.period is not None and p.period != query.period)
        f["period_none_explicit"] = float(query.period_explicit and p.period is None)
    f["year_missing"] = _year_missing(query.text, window.text)
    if query.wants_count:
        f["count_ok"] = float(_counted(window, query.folded))
        f["count_percent_only"] = float(bool(window.figures) and all(x.endswith("%") for x in window.figures))
    if query.wants_date:
        has_date = bool(DATE.search(window.text))
        f["date_ok"], f["date_missing"] = float(has_date), float(not has_date)
    f.update(_unit_signals(window, query))
    f["length"] = math.log(1 + len(window.text)) / 8
    in_text = {id(t) for t in window.matched if any(a in fold(window.text) for a in t.alternatives)}
    f["title_only"] = float(bool(window.matched) and not in_text)
    f.update(_key_signals(window.keys, asked))
    f["list_item"] = float(query.wants_list and ENUMERATOR.match(p.text) is not None)
    f["list_heading"] = float(names_its_list(window, terms))
    return [f[name] for name in FEATURES]


def names_its_list(window: Window, terms: list[Term]) -> bool:
    """Is the window an item of a list whose heading the question names ("lessons" → "Một số bài học
    kinh nghiệm")? Then the question asks for the list, not for the one item nearest its words."""
    from assistant.evidence import contains

    p = window.passage
    title = fold(p.section.rsplit("›", 1)[-1]) if p.section else ""
    return ENUMERATOR.match(p.text) is not None and any(contains(title, a, t.translated) for t in terms
                                                        for a in t.alternatives)


def _key_signals(keys: set[str], asked: QuestionIndicators | None) -> dict[str, float]:
    if not keys or asked is None:
        return {"key_none": 1.0}
    sim = max(asked.similarity.get(k, 0.0) for k in keys)
    return {"key_match": float(bool(keys & asked.lexical)),
            "key_conflict": float(bool(asked.lexical) and not keys & asked.lexical),
            "key_sim": sim, "key_sim_gap": asked.best - sim if asked.similarity else 0.0,
            "key_top": float(asked.top in keys)}


def _context_uncovered(window: Window, terms: list[Term], idf: Callable[[str], float]) -> float:
    """How much of what names the asked figure the question did not ask about.

    The words before a figure, in its own clause, name it: in "tỷ lệ hộ cận nghèo giảm còn 5%"
    they are "tỷ lệ hộ cận nghèo giảm còn". A question about "hộ nghèo" covers all but "cận":
    that rare, uncovered word is what makes the sentence answer another question. A target
    item listing several indicators ("BHYT đạt 100%; BHXH 15%; bảo hiểm thất nghiệp 10%") is
    read at the clause that holds the question's most specific term.
    """
    clauses = [c for c in re.split(r"[;:]", fold(window.text)) if c.strip()]
    top = sorted(window.matched, key=lambda t: -t.weight)
    clause = next((c for t in top for c in clauses if any(_has(c, a) for a in t.alternatives)),
                  clauses[0] if clauses else "")
    first = re.search(r"\d", clause)
    words = [t for t in tokens(clause[: first.start()] if first else clause)[-8:] if not t.isdigit()]
    if not words:
        return 0.0
    asked = {tok for t in terms for a in t.alternatives for tok in a.split()}
    total = sum(idf(w) for w in words) or 1.0
    return sum(idf(w) for w in words if w not in asked) / total


def _has(folded: str, alternative: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(alternative)}(?![a-z0-9])", folded) is not None


def _year_missing(question: str, text: str) -> float:
    years = set(_SINGLE_YEAR.findall(question)) - {"2025", "2030", "2020"}
    return float(bool(years) and not any(y in text for y in years))


def _counted(window: Window, question_folded: str) -> bool:
    """A count of the thing asked about: "2.487 đảng viên", "6 nhà máy thủy điện" (a stock, not a flow)."""
    from assistant.evidence import is_flow_count

    folded = fold(window.text)
    for term in window.matched:
        for alt in term.alternatives:
            for m in re.finditer(rf"\d[\d.,]*\s+(\w+\s+){{0,2}}{re.escape(alt)}(?![a-z0-9])", folded):
                if not is_flow_count(folded, m.start(), question_folded):
                    return True
    return False


def _unit_signals(window: Window, query: Query) -> dict[str, float]:
    """Former communes: is the window about the one asked for, another one, or none?

    The commune's own name is everywhere in its report, so for it only text about the old
    unit counts. "Xã Hát Lót" and "thị trấn Hát Lót" were different units: the kind named in
    the question must match.
    """
    from assistant.evidence import contains

    out = {"unit_named": 0.0, "unit_other": 0.0, "unit_none": 0.0, "own_unit_breakdown": 0.0}
    if not query.units:
        return out
    p = window.passage
    folded = fold(window.text)
    wanted = [fold(u) for u in query.units]
    mentioned = [u for u in wanted if u != fold(p.commune) and contains(folded, u)]
    if query.unit_kind and mentioned:
        other_kind = "thi tran" if query.unit_kind == "xa" else "xa"
        if any(contains(folded, f"{other_kind} {u}") and not contains(folded, f"{query.unit_kind} {u}")
               for u in mentioned):
            out["unit_other"] = 1.0
            return out
    if (p.unit and fold(p.unit) in wanted) or mentioned:
        out["unit_named"] = 1.0
        return out
    own = [u for u in wanted if u == fold(p.commune)]
    if own and any(contains(folded, f"xa {u}") for u in own) and not any(
            contains(folded, fold(o)) for o in query.other_units):
        out["own_unit_breakdown"] = 1.0
        return out
    others = [u for u in query.other_units if contains(folded, fold(u))]
    out["unit_other" if (p.unit or others) else "unit_none"] = 1.0
    return out
