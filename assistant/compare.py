"""Comparisons across communes: one row per commune, its figure, period and citation.

"Compare X of A and B", "which commune has the highest X", "list X for all communes":
each commune is searched on its own (so one report cannot crowd out the others), and a
commune whose report holds no such figure is shown as missing, never as zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from assistant.answer import citation_for, indicator_name, lead_figure, period_label, shown_figure
from assistant.conversation import load_cues
from assistant.evidence import Term, Window, answers_question
from assistant.query import LANG_EN, Query
from assistant.schema import STATUS_ANSWERED, STATUS_NOT_FOUND, Answer, Citation, TableRow
from assistant.templates import phrase
from index.schema import PERIOD_PLAN
from index.text import fold, parse_vn_number

WindowFinder = Callable[[Query, str], tuple[list[Window], list[Term]]]


def compare_answer(query: Query, communes: list[str], find: WindowFinder) -> Answer:
    query = _without_compare_words(query)
    lang = query.language
    period = query.period or PERIOD_PLAN
    rows: list[TableRow] = []
    citations: list[Citation] = []
    scores: list[float] = []
    lines = [phrase(lang, "compare_header", topic=_topic(query), period=period_label(lang, period))]
    shown: dict[str, str] = {}  # commune → the figure as this answer's language writes it
    for commune in communes:
        windows, terms = find(query, commune)
        best = next((w for w in windows[:5] if answers_question(w, query, terms)), None)
        if best is None:
            rows.append(TableRow(commune=commune, figure=None, period=None))
            lines.append(phrase(lang, "compare_missing", commune=commune))
            continue
        figure = lead_figure(best, query) or ""
        shown[commune] = (shown_figure(best, query) or figure) if figure else ""
        scores.append(best.score)
        n = len(citations) + 1
        citations.append(citation_for(n, best.passage, [figure] if figure else []))
        rows.append(TableRow(commune=commune, figure=figure or None, period=best.passage.period,
                             text=best.text, citation=n))
        lines.append(phrase(lang, "compare_row", commune=commune, figure=shown[commune] or "—", n=n)
                     + f" “{best.text}”")
    ranked = _ranked(rows, query.rank)
    if ranked:
        key = "compare_best_low" if query.rank == "low" else "compare_best_high"
        lines.append(phrase(lang, key, best=f"{ranked.commune} ({shown.get(ranked.commune) or ranked.figure})"))
    status = STATUS_ANSWERED if citations else STATUS_NOT_FOUND
    return Answer(status=status, answer="\n".join(lines), citations=citations, communes=communes,
                  period=period, language=lang, table=rows, confidence=min(scores) if scores else None)


def _compare_words() -> set[str]:
    return {w for p in load_cues().phrases("compare") for w in p.split()}


def _without_compare_words(query: Query) -> Query:
    """"… khác nhau thế nào?", "how do they differ": the words that ask for a comparison are not part of
    the indicator a commune's passage must cover."""
    cue_words = _compare_words()
    return replace(query, content_tokens=[t for t in query.content_tokens if t not in cue_words],
                   unmapped=[w for w in query.unmapped if w not in cue_words])


def _topic(query: Query) -> str:
    """What the table compares, in the question's own words ("forest cover", "che phủ rừng")."""
    if query.language == LANG_EN and indicator_name(query):
        return indicator_name(query)
    wanted = set(query.content_tokens[:6]) - _compare_words()  # "so sánh" is no topic
    words = re.findall(r"[^\W\d_]+", query.text)
    phrase = _topic_phrase(words, wanted)
    return phrase or " ".join(query.content_tokens[:6]) or query.text[:60]


def _topic_phrase(words: list[str], wanted: set[str]) -> str:
    """The question's own words for its topic: from the first topic word, through at most two other words
    at a time ("dân số tham gia bảo hiểm y tế"), stopping at a name or a longer gap."""
    out: list[str] = []
    gap: list[str] = []
    for word in words:
        if fold(word) in wanted:
            out += gap + [word]
            gap = []
        elif out and (word[0].isupper() or len(gap) >= 2):
            break
        elif out:
            gap.append(word)
    return " ".join(out[:10])


def _ranked(rows: list[TableRow], rank: str | None) -> TableRow | None:
    if rank is None:
        return None
    valued = [(_magnitude(r.figure), r) for r in rows if r.figure]
    valued = [(v, r) for v, r in valued if v is not None]
    if not valued:
        return None
    return (min if rank == "low" else max)(valued, key=lambda vr: vr[0])[1]


_SCALE = {"tỷ": 1e9, "triệu": 1e6, "nghìn": 1e3, "ngàn": 1e3}


def _magnitude(figure: str | None) -> float | None:
    """A comparable value: "54 tỷ đồng" is larger than "954 triệu đồng"."""
    if not figure:
        return None
    value = parse_vn_number(figure.split()[0].split("-")[0].split("/")[0])
    if value is None:
        return None
    unit = figure.split()[1].lower() if len(figure.split()) > 1 else ""
    return value * _SCALE.get(unit, 1.0)
