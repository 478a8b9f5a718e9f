"""Follow-ups: turn "and Bó Sinh?" or "what about the 2020-2025 result?" into a full question.

Rule-based and transparent: a short question that brings only a commune, a period or a
"compare with" is read against the last full question of the conversation; the rewritten
question is what gets answered (and is returned as ``resolved_question``).
"""

from __future__ import annotations

import re
import unicodedata

from assistant.query import Query, find_communes
from index.communes import CommuneRegistry
from index.text import fold

_FOLLOW_UP = re.compile(
    r"^(and|what about|how about|and what about|same for|con|the con|vay con|va|con xa|so sanh voi|"
    r"compare (it |that )?with|compared (to|with))\b"
)
_FOLLOW_UP_END = re.compile(r"(thi sao|the nao|ra sao|nhu the nao|con thi sao)\s*\??\s*$")
_PERIOD_ONLY = re.compile(r"(2020\s*[-–]\s*2025|2025\s*[-–]\s*2030|result|target|ket qua|muc tieu|chi tieu)")


def resolve(question: str, history: list[dict] | None, registry: CommuneRegistry,
            parse: callable) -> tuple[str, Query]:
    """The standalone question to answer, and its parsed form."""
    query: Query = parse(question)
    previous = _last_full_question(history or [], parse)
    if previous is None or not _is_follow_up(question, query):
        return question, query
    prev_q: Query = parse(previous)
    communes = query.communes or prev_q.communes
    if _asks_to_compare(question):
        communes = list(dict.fromkeys(prev_q.communes + query.communes))
    rewritten = _rewrite(previous, prev_q, communes, registry)
    if query.period_explicit and query.period != prev_q.period:
        rewritten = f"{rewritten} ({_period_phrase(query)})"
    return rewritten, parse(rewritten)


def _last_full_question(history: list[dict], parse: callable) -> str | None:
    for turn in reversed(history):
        if turn.get("role") == "user" and isinstance(turn.get("content"), str):
            content = turn["content"].strip()
            parsed = parse(content) if content else None
            if parsed and (parsed.content_tokens or parsed.concepts):  # a glossary topic is content too
                return content
    return None


def _is_follow_up(question: str, query: Query) -> bool:
    folded = fold(question).strip()
    if _FOLLOW_UP.match(folded) or (_FOLLOW_UP_END.search(folded) and len(folded.split()) <= 10):
        return True
    few_words = len(folded.split()) <= 6
    complete = bool(query.concepts and query.communes)  # "What is Mường La's forest-cover target?" stands alone
    return few_words and not complete and (not query.content_tokens or bool(_PERIOD_ONLY.search(folded)))


def _asks_to_compare(question: str) -> bool:
    return bool(re.search(r"so sanh|compare", fold(question)))


def _rewrite(previous: str, prev_q: Query, communes: list[str], registry: CommuneRegistry) -> str:
    """Put the new communes where the previous question named its own."""
    text = unicodedata.normalize("NFC", previous)
    names = sorted({fold(n) for c in prev_q.communes for n in registry.communes[c].all_names()}, key=len, reverse=True)
    joined = " and ".join(communes) if prev_q.language == "en" else " và ".join(communes)
    replaced = False
    for name in names:
        m = re.search(rf"(?<![a-z]){re.escape(name)}(?![a-z])", fold(text))  # fold keeps NFC lengths
        if m:
            text = text[: m.start()] + ("" if replaced else joined) + text[m.end():]
            replaced = True
    if not replaced:
        text = f"{text} ({joined})"
    found, _ = find_communes(text, registry)
    return text if set(found) >= set(communes) else f"{text} ({joined})"


def _period_phrase(query: Query) -> str:
    return "2020-2025" if query.period == "2020-2025" else "2025-2030"
