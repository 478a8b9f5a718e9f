"""Split a cleaned report into passages along its own structure.

A numbered target ("(7)- Tỷ lệ che phủ rừng đạt 51,51% trở lên.") is one passage, never cut
and never glued to its neighbour; prose paragraphs are passages, split at sentences when
they outgrow what the embedder reads; footnote bodies and rebuilt table rows are passages
of their own kinds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from index.cleaning import ROLE_FOOTNOTE, ROLE_TABLE, ROLE_TEXT, Block, CleanLine, clean_lines, marker_prefix
from index.communes import CommuneInfo
from index.paragraphs import ITEM_START, build_blocks
from index.periods import LIST_ITEM, Run, period_runs
from index.schema import (
    KIND_FOOTNOTE,
    KIND_PROSE,
    KIND_RESULT_ITEM,
    KIND_TABLE_ROW,
    KIND_TARGET,
    PERIOD_REVIEW,
    Passage,
)
from index.structure import Heading, Section, annotate, item_number
from index.tables import rebuild_rows
from index.text import fold, sentences

TokenCounter = Callable[[str], int]
_TABLE_TITLE = re.compile(r"^(BIỂU SỐ|Biểu số)\s*\d+")


def build_passages(
    file_name: str, raw_lines: list[str], commune: CommuneInfo, count_tokens: TokenCounter, max_tokens: int
) -> list[Passage]:
    """All passages of one report, in file order, without duplicates."""
    clean = clean_lines(raw_lines)
    line_text = {line.no: line.text for line in clean}
    blocks = build_blocks(clean)
    annotated = annotate(blocks)
    by_sentence = _sentence_periods(annotated)
    notes = _footnote_contexts(clean)
    out: list[Passage] = []
    pending_table: list[tuple[Block, Section]] = []
    open_item: tuple[Block, Section] | None = None
    for block, section, is_heading in annotated:
        if block.role == ROLE_TABLE:
            pending_table.append((block, section))
            continue
        out.extend(_table_passages(pending_table, file_name, commune))
        pending_table = []
        if is_heading:
            out.extend(_close_item(open_item, file_name, commune, count_tokens, max_tokens, line_text, by_sentence))
            open_item = None
            continue
        if block.role == ROLE_FOOTNOTE:
            out.append(_passage(file_name, commune, block.text, block, block, _noted(section, block, notes),
                                KIND_FOOTNOTE))
            continue
        if open_item and _belongs_to_item(block, open_item[0], open_item[1], section):
            open_item = (_merge(open_item[0], block), open_item[1])
            continue
        out.extend(_close_item(open_item, file_name, commune, count_tokens, max_tokens, line_text, by_sentence))
        open_item = (block, section)
    out.extend(_close_item(open_item, file_name, commune, count_tokens, max_tokens, line_text, by_sentence))
    out.extend(_table_passages(pending_table, file_name, commune))
    return _dedupe(sorted(out, key=lambda p: (p.line_start, p.line_end)))


def _sentence_periods(annotated: list[tuple[Block, Section, bool]]) -> dict[int, tuple[str | None, bool]] | None:
    """For a document whose sections give no period (a newspaper summary, a bare list), the period
    each paragraph starts in (by its first line) and whether that period is imposed on it; None
    for a document structured like the reports.

    Cue-less sentences continue the period of the text before them, across paragraphs too: a
    summary reviews the term first and sets the targets after. The items of a list introduced by
    "… nhiệm kỳ 2025-2030 như sau:" all take the period of that introduction, whatever verb they use.
    """
    if any(section.period for _, section, _ in annotated):
        return None
    starts: dict[int, tuple[str | None, bool]] = {}
    current: str | None = None
    list_period: str | None = None
    for block, _, is_heading in annotated:
        if block.role != ROLE_TEXT or is_heading:
            continue
        if list_period and LIST_ITEM.match(block.text):
            starts[block.line_start] = (list_period, True)
            continue
        starts[block.line_start] = (current, False)
        runs = period_runs(block.text, current)
        current = next((r.period for r in reversed(runs) if r.period), current)
        list_period = current if block.text.rstrip().endswith(":") else None
    return starts


def _footnote_contexts(lines: list[CleanLine]) -> dict[str, list[tuple[int, str]]]:
    """For each footnote number, where its markers stand and the words just before each one."""
    contexts: dict[str, list[tuple[int, str]]] = {}
    texts = [ln for ln in lines if ln.role == ROLE_TEXT]
    for i, line in enumerate(texts):
        for marker in line.markers:
            before = marker_prefix(line.raw, marker)
            if i:
                before = f"{texts[i - 1].text} {before}"
            contexts.setdefault(marker, []).append((line.no, before[-160:].strip()))
    return contexts


def _noted(section: Section, block: Block, notes: dict[str, list[tuple[int, str]]]) -> Section:
    """A footnote body is about the sentence its marker follows ("che phủ rừng đạt 54,57%²"):
    name that sentence in the footnote's section so the passage can be found by its topic."""
    number = re.match(r"^([1-9]\d?)", block.text)
    refs = [c for no, c in notes.get(number.group(1), []) if no < block.line_start] if number else []
    if not refs:
        return section
    note = Heading(9, f"Chú thích {number.group(1)}: “…{refs[-1][-70:].strip()}”", block.line_start)
    return Section([*section.path, note])


