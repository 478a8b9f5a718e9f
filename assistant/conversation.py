"""Follow-ups: turn "and Bó Sinh?", "compare them" or "còn nhiệm kỳ trước?" into a full question.

Rule-based and transparent. The conversation is replayed turn by turn from the user's own
questions (our earlier answers can be recomputed from them, and text another client put in an
assistant turn is never a source of figures). Each turn either sets a topic (a question that
names an indicator of its own) or follows up on the last topic:

- a new place: "and Bó Sinh?" → the same topic for Bó Sinh; after a comparison table, a commune
  not in the table is added to it ("and Mai Sơn?" → the table with Mai Sơn), one already in it is
  answered alone (a user zooming in);
- a comparison: "compare them", "so sánh hai xã này" → every commune named since the topic was
  set; "compare with Mai Sơn" → the communes just discussed plus Mai Sơn; "the same for all
  communes", "các xã khác thì sao?" → every commune;
- a ranking: "which is higher?", "xã nào thấp hơn?" → the comparison, with the highest/lowest named;
- a period: "and in 2020-2025?", "còn nhiệm kỳ trước?", "what was achieved?" → the same topic and
  communes (the same table after a table), that period; it stays for the next follow-ups;
- a new topic led by a follow-up word and naming no place ("and the poverty rate?", "còn tỷ lệ hộ
  nghèo?") keeps the communes under discussion.

A complete question (its own topic, and a commune or no follow-up word) is never rewritten.
The cue words are data: ``data/follow_up_cues.tsv``.
"""

from __future__ import annotations

import copy
import csv
import re
import unicodedata
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from assistant.query import Query, find_communes
from baocao.config import DATA_FILES
from index.communes import CommuneRegistry
from index.schema import PERIOD_PLAN, PERIOD_REVIEW
from index.text import fold

CUES_PATH = DATA_FILES / "follow_up_cues.tsv"
MAX_TURNS = 12  # user turns replayed: a topic set further back than this is not what "and Bó Sinh?" means

Parse = Callable[[str], Query]


@dataclass(frozen=True)
class Cues:
    """Folded cue phrases by kind, longest first."""

    by_kind: dict[str, tuple[str, ...]]

    def phrases(self, kind: str) -> tuple[str, ...]:
        return self.by_kind.get(kind, ())

    def all(self) -> tuple[str, ...]:
        return tuple(sorted({p for ps in self.by_kind.values() for p in ps}, key=len, reverse=True))


@lru_cache(maxsize=4)
def load_cues(path: Path = CUES_PATH) -> Cues:
    kinds: dict[str, set[str]] = {}
    if path.exists():
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
        for row in csv.DictReader(lines, delimiter="\t"):
            cue = _words(row.get("cue") or "")
            if cue and row.get("kind"):
                kinds.setdefault(row["kind"].strip(), set()).add(cue)
    return Cues({k: tuple(sorted(v, key=len, reverse=True)) for k, v in kinds.items()})


def _words(text: str) -> str:
    """Folded words separated by single spaces: how cues and questions are compared."""
    return re.sub(r"[^a-z0-9]+", " ", fold(unicodedata.normalize("NFC", text))).strip()


def _has(words: str, phrase: str) -> bool:
    return f" {phrase} " in f" {words} "


def _starts(words: str, phrase: str) -> bool:
    return f" {words} ".startswith(f" {phrase} ")


def _ends(words: str, phrase: str) -> bool:
    return f" {words} ".endswith(f" {phrase} ")


@dataclass
class Turn:
    """What one user turn adds: its own topic, places, period and what it asks of them."""

    query: Query
    own_topic: bool
    lead: bool  # opens or closes like a follow-up: "and …", "còn …", "… thì sao?"
    compare: bool
    refer: bool  # "them", "hai xã này", "its"
    rank: str | None  # "high" | "low"
    every: bool = False  # "all communes", "các xã khác": a table of every commune


@dataclass
class State:
    """The topic under discussion and where the conversation stands."""

    topic: str  # the last user question that named a topic, as typed
    topic_query: Query
    communes: list[str]  # the communes the last answer was about ([] = every commune)
    named: list[str]  # every commune named since the topic was set, in order
    period: str | None
    period_explicit: bool
    table: bool  # the last answer was a comparison table
    rank: str | None = None


_CACHES: dict[int, dict[str, dict]] = {}  # id of the parser's owner → its memo tables
CACHE_SIZE = 2048


def _memo(parse: Parse, table: str) -> dict:
    """Memo tables per assistant, dropped when the assistant is (it holds the glossary and registry)."""
    owner = getattr(parse, "__self__", parse)
    key = id(owner)
    if key not in _CACHES:
        _CACHES[key] = {}
        weakref.finalize(owner, _CACHES.pop, key, None)
    tables = _CACHES[key]
    memo = tables.setdefault(table, {})
    if len(memo) > CACHE_SIZE:
        memo.clear()
    return memo


