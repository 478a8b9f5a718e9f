"""One Assistant for the whole app, swapped atomically when the index is rebuilt.

Every request reads ``HOLDER.get()`` once and keeps that object for the whole request, so a
rebuild that swaps in a new Assistant never mixes two index generations in one answer.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from baocao.config import Settings, get_settings

if TYPE_CHECKING:
    from assistant.service import Assistant

Factory = Callable[[], "Assistant"]


class AssistantHolder:
    """The shared Assistant plus a human-readable status while it is (re)built."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the swap
        self.write_lock = threading.Lock()  # one upload/removal/rebuild at a time
        self._assistant: Assistant | None = None
        self._factory: Factory | None = None
        self._settings: Settings | None = None  # read on first use: a bad BAOCAO_* is reported, not raised on import
        self.status = "Loading the index…"
        self.error: str | None = None
        self._loading = threading.Lock()  # held while the index is opened or first built

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value

    def configure(self, factory: Factory, settings: Settings) -> None:
        """Set how to open the Assistant; drops any previous one (a new app, e.g. in tests)."""
        with self._lock:
            self._factory, self.settings, self._assistant, self.error = factory, settings, None, None

    def get(self) -> Assistant | None:
        """The current Assistant, loading it on first use; None while the first build runs."""
        assistant = self._assistant
        if assistant is None and not self._loading.locked():
            self.load()
            assistant = self._assistant
        return assistant

    def start_background_load(self) -> None:
        """Open (or first build) the index without blocking the server start."""
        threading.Thread(target=self.load, name="baocao-load", daemon=True).start()

    def load(self) -> None:
        """Open the index; when there is none yet, build it with progress on the console and in the UI."""
        if not self._loading.acquire(blocking=False):
            return  # another thread is already loading
        try:
            self._build_if_missing()
            self.reload()
        except Exception as exc:  # noqa: BLE001 - shown in the UI instead of killing the server
            self.error = f"The index could not be opened: {exc}"
            self.status = self.error
            print(self.error, file=sys.stderr)
        finally:
            self._loading.release()

    def _build_if_missing(self) -> None:
        from index.build import build_index, current_manifest

        if current_manifest(self.settings) is not None:
            return
        self.status = "No index yet: building it from the reports (first run only)…"
        print(self.status, file=sys.stderr)
        build_index(self.settings, progress=self.on_progress)  # tqdm bar on the console

    def on_progress(self, stage: str, done: int, total: int) -> None:
        self.status = f"Building the index: {stage} {done}/{total} passages…"

    def reload(self) -> Assistant:
        """Open a fresh Assistant on the current index generation and swap it in for everyone."""
        if self._factory is None:
            raise RuntimeError("the app was not configured with an Assistant factory")
        fresh = self._factory()
        with self._lock:
            self._assistant = fresh
        self.status, self.error = "", None
        return fresh

    @property
    def busy_message(self) -> str:
        """What to tell a user who asks before the Assistant is ready."""
        return self.error or self.status or "The index is loading; try again in a moment."


HOLDER = AssistantHolder()