def _belongs_to_item(block: Block, item: Block, item_section: Section, section: Section) -> bool:
    """Does ``block`` continue the open item or paragraph?

    In a target list, a paragraph that starts no new item continues the previous item. In
    prose, a lone short sentence ("Tỷ lệ hộ nghèo giảm còn 8,9%.") joins the paragraph just
    before it: alone it is too short to retrieve well.
    """
    if section.label != item_section.label or ITEM_START.match(block.text):
        return False
    if section.in_target_list:
        return True
    near = block.line_start - item.line_end <= 2
    return near and len(block.text.split()) < 20 and item_number(item.text) is None


def _merge(first: Block, second: Block) -> Block:
    return Block(f"{first.text} {second.text}", first.line_start, second.line_end, first.role,
                 first.lines + second.lines)


def _close_item(
    item: tuple[Block, Section] | None, file_name: str, commune: CommuneInfo,
    count_tokens: TokenCounter, max_tokens: int, line_text: dict[int, str],
    by_sentence: dict[int, tuple[str | None, bool]] | None = None,
) -> list[Passage]:
    if item is None:
        return []
    block, section = item
    number = item_number(block.text)
    if by_sentence is not None and block.role == ROLE_TEXT:
        inherited, imposed = by_sentence.get(block.line_start, (None, False))
        return _period_passages(block, section, file_name, commune, count_tokens, max_tokens, line_text,
                                inherited, imposed)
    kind = KIND_PROSE
    if number and section.in_target_list:
        kind = KIND_TARGET
    elif number and section.period == PERIOD_REVIEW and re.search(r"\bđạt\b|kết quả", block.text, re.I):
        kind = KIND_RESULT_ITEM
    if kind != KIND_PROSE or count_tokens(block.text) <= max_tokens:
        return [_passage(file_name, commune, block.text, block, block, section, kind, number)]
    return list(_split_long(block, section, file_name, commune, count_tokens, max_tokens, line_text))


def _period_passages(
    block: Block, section: Section, file_name: str, commune: CommuneInfo, count_tokens: TokenCounter,
    max_tokens: int, line_text: dict[int, str], inherited: str | None, imposed: bool,
) -> list[Passage]:
    """A paragraph cut where its period changes (``index.periods``), each piece with its own period
    and its own exact lines; a piece longer than the embedder reads is cut at sentences."""
    out: list[Passage] = []
    offset = 0
    runs = [Run(block.text, inherited)] if imposed else period_runs(block.text, inherited)
    for run in runs:
        text = run.text
        windows = [[text]] if count_tokens(text) <= max_tokens else _sentence_windows(text, count_tokens, max_tokens)
        where = _in_sentence(section, run.subject, block.line_start)
        for window in windows:
            passage, offset = _window_passage(window, block, where, file_name, commune, line_text, offset,
                                              run.period)
            out.append(passage)
    return out


def _in_sentence(section: Section, subject: str | None, line: int) -> Section:
    """A piece cut from inside a sentence names the sentence's opening words in its section (as a
    footnote names the sentence it explains), so it is found by its topic."""
    if not subject:
        return section
    return Section([*section.path, Heading(9, f"Câu: “{subject} …”", line)])


def _sentence_windows(text: str, count_tokens: TokenCounter, max_tokens: int) -> list[list[str]]:
    windows: list[list[str]] = [[]]
    for sentence in sentences(text):
        if windows[-1] and count_tokens(" ".join([*windows[-1], sentence])) > max_tokens:
            windows.append([])
        windows[-1].append(sentence)
    return windows


def _split_long(
    block: Block, section: Section, file_name: str, commune: CommuneInfo,
    count_tokens: TokenCounter, max_tokens: int, line_text: dict[int, str],
) -> Iterable[Passage]:
    """Windows of whole sentences that fit the embedder; line ranges narrowed to each window."""
    window: list[str] = []
    offset = 0  # where the next window starts in block.text: a repeated sentence is found in its place
    for sentence in sentences(block.text):
        if window and count_tokens(" ".join([*window, sentence])) > max_tokens:
            passage, offset = _window_passage(window, block, section, file_name, commune, line_text, offset)
            yield passage
            window = []
        window.append(sentence)
    if window:
        yield _window_passage(window, block, section, file_name, commune, line_text, offset)[0]