def _parsed(parse: Parse, text: str) -> Query:
    memo = _memo(parse, "parse")
    if text not in memo:
        memo[text] = parse(text)
    return memo[text]


def _parse(parse: Parse, text: str) -> Query:
    """Parse once per text: each question re-reads the whole conversation, so its turns recur.
    A copy, because a resolved query gets its own communes, period and ranking (fields are reassigned,
    never mutated in place)."""
    query = copy.copy(_parsed(parse, text))
    query.communes = list(query.communes)
    return query


def _read_cached(parse: Parse, question: str, query: Query, registry: CommuneRegistry, cues: Cues) -> Turn:
    memo = _memo(parse, "turn")
    if question not in memo:
        memo[question] = read_turn(question, _parsed(parse, question), registry, cues)
    return replace(memo[question], query=query)


def read_turn(question: str, query: Query, registry: CommuneRegistry, cues: Cues) -> Turn:
    words = _words(question)
    lead = any(_starts(words, p) for p in cues.phrases("lead")) or any(_ends(words, p) for p in cues.phrases("tail"))
    # "compared with the target" asks whether a target was met, not for other communes
    compare = any(_has(words, p) for p in cues.phrases("compare")) and not query.wants_assessment
    refer = any(_has(words, p) for p in cues.phrases("refer"))
    low = any(_has(words, p) for p in cues.phrases("lower"))
    high = any(_has(words, p) for p in cues.phrases("higher"))
    rank = "low" if low else ("high" if high else None)
    every = any(_has(words, p) for p in cues.phrases("all"))
    return Turn(query, _own_topic(words, query, registry, cues), lead, compare, refer, rank, every)


def _own_topic(words: str, query: Query, registry: CommuneRegistry, cues: Cues) -> bool:
    """Does the question name an indicator of its own, once cue words and place names are taken out?"""
    rest = f" {words} "
    for name in sorted({_words(n) for c in registry.communes.values() for n in c.all_names()}, key=len, reverse=True):
        rest = rest.replace(f" {name} ", " | ")
    for phrase in cues.all():
        rest = rest.replace(f" {phrase} ", " | ")
    left = set(rest.split())
    return (any(set(c.source.split()) & left for c in query.concepts)
            or any(t in left for t in query.content_tokens) or any(w in left for w in query.unmapped))


def resolve(question: str, history: list[dict] | None, registry: CommuneRegistry,
            parse: Parse) -> tuple[str, Query]:
    """The standalone question to answer, and its parsed form."""
    cues = load_cues()
    state: State | None = None
    users = [t["content"].strip() for t in (history or [])
             if isinstance(t, dict) and t.get("role") == "user" and isinstance(t.get("content"), str)
             and t["content"].strip()]
    for previous in users[-MAX_TURNS:]:
        _, _, state = _step(previous, state, registry, parse, cues)
    text, query, _ = _step(question, state, registry, parse, cues)
    return text, query


def _step(question: str, state: State | None, registry: CommuneRegistry, parse: Parse,
          cues: Cues) -> tuple[str, Query, State | None]:
    """Resolve one user turn against the state so far; return it and the new state."""
    query = _parse(parse, question)
    turn = _read_cached(parse, question, query, registry, cues)
    if state is None or (turn.own_topic and (query.communes or not (turn.lead or turn.refer))):
        if not turn.own_topic:
            return question, query, state  # nothing to follow, and no topic to remember
        return question, query, _fresh(question, query)
    if turn.own_topic:  # "and the poverty rate?": a new topic for the communes under discussion
        communes = state.named if (turn.compare or turn.rank) and len(state.named) >= 2 else state.communes
        communes = registry.names() if turn.every else communes
        new_state = _fresh(question, query)
        if not query.period_explicit:  # the period under discussion stays
            new_state.period, new_state.period_explicit = state.period, state.period_explicit
        text, resolved = _build(new_state, communes, turn, registry, parse,
                                table=(turn.compare or bool(turn.rank) or turn.every
                                       or (state.table and len(communes) != 1)))
        new_state.communes, new_state.named = list(communes), list(communes)
        new_state.table = resolved.compare
        return text, resolved, new_state
    communes, table = _communes_for(turn, state, registry)
    text, resolved = _build(state, communes, turn, registry, parse, table=table)
    named = list(dict.fromkeys(state.named + query.communes))
    new_state = replace(state, communes=list(resolved.communes) if resolved.communes else [], named=named,
                        period=resolved.period, period_explicit=resolved.period_explicit,
                        table=resolved.compare, rank=resolved.rank)
    return text, resolved, new_state


