"""Idle cost: CPU% of one core and RSS while the assistant listens to silence.

Either watch a running daemon (``--pid``: psutil samples it), or run the daemon's live pipeline in this
process on a paced silent source (the same Capture, Endpointer and worker threads a microphone feeds).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from assistant.app.build import build_pipeline
from assistant.audio.sinks import NullSink
from assistant.bench.stats import cpu_seconds
from assistant.config.schema import Config
from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH


class SilentSource:
    """Digital near-silence delivered at real time, like a quiet microphone."""

    def __init__(self, seconds: float, chunk_ms: int = 30) -> None:
        self.name = "silence"
        self._chunk = bytes(SAMPLE_RATE * chunk_ms // 1000 * SAMPLE_WIDTH)
        self._chunk_s = chunk_ms / 1000
        self._left = int(seconds / self._chunk_s)
        self._next: float | None = None  # set on the first read: the model may load for seconds before

    def read(self) -> bytes | None:
        if self._left <= 0:
            return None
        if self._next is None:
            self._next = time.monotonic()
        self._left -= 1
        self._next += self._chunk_s
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return self._chunk

    def close(self) -> None:
        pass


class LoopedRoom(SilentSource):
    """A recording of the room (16 kHz mono WAV: a TV, people talking to each other) played in a loop at
    real time, like a microphone in that room."""

    def __init__(self, wav: str, seconds: float, chunk_ms: int = 30) -> None:
        super().__init__(seconds, chunk_ms)
        from assistant.audio.sources import read_wav_pcm

        self.name = f"{wav} (looped)"
        self._pcm = read_wav_pcm(wav)
        self._at = 0

    def read(self) -> bytes | None:
        if super().read() is None:  # paced, and counted, as silence would be
            return None
        size = len(self._chunk)
        if self._at + size > len(self._pcm):
            self._at = 0
        self._at += size
        return self._pcm[self._at - size : self._at]


def watch_pid(pid: int, seconds: float) -> dict[str, Any]:
    import psutil

    process = psutil.Process(pid)
    before = process.cpu_times()
    started = time.monotonic()
    peak = 0
    while time.monotonic() - started < seconds:
        peak = max(peak, process.memory_info().rss)
        time.sleep(min(1.0, seconds))
    after = process.cpu_times()
    elapsed = time.monotonic() - started
    used = (after.user - before.user) + (after.system - before.system)
    return {"pid": pid, "seconds": round(elapsed, 1), "cpu_percent_of_one_core": round(100 * used / elapsed, 2),
            "rss_mib": round(peak / 2**20, 1)}


def run_in_process(config: Config, seconds: float, room: str | None = None) -> dict[str, Any]:
    """The pipeline in this process on silence, or on ``room`` (a WAV file) played in a loop."""
    import psutil

    warmup = 3.0
    source = (LoopedRoom(room, seconds + warmup, config.audio.buffer_ms) if room is not None
              else SilentSource(seconds + warmup, config.audio.buffer_ms))
    pipeline = build_pipeline(config, source, NullSink(realtime=True))
    thread = threading.Thread(target=pipeline.run, daemon=True)
    thread.start()
    time.sleep(warmup)  # model loaded, threads started: measure the steady state only
    before, started = cpu_seconds(), time.monotonic()
    thread.join()
    elapsed = time.monotonic() - started
    used = cpu_seconds() - before
    # no thread may be left inside CTranslate2 when the interpreter exits (a speculative pass was: SIGSEGV)
    pipeline.close()
    return {"pid": None, "seconds": round(elapsed, 1), "cpu_percent_of_one_core": round(100 * used / elapsed, 2),
            "rss_mib": round(psutil.Process().memory_info().rss / 2**20, 1), "turns": pipeline.stats.turns,
            "mode": config.listen.mode, "audio": source.name}
