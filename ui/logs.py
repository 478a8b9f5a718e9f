"""Server logs without request bodies.

Gradio prints the traceback of a failed event, and some of its messages embed the request: a call with
the wrong number of inputs logs "Received inputs: [...]" with the whole payload, so a user's questions
(or an attacker's 400 KB history) end up in the log. ``quiet_tracebacks`` keeps Gradio's tracebacks
(the frames say where it failed) but cuts each exception message to its first line, bounded.
"""

from __future__ import annotations

import sys
import traceback
from types import ModuleType

MESSAGE_CHARS = 120
GRADIO_MODULES = ("gradio.queueing", "gradio.routes", "gradio.route_utils", "gradio.utils")


def bounded_message(exc: BaseException) -> str:
    """``Type: first line of the message`` (at most MESSAGE_CHARS characters): what failed, not what was sent."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(first) > MESSAGE_CHARS:
        first = first[:MESSAGE_CHARS] + "…"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class _QuietTraceback(ModuleType):
    """Stands in for the ``traceback`` module inside Gradio: ``print_exc`` prints frames + a bounded message."""

    def __init__(self) -> None:
        super().__init__("traceback")

    def print_exc(self, limit: int | None = None, file=None, chain: bool = True) -> None:  # noqa: ARG002
        exc = sys.exc_info()[1]
        out = file or sys.stderr
        if exc is None:
            return
        frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__, limit=limit)))
        print(f"Traceback (most recent call last):\n{frames}{bounded_message(exc)}", file=out)

    def __getattr__(self, name: str):
        return getattr(traceback, name)


def quiet_tracebacks() -> None:
    """Install the quiet traceback in Gradio's modules that print failed events (idempotent)."""
    quiet = _QuietTraceback()
    for name in GRADIO_MODULES:
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "traceback"):
            module.traceback = quiet
