"""The peer benchmark's runner (benchmarks/peer_realtimestt_runner.py) dates what a recorder says on the
recording's own clock: these check its feeding and its origin with a stand-in recorder, without RealtimeSTT
(that lives in another venv; benchmarks/requirements-peer.lock)."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import numpy as np

RATE, CHUNK = 16000, 512


def load_runner() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "peer_realtimestt_runner.py"
    spec = importlib.util.spec_from_file_location("peer_realtimestt_runner", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class HeardRecorder:
    """Answers ``text()`` as soon as it has been fed ``answer_after`` samples, like a recognizer that is
    instantly done; keeps every chunk and when it came."""

    def __init__(self, answer_after: int) -> None:
        self.answer_after = answer_after
        self.chunks: list[tuple[float, bytes]] = []
        self.is_recording = False
        self.state = "inactive"
        self._heard = threading.Condition()
        self._closed = threading.Event()
        self._answered = False

    def feed_audio(self, chunk: bytes, rate: int) -> None:
        assert rate == RATE
        with self._heard:
            self.chunks.append((time.monotonic(), chunk))
            self._heard.notify_all()

    def samples(self) -> int:
        return sum(len(c) for _, c in self.chunks) // 2

    def text(self) -> str:
        if self._answered:  # later calls wait for speech that never comes, as the real one does
            self._closed.wait()
            return ""
        with self._heard:
            self._heard.wait_for(lambda: self.samples() >= self.answer_after)
        self._answered = True
        return "hello"

    def shutdown(self) -> None:
        self._closed.set()


def test_a_transcript_is_dated_from_the_recordings_first_sample_and_the_samples_arrive_whole() -> None:
    runner = load_runner()
    speech = (np.arange(8000) % 200 - 100).astype(np.int16)  # 0.5 s, not a whole number of chunks
    recorder = HeardRecorder(answer_after=10 * CHUNK)  # 0.32 s of stream: the 10th chunk's last sample
    session = runner.Session(recorder)
    threading.Thread(target=session.listen, daemon=True).start()
    try:
        start = runner.feed(session, speech, RATE, CHUNK, settle_s=0.2, max_wait_s=5.0)
        result = runner.utterance(session, start, time.monotonic())
    finally:
        session.done.set()
        recorder.shutdown()

    assert result["transcript"] == "hello"
    # handed over as a microphone would: the 10th chunk once its last sample is spoken, 0.32 s in
    assert 0.32 <= result["transcript_s"] < 0.32 + 0.1  # + a thread waking up on a busy machine
    fed = np.frombuffer(b"".join(c for _, c in recorder.chunks), dtype=np.int16)
    assert all(len(c) == 2 * CHUNK for _, c in recorder.chunks)
    assert np.array_equal(fed[: len(speech)], speech) and not fed[len(speech):].any()  # then digital silence
    # real time: no chunk before its time; and the settle time of silence after the answer
    assert all(t >= start + (k + 1) * CHUNK / RATE - 0.002 for k, (t, _) in enumerate(recorder.chunks))
    assert recorder.samples() / RATE >= result["transcript_s"] + 0.2
