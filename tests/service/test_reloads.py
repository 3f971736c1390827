"""Reload requests: one at a time, and each asker gets the result of a reload that read the file after it asked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.service.reloads import Reloads


class SlowReload:
    """Reads "the config file" when it starts, then waits until the test lets it finish."""

    def __init__(self) -> None:
        self.config = "old"
        self.started = threading.Semaphore(0)
        self.finish = threading.Semaphore(0)
        self.read: list[str] = []

    def __call__(self) -> dict[str, Any]:
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

    def reload() -> dict[str, object]:
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
