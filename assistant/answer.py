"""Compose extractive answers: the figure, whose it is, which period, the quoted source.

No LLM: the answer is built from the best window(s) the evidence module found, worded by
the templates in ``prompts/extractive.toml``, in the question's language, with citations
``[n]`` that map to passages (file, line range, section, text).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.english import english_figure, load_units
from assistant.evidence import Term, Window, answers_question, content_figures, is_flow_count
from assistant.features import names_its_list
from assistant.query import LANG_EN, Query
from assistant.schema import STATUS_ANSWERED, STATUS_NOT_FOUND, Answer, Citation
from assistant.templates import phrase
from index.schema import KIND_TABLE_ROW, PERIOD_PLAN, PERIOD_REVIEW, Passage
from index.tables import read_cells
from index.targets import UNITS
from index.text import ENUMERATOR, FIGURE, fold, sentences

MAX_SUPPORT = 2
ANSWER_DEPTH = 10  # the best-scored windows that may answer; below them it is only nearby text
_UNIT_WORDS = re.compile(r"^\s*(" + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True)) + r")\b",
                         re.IGNORECASE)


def period_label(language: str, period: str | None) -> str:
    key = {PERIOD_PLAN: "period_plan", PERIOD_REVIEW: "period_review"}.get(period or "", "period_none")
    return phrase(language, key)


def citation_for(n: int, p: Passage, figures: list[str] | None = None) -> Citation:
    return Citation(n=n, file=p.file, line_start=p.line_start, line_end=p.line_end, section=p.section,
                    text=p.text, commune=p.commune, period=p.period, figures=figures or [])


def lead_figure(window: Window, query: Query) -> str | None:
    """The figure the question asks for: the first one after the question's most specific term."""
    found = lead_figure_at(window, query)
    return found[1] if found else None


def lead_figure_at(window: Window, query: Query) -> tuple[int, str] | None:
    """Where the asked figure starts in the window's text, and the figure (with its unit word).

    A table row is read by its columns: the result, unless the question asks for the plan.
    """
    text = window.text
    if window.passage.kind == KIND_TABLE_ROW:
        cell = _table_cell(text, query)
        if cell:
            return cell
    figures = content_figures(text)
    if not figures:
        return None
    folded = fold(text)
    anchor = 0
    for term in sorted(window.matched, key=lambda t: -t.weight):
        positions = [m.start() for a in term.alternatives
                     for m in re.finditer(rf"(?<![a-z0-9]){re.escape(a)}(?![a-z0-9])", folded)]
        if positions:
            anchor = min(positions)
            break
    candidates = [(m.start(), m.group(0)) for m in FIGURE.finditer(text) if m.group(0).strip() in figures]
    if query.wants_count:  # a count stands before its noun: "2.487 đảng viên" (the stock, not "kết nạp 208")
        count = _count_before(folded, candidates, window, query)
        if count:
            return count
        before = [c for c in candidates if 0 <= anchor - (c[0] + len(c[1])) <= 12]
        if before:
            start, figure = before[-1]
            return start + len(figure) - len(figure.lstrip()), figure.strip()
    after = [c for c in candidates if c[0] >= anchor] or candidates
    if query.unit_hint == "%":
        with_percent = [c for c in after if c[1].strip().endswith("%")]
        after = with_percent or after
    start, figure = _destination(text, after)
    unit = _UNIT_WORDS.match(text[start + len(figure):])
    shown = (figure.strip() + (" " + unit.group(1) if unit and not figure.strip().endswith("%") else "")).strip()
    return start + len(figure) - len(figure.lstrip()), shown


def _table_cell(text: str, query: Query) -> tuple[int, str] | None:
    """The plan or the result cell of a table row ("… Triệu đồng 18 27,5 152,7 Vượt": plan 18, result 27,5)."""
    cells = read_cells(text)
    column = 0 if query.period == PERIOD_PLAN else 1
    if not cells.unit or not (cells.target if column == 0 else cells.result):
        return None
    values_at = text.rfind(cells.unit) + len(cells.unit)
    values = list(re.finditer(r"\S+", text[values_at:]))
    if len(values) <= column:
        return None
    value = values[column]
    figure = f"{value.group(0)}%" if cells.unit == "%" else f"{value.group(0)} {cells.unit}"
    return values_at + value.start(), figure


def shown_figure(window: Window, query: Query) -> str | None:
    """The asked figure as the answer shows it: as written for Vietnamese, in English form for English."""
    found = lead_figure_at(window, query)
    if found is None:
        return None
    start, figure = found
    return english_figure(window.text, start, figure) if query.language == LANG_EN else figure


def indicator_name(query: Query) -> str:
    """The indicator in the question's own English words: the glossary concepts it matched, else its
    untranslated topic words ("life expectancy"); "" when the question names none."""
    units = {u.vi for u in load_units()}
    names = [c.source for c in query.concepts
             if not any(ch.isdigit() for ch in c.source) and not units & set(c.phrases)][:3]  # not "hectares"
    return ", ".join(names) or " ".join(query.unmapped[:4])