def _fresh(question: str, query: Query) -> State:
    return State(topic=question, topic_query=query, communes=list(query.communes), named=list(query.communes),
                 period=query.period, period_explicit=query.period_explicit, table=query.compare,
                 rank=query.rank)


def _communes_for(turn: Turn, state: State, registry: CommuneRegistry) -> tuple[list[str], bool]:
    """Which communes a topic-less follow-up is about, and whether it wants a table."""
    new = list(turn.query.communes)
    current = state.communes or ([] if not state.table else registry.names())
    if turn.every:
        return registry.names(), True
    if turn.compare or turn.rank:
        if len(new) >= 2:
            return new, True
        if new:
            base = current if set(current) - set(new) else state.named
            return list(dict.fromkeys(base + new)), True
        return (state.named if len(state.named) >= 2 else current), True
    if new:
        if state.table and not set(new) <= set(current):
            return list(dict.fromkeys(current + new)), True
        return new, len(new) >= 2
    return current, state.table


def _build(state: State, communes: list[str], turn: Turn, registry: CommuneRegistry, parse: Parse,
           table: bool) -> tuple[str, Query]:
    """The topic question rewritten for these communes, this period and this ranking."""
    language = state.topic_query.language
    if table and len(communes) < 2:
        communes = registry.names()
    every = set(communes) == set(registry.names()) and not state.topic_query.communes
    text = _rewritten(parse, state.topic, communes, registry) if communes and not every else state.topic
    period, explicit = state.period, state.period_explicit
    if turn.query.period_explicit:
        period, explicit = turn.query.period, True
    if explicit and period and period != state.topic_query.period:
        text = f"{text} ({_period_phrase(period)})"
    rank = turn.rank or (state.rank if table else None)
    if table and rank and rank != state.topic_query.rank:
        text = f"{text} ({_rank_phrase(rank, language)})"
    query = _parse(parse, text)
    query.communes = list(communes)
    query.compare = table
    query.rank = rank if table else None
    if explicit:
        query.period, query.period_explicit = period, True
    return text, query


def _rewritten(parse: Parse, topic: str, communes: list[str], registry: CommuneRegistry) -> str:
    """``_rewrite`` once per topic and communes (the conversation is replayed for every question)."""
    memo = _memo(parse, "rewrite")
    key = (topic, tuple(communes))
    if key not in memo:
        memo[key] = _rewrite(topic, _parsed(parse, topic), communes, registry)
    return memo[key]


def _rewrite(previous: str, prev_q: Query, communes: list[str], registry: CommuneRegistry) -> str:
    """Put the new communes where the previous question named its own ("of A and B" → "of C")."""
    text = unicodedata.normalize("NFC", previous)
    folded = fold(text)  # fold keeps NFC lengths, so spans carry over
    names = sorted({fold(n) for c in prev_q.communes for n in registry.communes[c].all_names()}, key=len,
                   reverse=True)
    spans: list[tuple[int, int]] = []
    for name in names:
        for m in re.finditer(rf"(?<![a-z]){re.escape(name)}(?![a-z])", folded):
            if not any(s <= m.start() < e for s, e in spans):
                spans.append((m.start(), m.end()))
    every = len(communes) > 2 and set(communes) == set(registry.names())
    joined = (" and " if prev_q.language == "en" else " và ").join(communes)
    if every:  # "What is all communes' forest-cover target?" reads better than five names
        joined = "all communes" if prev_q.language == "en" else "tất cả các xã"
    if not spans:
        return f"{text} ({joined})"
    spans.sort()
    groups = [list(spans[0])]
    for start, end in spans[1:]:  # "Mường La and Bó Sinh", "Mường La, Bó Sinh và Mai Sơn": one place slot
        if re.fullmatch(r"\s*(,|&|and|và|va|with|với|voi|or|hoặc|hoac)?\s*(,|and|và|va)?\s*(xã|xa|commune)?\s*",
                        folded[groups[-1][1]:start]):
            groups[-1][1] = end
        else:
            groups.append([start, end])
    out = text
    for start, end in reversed(groups[1:]):
        out = out[:start] + out[end:]
    start, end = groups[0]
    out = re.sub(r"\s{2,}", " ", out[:start] + joined + out[end:]).strip()
    out = out.replace("all communes's", "all communes'")
    found, _ = find_communes(out, registry)
    return out if every or set(found) >= set(communes) else f"{out} ({joined})"


def _period_phrase(period: str) -> str:
    return "2020-2025" if period == PERIOD_REVIEW else "2025-2030" if period == PERIOD_PLAN else period


def _rank_phrase(rank: str, language: str) -> str:
    if language == "en":
        return "lowest" if rank == "low" else "highest"
    return "thấp nhất" if rank == "low" else "cao nhất"
