"""Reload requests (SIGHUP, `assistant reload`) carried out one at a time by a thread of their own.

A request made while a reload runs gets a reload of its own: the running one may have read the config file
before the client changed it, so its result would not answer the client.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Reload = Callable[[], dict[str, Any]]


class Reloads:
    def __init__(self, reload: Reload) -> None:
        self._reload = reload
        self._wanted = threading.Event()  # set from a signal handler too: nothing heavier there
        self._changed = threading.Condition()
        self._asked = 0  # requests made so far
        self._answered = 0  # requests made before the last finished reload began
        self._result: dict[str, Any] = {}

    def signal(self) -> None:
        """Ask for a reload without waiting (a signal handler)."""
        self._wanted.set()

    def request(self, timeout: float = 120.0) -> dict[str, Any]:
        """Ask for a reload and return the result of one that began after this call."""
        with self._changed:
            self._asked += 1
            mine = self._asked
            self._wanted.set()
            if not self._changed.wait_for(lambda: self._answered >= mine, timeout):
                return {"reloaded": False, "message": f"the reload did not finish within {timeout:g} s"}
            return dict(self._result)

    def run(self, stop: threading.Event) -> None:
        """The reloading thread's body, until ``stop``; the reload itself (maybe loading a model) runs here."""
        while not stop.is_set():
            if not self._wanted.wait(0.5):
                continue
            self._wanted.clear()
            with self._changed:
                covers = self._asked
            try:
                result = self._reload()
            except Exception as exc:  # the next reload must still run: this thread never dies
                log.exception("reload failed")
                result = {"reloaded": False, "problems": [f"the reload failed: {type(exc).__name__}: {exc}"]}
            with self._changed:
                self._result, self._answered = result, covers
                self._changed.notify_all()