def _count_before(folded: str, candidates: list[tuple[int, str]], window: Window,
                  query: Query) -> tuple[int, str] | None:
    """The first count standing just before the counted noun that is not a flow ("kết nạp 208 đảng viên")."""
    top = max(window.matched, key=lambda t: t.weight, default=None)
    if top is None:
        return None
    nouns = [m.start() for a in top.alternatives for m in re.finditer(rf"(?<![a-z0-9]){re.escape(a)}(?![a-z0-9])",
                                                                       folded)]
    for start, figure in candidates:
        end = start + len(figure)
        if any(0 <= n - end <= 12 for n in nouns) and not is_flow_count(folded, start, query.folded):
            return start + len(figure) - len(figure.lstrip()), figure.strip()
    return None


def _destination(text: str, candidates: list[tuple[int, str]]) -> tuple[int, str]:
    """"giảm từ 528 hộ năm 2025 còn 428 hộ vào năm 2030": the figure asked for is where it ends up."""
    first = candidates[0]
    if len(candidates) > 1 and re.search(r"\btừ\s*$", text[max(0, first[0] - 6): first[0]]):
        between = text[first[0]: candidates[1][0]]
        if re.search(r"\b(còn|xuống|lên|đến|tới)\b", between):
            return candidates[1]
    return first


def single_answer(query: Query, windows: list[Window], terms: list[Term],
                  section: Callable[[Passage], list[Passage]] | None = None) -> Answer:
    """Answer from the best window, or say the reports do not hold it (and what is nearby).

    ``section`` gives the passages of a passage's section: a list question is answered with every
    item of the list the best window belongs to."""
    lang = query.language
    best = next((w for w in windows[:ANSWER_DEPTH] if answers_question(w, query, terms)), None)
    if best is None:
        return _not_found(query, windows[0] if windows else None)
    as_list = query.wants_list or (not query.wants_figure and names_its_list(best, terms))
    items = list_items(best.passage, section(best.passage)) if as_list and section else []
    if len(items) >= 2:
        return _list_answer(query, best, items)
    citations = [citation_for(1, best.passage)]
    record_like = best.passage.kind in ("target", "result_item", "table_row")
    figure = lead_figure(best, query) if query.wants_figure or record_like else None
    unit = _unit_label(best.passage, query) + _indicator_label(query)
    label = period_label(lang, best.passage.period)
    if figure:
        citations[0].figures = [figure]
        lines = [phrase(lang, "lead_figure", commune=best.passage.commune, unit=unit, period=label,
                        figure=shown_figure(best, query) or figure, n=1)]
    else:
        lines = [phrase(lang, "lead_plain", commune=best.passage.commune, unit=unit, period=label, n=1)]
    lines.append(phrase(lang, "quote", quote=best.text, n=1))
    for window in _supporting(best, windows, query, terms):
        n = len(citations) + 1
        citations.append(citation_for(n, window.passage, window.figures[:3]))
        lines.append(phrase(lang, "also", quote=window.text, n=n))
    return Answer(status=STATUS_ANSWERED, answer="\n".join(lines), citations=citations,
                  communes=list(dict.fromkeys([best.passage.commune, *query.communes])),
                  period=best.passage.period, language=lang, confidence=best.score)


def _unit_label(p: Passage, query: Query) -> str:
    units = [u for u in query.units if p.unit and fold(u) == fold(p.unit)] or (
        [u for u in query.units if fold(u) != fold(p.commune)] if query.units else [])
    return phrase(query.language, "unit_part", unit=units[0]) if units else ""


def _indicator_label(query: Query) -> str:
    name = indicator_name(query) if query.language == LANG_EN else ""
    return phrase(query.language, "indicator_part", indicator=name) if name else ""


def _supporting(best: Window, windows: list[Window], query: Query, terms: list[Term]) -> list[Window]:
    """Other windows that add to the best one.

    Kept: for list questions, the other items of the best one's list (its section, in the
    report's order: the items of "03 khâu đột phá như sau:" rarely repeat the heading's words);
    then a window that covers a term the best one misses (the second half of "how many
    criteria, and how many villages"), and one that answers nearly as well (a conflicting or
    per-unit figure).
    """
    out = _list_items(best, windows) if query.wants_list else []
    seen_text = [best.text, *(w.text for w in out)]
    missing = [t for t in terms if t not in best.matched]
    for window in windows[1:]:
        if len(out) >= MAX_SUPPORT + (LIST_ITEMS if query.wants_list else 0):
            break
        if window.passage.commune != best.passage.commune or any(_overlaps(window.text, s) for s in seen_text):
            continue
        if query.period and window.passage.period not in (query.period, None):
            continue
        complements = any(t in window.matched for t in missing) and window.coverage >= 0.5 * best.coverage
        corroborates = window.coverage >= 0.9 * best.coverage and bool(window.figures) == bool(best.figures)
        assesses = query.wants_assessment and window.coverage >= 0.5 * best.coverage and _ASSESSED.search(window.text)
        if (complements or corroborates or assesses) and answers_question(window, query, terms):
            out.append(window)
            seen_text.append(window.text)
    return out


