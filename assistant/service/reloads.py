"""Reload requests (SIGHUP, `assistant reload`) carried out one at a time, each with a deadline.

A request made while a reload runs gets a reload of its own: the running one may have read the config file
before the client changed it, so its result would not answer the client.

Each reload runs in a thread of its own and is given ``deadline_s``. One that overruns it (a model file on a
hung network share, a check that never returns) is abandoned: its askers are told, the running config
stays, and the next request starts a fresh reload. A thread can't be killed, so the abandoned one may still
finish some day; its ``Attempt`` then refuses it the right to change anything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MAX_STUCK = 2  # abandoned reloads still running before new ones are refused (each may hold a model's memory)


class Attempt:
    """One reload's right to change the running daemon, taken back if it overruns its deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "running"  # -> "committing" (changing the daemon) or "abandoned"

    def commit(self) -> bool:
        """Called by the reload just before it changes anything; False: it was abandoned, change nothing."""
        return self._move("committing", unless="abandoned")

    def abandon(self) -> bool:
        """Take the right back; False when the reload is already committing (it is then waited for)."""
        return self._move("abandoned", unless="committing")

    def _move(self, state: str, unless: str) -> bool:
        with self._lock:
            if self._state == unless:
                return False
            self._state = state
            return True


Reload = Callable[[Attempt], dict[str, Any]]


class Reloads:
    def __init__(self, reload: Reload, deadline_s: float = 90.0,
                 on_start: Callable[[], object] | None = None, on_end: Callable[[], object] | None = None) -> None:
        self._reload = reload
        self.deadline_s = deadline_s
        self._on_start = on_start or (lambda: None)  # e.g. RELOADING=1 to systemd
        self._on_end = on_end or (lambda: None)  # e.g. READY=1, also after an abandoned or failed reload
        self._wanted = threading.Event()  # set from a signal handler too: nothing heavier there
        self._changed = threading.Condition()
        self._asked = 0  # requests made so far
        self._answered = 0  # requests made before the last finished reload began
        self._result: dict[str, Any] = {}
        self._stuck: list[threading.Thread] = []

    def signal(self) -> None:
        """Ask for a reload without waiting (a signal handler)."""
        self._wanted.set()

    def request(self, timeout: float | None = None) -> dict[str, Any]:
        """Ask for a reload and return the result of one that began after this call."""
        # by default a little longer than a reload may take, committing included
        timeout = self.deadline_s + 30.0 if timeout is None else timeout
        with self._changed:
            self._asked += 1
            mine = self._asked
            self._wanted.set()
            if not self._changed.wait_for(lambda: self._answered >= mine, timeout):
                return {"reloaded": False, "message": f"the reload did not finish within {timeout:g} s"}
            return dict(self._result)

    def run(self, stop: threading.Event) -> None:
        """The reloading thread's body, until ``stop``."""
        while not stop.is_set():
            if not self._wanted.wait(0.5):
                continue
            self._wanted.clear()
            with self._changed:
                covers = self._asked
            self._on_start()
            try:
                result = self._attempt()
            finally:
                self._on_end()
            with self._changed:
                self._result, self._answered = result, covers
                self._changed.notify_all()

    def _attempt(self) -> dict[str, Any]:
        self._stuck = [thread for thread in self._stuck if thread.is_alive()]
        if len(self._stuck) >= MAX_STUCK:
            return {"reloaded": False, "problems": [
                f"{len(self._stuck)} earlier reloads never finished and still run; restart the service to reload"]}
        attempt, outcome = Attempt(), list[dict[str, Any]]()
        worker = threading.Thread(target=self._run_one, args=(attempt, outcome), name="reload-attempt",
                                  daemon=True)
        worker.start()
        worker.join(self.deadline_s)
        if worker.is_alive() and attempt.abandon():
            self._stuck.append(worker)
            log.error("reload abandoned after %g s, keeping the running config", self.deadline_s)
            return {"reloaded": False, "problems": [
                f"the reload did not finish within {self.deadline_s:g} s and was abandoned; "
                "the running config is kept"]}
        worker.join()  # finished, or committing (taking the new stages up is quick)
        return outcome[0] if outcome else {"reloaded": False, "problems": ["the reload ended without a result"]}

    def _run_one(self, attempt: Attempt, outcome: list[dict[str, Any]]) -> None:
        try:
            outcome.append(self._reload(attempt))
        except Exception as exc:  # the next reload must still run
            log.exception("reload failed")
            outcome.append({"reloaded": False, "problems": [f"the reload failed: {type(exc).__name__}: {exc}"]})