def _window_passage(window: list[str], block: Block, section: Section, file_name: str, commune: CommuneInfo,
                    line_text: dict[int, str], offset: int, period: str | None = None) -> tuple[Passage, int]:
    """The passage of one window, and where in ``block.text`` the window ends."""
    text = " ".join(window)
    found = block.text.find(window[0], offset)
    start = found if found >= 0 else offset
    chars = len(_squash(text))
    line_start, line_end = _lines_for_span(block, start, chars, line_text)
    span = Block(text, line_start, line_end)
    end = start
    for consumed, ch in enumerate(block.text[start:], start=start):  # advance past ``chars`` non-spaces
        if chars == 0:
            break
        if not ch.isspace():
            chars -= 1
        end = consumed + 1
    return _passage(file_name, commune, text, span, span, section, KIND_PROSE, period=period), end


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _lines_for_span(block: Block, start: int, chars: int, line_text: dict[int, str]) -> tuple[int, int]:
    """The exact lines a span of a joined block came from (``chars`` non-space characters at ``start``).

    Joining lines only adds or removes whitespace, so counting non-space characters maps a span
    of the block back to the lines it was read from.
    """
    lines = block.lines or [block.line_start]
    lengths = [len(_squash(line_text.get(no, ""))) for no in lines]
    if sum(lengths) != len(_squash(block.text)):  # should not happen; keep the whole block's range
        return block.line_start, block.line_end
    first_char = len(_squash(block.text[:start]))
    last_char = first_char + max(chars, 1) - 1
    first = last = lines[-1]
    seen = 0
    found_first = False
    for no, length in zip(lines, lengths, strict=True):
        if length and not found_first and first_char < seen + length:
            first, found_first = no, True
        if length and last_char < seen + length:
            last = no
            break
        seen += length
    return first, last


def _passage(file_name: str, commune: CommuneInfo, text: str, first: Block, last: Block, section: Section,
             kind: str, number: str | None = None, period: str | None = None) -> Passage:
    group = section.path[-1].title if kind == KIND_TARGET and section.path else None
    return Passage(
        file=file_name, commune=commune.name, text=text, line_start=first.line_start,
        line_end=last.line_end, section=section.label, period=period or section.period, kind=kind,
        unit=_unit_of(section, commune), number=number, group=group,
    )


def _unit_of(section: Section, commune: CommuneInfo) -> str | None:
    """The former commune a section is about ("2.2. Đối với xã Pú Bẩu cũ", "BIỂU SỐ 02 … XÃ PÚ BẨU")."""
    titles = fold(" ".join(section.titles()[1:] or section.titles()))
    for unit in commune.former_units:
        if re.search(rf"\b(xa|thi tran)\s+{re.escape(fold(unit))}\b", titles):
            return unit
    return None


def _table_passages(table_blocks: list[tuple[Block, Section]], file_name: str,
                    commune: CommuneInfo) -> list[Passage]:
    """One passage per rebuilt row; each "BIỂU SỐ" starts a new table."""
    out: list[Passage] = []
    for table in _split_tables(table_blocks):
        header, rows = rebuild_rows([b for b, _ in table])
        title = " ".join(b.text for b in header[:4])
        section = Section(list(table[0][1].path))
        label = f"{section.label} › {title}" if section.label else title
        unit = next((u for u in commune.former_units if fold(u) in fold(title)), None)
        period = PERIOD_REVIEW if "2020" in title else section.period
        for row in rows:
            out.append(Passage(
                file=file_name, commune=commune.name, text=row.text, line_start=row.line_start,
                line_end=row.line_end, section=f"{label} › {row.group or ''}".rstrip(" ›"),
                period=period, kind=KIND_TABLE_ROW, unit=unit, number=row.number, group=row.group,
            ))
    return out


def _split_tables(blocks: list[tuple[Block, Section]]) -> list[list[tuple[Block, Section]]]:
    tables: list[list[tuple[Block, Section]]] = []
    for block, section in blocks:
        if _TABLE_TITLE.match(block.text) or not tables:
            tables.append([])
        tables[-1].append((block, section))
    return tables


def _dedupe(passages: list[Passage]) -> list[Passage]:
    """Drop repeated paragraphs: the same text twice in one report is one passage.

    Table rows are compared within their table only: the same row in the tables of two former
    communes ("Duy trì Trạm y tế … 1 1 100 Đạt") states two facts.
    """
    seen: set[str] = set()
    out = []
    for p in passages:
        key = re.sub(r"\W+", "", fold(p.text))
        if not key:
            continue
        if p.kind == KIND_TABLE_ROW:
            key = f"{p.section}\0{key}"
        if key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out
