"""Reload requests: one at a time, each asker gets the result of a reload that read the file after it asked, and
a reload that overruns its deadline is abandoned without blocking the next one or changing anything later."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from assistant.service.reloads import MAX_STUCK, Attempt, Reloads


class SlowReload:
    """Reads "the config file" when it starts, then waits until the test lets it finish."""

    def __init__(self) -> None:
        self.config = "old"
        self.started = threading.Semaphore(0)
        self.finish = threading.Semaphore(0)
        self.read: list[str] = []

    def __call__(self, attempt: Attempt) -> dict[str, Any]:
        seen = self.config
        self.read.append(seen)
        self.started.release()
        assert self.finish.acquire(timeout=30)
        return {"reloaded": True, "config": seen}


@pytest.fixture
def slow() -> Iterator[tuple[Reloads, SlowReload]]:
    reload = SlowReload()
    reloads = Reloads(reload)
    stop = threading.Event()
    thread = threading.Thread(target=reloads.run, args=(stop,), daemon=True)
    thread.start()
    yield reloads, reload
    stop.set()
    for _ in range(3):
        reload.finish.release()
    thread.join(5)


def test_a_request_during_a_reload_gets_a_reload_of_its_own(slow: tuple[Reloads, SlowReload]) -> None:
    reloads, reload = slow
    reloads.signal()  # SIGHUP: a reload starts and reads the old file
    assert reload.started.acquire(timeout=10)
    reload.config = "new"  # the user edits the file, then runs `assistant reload`
    answer: list[dict[str, Any]] = []
    asker = threading.Thread(target=lambda: answer.append(reloads.request(timeout=30)))
    asker.start()
    reload.finish.release()  # the SIGHUP reload ends (with the old file)...
    assert reload.started.acquire(timeout=10)  # ...and the asker's own reload starts
    assert not answer, "the asker got the reload that read the old file"
    reload.finish.release()
    asker.join(10)
    assert answer == [{"reloaded": True, "config": "new"}] and reload.read == ["old", "new"]


def test_requests_made_during_a_reload_share_the_next_one(slow: tuple[Reloads, SlowReload]) -> None:
    reloads, reload = slow
    reloads.signal()
    assert reload.started.acquire(timeout=10)
    answers: list[dict[str, Any]] = []
    askers = [threading.Thread(target=lambda: answers.append(reloads.request(timeout=30))) for _ in range(3)]
    for asker in askers:
        asker.start()
    reload.finish.release()
    assert reload.started.acquire(timeout=10)  # one more reload answers all three
    reload.finish.release()
    for asker in askers:
        asker.join(10)
    assert len(answers) == 3 and reload.read == ["old", "old"]
    assert not reload.started.acquire(timeout=1.0)  # and no third one


def test_a_reload_that_does_not_finish_is_reported(slow: tuple[Reloads, SlowReload]) -> None:
    reloads, _ = slow
    assert reloads.request(timeout=0.2) == {"reloaded": False, "message": "the reload did not finish within 0.2 s"}


def test_a_reload_that_raises_does_not_stop_the_next() -> None:
    calls: list[int] = []

    def reload(attempt: Attempt) -> dict[str, object]:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RecursionError("a config the checks did not expect")
        return {"reloaded": True}

    reloads = Reloads(reload)
    stop = threading.Event()
    thread = threading.Thread(target=reloads.run, args=(stop,), daemon=True)
    thread.start()
    try:
        first = reloads.request(timeout=10)
        assert first["reloaded"] is False and "RecursionError" in str(first["problems"])
        assert reloads.request(timeout=10) == {"reloaded": True}
    finally:
        stop.set()
        thread.join(5)


class Daemonish:
    """A reload that changes "the running config" only through its attempt, as the daemon's does; the first
    ``stuck`` reloads hang until the test lets them go."""

    def __init__(self, stuck: int) -> None:
        self.running = "old"
        self.stuck = stuck
        self.release = threading.Event()
        self.finished: list[bool] = []  # for each hung reload that ended: did it change the config?
        self.calls = 0

    def __call__(self, attempt: Attempt) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.stuck:
            self.release.wait(30)  # a model on a hung network share
            committed = attempt.commit()
            if committed:
                self.running = f"late {self.calls}"
            self.finished.append(committed)
            return {"reloaded": committed}
        assert attempt.commit()
        self.running = "new"
        return {"reloaded": True}


@contextmanager
def running(reloads: Reloads) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=reloads.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_stuck_reload_is_abandoned_and_the_next_one_runs() -> None:
    reload = Daemonish(stuck=1)
    events: list[str] = []
    reloads = Reloads(reload, deadline_s=0.3, on_start=lambda: events.append("RELOADING"),
                      on_end=lambda: events.append("READY"))
    with running(reloads):
        first = reloads.request(timeout=10)
        assert first["reloaded"] is False and "did not finish within 0.3 s and was abandoned" in first["problems"][0]
        assert events == ["RELOADING", "READY"]  # systemd is told the reload ended
        assert reloads.request(timeout=10) == {"reloaded": True}
        assert reload.running == "new"
        reload.release.set()  # the abandoned one finishes at last...
        wait_until(lambda: bool(reload.finished))
        assert reload.finished == [False] and reload.running == "new"  # ...and may change nothing


def test_a_reload_committing_at_its_deadline_is_waited_for() -> None:
    def reload(attempt: Attempt) -> dict[str, Any]:
        assert attempt.commit()
        time.sleep(0.5)  # taking the new stages up, past the deadline
        return {"reloaded": True}

    reloads = Reloads(reload, deadline_s=0.1)
    with running(reloads):
        assert reloads.request(timeout=10) == {"reloaded": True}


def test_too_many_stuck_reloads_are_refused_plainly() -> None:
    reload = Daemonish(stuck=MAX_STUCK)
    reloads = Reloads(reload, deadline_s=0.1)
    with running(reloads):
        for _ in range(MAX_STUCK):
            assert "abandoned" in reloads.request(timeout=10)["problems"][0]
        refused = reloads.request(timeout=10)
        assert refused["reloaded"] is False and "restart the service" in refused["problems"][0]
        assert reload.calls == MAX_STUCK  # no third thread piled up
        reload.release.set()
        wait_until(lambda: not any(t.name == "reload-attempt" for t in threading.enumerate()))
        assert reloads.request(timeout=10) == {"reloaded": True}  # once they are gone, reloads work again
