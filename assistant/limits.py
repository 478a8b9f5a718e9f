"""Limits on every input that costs work: conversation history, JSON nesting, and a time budget per answer.

Why: the question was capped but the history was not, so one 100 KB history held a worker for 46 s and
100,000 nested ``[`` in a batch line crashed the JSON parser (``RecursionError``). Every check here is a
length or a linear scan, so a refusal costs milliseconds, and each message names the limit and its
``BAOCAO_*`` setting (``baocao/config.py``) so an operator knows what to raise.
"""

from __future__ import annotations

import json
import re
import time
from contextvars import ContextVar

from baocao.config import Settings

ROLES = ("user", "assistant")


class InputRejected(ValueError):
    """Input refused by a limit or a shape check; the message is shown to the user as is."""


class BudgetExceeded(RuntimeError):
    """The answer took longer than ``answer_budget_s``: the request gives up instead of holding a worker."""


# --- JSON -----------------------------------------------------------------------------------------------------


def json_depth_over(text: str | bytes, limit: int) -> bool:
    """True when brackets outside strings nest deeper than ``limit``.

    Run before ``json.loads``: CPython's parser recurses per level and raises ``RecursionError`` on
    100,000 nested ``[``, so such a payload must never reach it. Strings are cut out and everything but
    brackets dropped at C speed (regex, ``bytes.translate``); only the brackets are walked, and the walk
    stops at the first level over the limit.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    skeleton = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    if skeleton.count(b"[") + skeleton.count(b"{") <= limit:
        return False
    depth = 0
    for byte in skeleton:
        depth += 1 if byte in _OPENERS else -1
        if depth > limit:
            return True
    return False


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPENERS = frozenset(b"[{")


def loads_bounded(text: str | bytes, settings: Settings, what: str = "JSON") -> object:
    """``json.loads`` behind the nesting limit; InputRejected (not JSONDecodeError) for the limit."""
    if json_depth_over(text, settings.max_json_depth):
        raise InputRejected(f"{what} is nested deeper than {settings.max_json_depth} levels "
                            f"(limit BAOCAO_MAX_JSON_DEPTH)")
    return json.loads(text)


# --- conversation history ---------------------------------------------------------------------------------------


def checked_history(history: object, settings: Settings) -> list[dict]:
    """The conversation as ``[{role, content}]``, or InputRejected saying which turn or limit is wrong.

    Nothing is dropped silently: a turn with an unknown role or non-text content is refused with its
    number, because answering a follow-up without the turn it refers to would answer another question.
    ``None`` and ``[]`` mean no history.
    """
    if history is None or history == []:
        return []
    if not isinstance(history, list):
        raise InputRejected("history must be a list of {role, content} messages")
    if len(history) > settings.max_history_turns:
        raise InputRejected(f"history has {len(history)} turns; the limit is {settings.max_history_turns} "
                            "(BAOCAO_MAX_HISTORY_TURNS). Send only the recent turns.")
    turns, total = [], 0
    for n, turn in enumerate(history, start=1):
        if not isinstance(turn, dict):
            raise InputRejected(f"history turn {n} must be a {{role, content}} object, not {_kind(turn)}")
        role, content = turn.get("role"), turn.get("content")
        if role not in ROLES:
            raise InputRejected(f"history turn {n}: role must be \"user\" or \"assistant\", not {_shown(role)}")
        if not isinstance(content, str):
            raise InputRejected(f"history turn {n}: content must be text, not {_kind(content)}")
        limit, name = ((settings.max_question_chars, "a question's limit") if role == "user"  # a user turn is
                       else (settings.max_turn_chars, "BAOCAO_MAX_TURN_CHARS"))  # a question, and is parsed
        if len(content) > limit:
            raise InputRejected(f"history turn {n} has {len(content)} characters; the limit is {limit} per "
                                f"{role} turn ({name})")
        total += len(content)
        if total > settings.max_history_chars:
            raise InputRejected(f"history holds over {settings.max_history_chars} characters in all "
                                "(BAOCAO_MAX_HISTORY_CHARS). Send only the recent turns.")
        turns.append({"role": role, "content": content})
    return turns


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _shown(value: object) -> str:
    return repr(value)[:40] if isinstance(value, str) else _kind(value)


# --- time budget ----------------------------------------------------------------------------------------------

_deadline: ContextVar[float | None] = ContextVar("baocao_deadline", default=None)


class Budget:
    """``with Budget(seconds):`` — ``check()`` inside raises BudgetExceeded once the time is up.

    Python cannot stop a thread, so the answer path calls ``check()`` between stages (every parse, every
    retrieval); a stage itself is bounded by the input limits above. A ContextVar keeps concurrent requests
    (threads of the app's queue) on their own deadlines.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._token = None

    def __enter__(self) -> Budget:
        self._token = _deadline.set(time.monotonic() + self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        _deadline.reset(self._token)


def check_budget() -> None:
    """Raise BudgetExceeded when the current request's deadline has passed (no deadline: never)."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise BudgetExceeded("deadline passed")
