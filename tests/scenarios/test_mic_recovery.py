"""The microphone disappearing (sound server killed) and coming back: capture resumes by itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.audio.sources import Capture, PyAudioSource
from support.vaudio import VirtualAudio


def test_capture_reopens_the_device_after_the_sound_server_restarts(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server = VirtualAudio(tmp_path / "pa").start()  # its own server: this test kills it
    monkeypatch.setenv("PULSE_SERVER", server.server)
    try:
        capture = Capture(PyAudioSource(None), frame_ms=30, reopen=lambda: PyAudioSource(None))
        capture.BACKOFF_S = (0.3, 0.5)
        capture.start()
        wait_until(lambda: capture.captured > 10)
        before = capture.captured
        assert before > 10  # frames flow while the server is up
        server.kill_server()
        time.sleep(PyAudioSource.STALL_S + 1.0)
        stalled = capture.captured
        assert stalled - before < 40 and not capture.ended.is_set()  # no data, but still trying
        server.start()
        deadline = time.monotonic() + 20
        while capture.reopened == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert capture.reopened >= 1
        wait_until(lambda: capture.captured > stalled + 10)  # a reopened stream may take a while to deliver
        assert capture.captured > stalled + 10  # frames flow again, same process, same Capture
        capture.stop()
        capture.join(5)
        capture.source.close()
    finally:
        server.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