LIST_ITEMS = 8
MAX_LIST_ITEMS = 12  # a section listing more is not one list ("các nhiệm vụ" of a whole chapter)
ITEM_CHARS = 320  # an item is shown by its opening sentences: its heading says what it is


def list_items(best: Passage, section: list[Passage]) -> list[Passage]:
    """The items of the list ``best`` belongs to: the section's passages that open with an enumerator
    ("1.", "(2)", "a)", "Ba là"), in the report's order; [] when the section is no such list."""
    items = sorted((p for p in section if p.file == best.file and ENUMERATOR.match(p.text)),
                   key=lambda p: p.line_start)
    continuation = any(p.line_start <= best.line_start for p in items)  # its item is one above it
    if not (continuation or ENUMERATOR.match(best.text)):
        return []
    return items if 2 <= len(items) <= MAX_LIST_ITEMS else []


def _item_text(text: str) -> str:
    if len(text) <= ITEM_CHARS:
        return text
    out = ""
    for sentence in sentences(text) or [text]:
        if out and len(out) + len(sentence) > ITEM_CHARS:
            break
        out = f"{out} {sentence}".strip()
    return out if len(out) <= ITEM_CHARS * 2 else out[:ITEM_CHARS].rsplit(" ", 1)[0] + " …"


def _list_answer(query: Query, best: Window, items: list[Passage]) -> Answer:
    """Every item of the list, in order, each quoted and cited."""
    lang = query.language
    p = best.passage
    unit = _unit_label(p, query) + _indicator_label(query)
    lines = [phrase(lang, "lead_plain", commune=p.commune, unit=unit, period=period_label(lang, p.period), n=1)]
    citations = []
    for n, item in enumerate(items, 1):
        citations.append(citation_for(n, item))
        lines.append(phrase(lang, "quote" if n == 1 else "also", quote=_item_text(item.text), n=n))
    return Answer(status=STATUS_ANSWERED, answer="\n".join(lines), citations=citations,
                  communes=list(dict.fromkeys([p.commune, *query.communes])), period=p.period, language=lang,
                  confidence=best.score)


def _list_items(best: Window, windows: list[Window]) -> list[Window]:
    """The whole passages of the best window's section, in the report's order (a list's items)."""
    p = best.passage
    items = {w.passage.id: w for w in windows
             if w.passage.file == p.file and w.passage.section == p.section and w.passage.id != p.id
             and w.text == w.passage.text}
    return sorted(items.values(), key=lambda w: w.passage.line_start)[:LIST_ITEMS]


_ASSESSED = re.compile(r"chưa đạt|không đạt|vượt chỉ tiêu|đạt chỉ tiêu|\bVượt\b|\bĐạt\b", re.IGNORECASE)


def _overlaps(a: str, b: str) -> bool:
    return a in b or b in a


def _not_found(query: Query, nearest: Window | None) -> Answer:
    lang = query.language
    scope = ""
    if query.communes:
        scope += phrase(lang, "scope_commune", commune=", ".join(query.communes))
    if query.period:
        scope += phrase(lang, "scope_period", period=period_label(lang, query.period))
    lines = [phrase(lang, "not_found", scope=scope)]
    citations: list[Citation] = []
    if nearest is not None and nearest.coverage > 0:
        citations.append(citation_for(1, nearest.passage))
        where = f" ({nearest.passage.commune})"
        lines.append(phrase(lang, "not_found_nearby", where=where, quote=nearest.text, n=1))
    return Answer(status=STATUS_NOT_FOUND, answer="\n".join(lines), citations=citations,
                  communes=list(query.communes), period=query.period, language=lang)



def merge_answers(first: Answer, second: Answer) -> Answer:
    """One answer for a two-part question: the second part's lines and citations follow the first's."""
    offset = len(first.citations)
    known = {(c.file, c.line_start, c.line_end): c.n for c in first.citations}
    mapping: dict[int, int] = {}
    extra: list[Citation] = []
    for c in second.citations:
        key = (c.file, c.line_start, c.line_end)
        if key in known:
            mapping[c.n] = known[key]
        else:
            mapping[c.n] = offset + len(extra) + 1
            extra.append(Citation(**{**c.to_json(), "n": mapping[c.n]}))
    shown = set(first.answer.splitlines())
    body = "\n".join(line for line in second.answer.splitlines()[1:] if line not in shown)
    body = re.sub(r"\[(\d+)\]", lambda m: f"[{mapping.get(int(m.group(1)), int(m.group(1)))}]", body)
    lead = re.sub(r"\[(\d+)\]", lambda m: f"[{mapping.get(int(m.group(1)), int(m.group(1)))}]",
                  second.answer.splitlines()[0])
    text = "\n".join([first.answer, lead, body]).strip()
    return Answer(status=first.status, answer=text, citations=first.citations + extra, communes=first.communes,
                  period=first.period, language=first.language,
                  confidence=min(first.confidence or 0.0, second.confidence or 0.0))
