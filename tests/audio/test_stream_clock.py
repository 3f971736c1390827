"""Dating captured audio on the stream's own clock: late wake-ups of the capture thread must not move it."""

from __future__ import annotations

import random
import time
from types import SimpleNamespace

import pytest

from assistant.audio import sources
from assistant.audio.sources import Capture
from assistant.audio.stream_clock import JUMP_S, WINDOW_S, StreamClock
from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH

CHUNK_S = 0.03


def test_late_reads_do_not_move_the_dates() -> None:
    """A mic hands over 30 ms chunks; the reading thread wakes up to 150 ms late at times (then reads the
    backlog at once). Each chunk is dated where it really ended, not when it was read."""
    rng = random.Random(4)
    clock = StreamClock()
    origin = 1000.0
    errors = []
    backlog_until = 0.0
    for i in range(1, 400):
        ready = origin + i * CHUNK_S  # the chunk is complete now
        late = rng.choice([0.0] * 8 + [0.02, 0.15])
        read_at = max(ready + 0.001 + late, backlog_until)
        backlog_until = read_at
        errors.append(clock.start_of_stream(read_at, i * CHUNK_S) + i * CHUNK_S - ready)
    assert max(errors) < 0.002, max(errors)  # the read-time date would be up to 150 ms late
    assert min(errors) >= 0.0


def test_a_device_clock_that_drifts_is_followed() -> None:
    clock = StreamClock()
    for i in range(1, 3000):  # 90 s of a device 0.1 % slow: its stream lags 1 ms per second behind ours
        read_at = 1000.0 + i * CHUNK_S * 1.001
        dated = clock.start_of_stream(read_at, i * CHUNK_S) + i * CHUNK_S
        assert 0 <= read_at - dated <= WINDOW_S * 0.001 + 1e-9


def test_a_stall_starts_a_new_timeline_at_once() -> None:
    clock = StreamClock()
    for i in range(1, 50):
        clock.start_of_stream(1000.0 + i * CHUNK_S, i * CHUNK_S)
    # the device delivered nothing for 2 s (a stall, samples lost): the next chunk is dated by its read
    read_at = 1000.0 + 50 * CHUNK_S + 2.0
    assert clock.start_of_stream(read_at, 50 * CHUNK_S) == pytest.approx(read_at - 50 * CHUNK_S)
    assert JUMP_S < 2.0


def test_a_source_faster_than_real_time_is_dated_by_its_reads() -> None:
    """A WAV read as fast as it comes (simulate, tests): audio dated by read time, as before."""
    clock = StreamClock()
    for i in range(1, 100):
        read_at = 1000.0 + i * 0.001
        assert clock.start_of_stream(read_at, i * CHUNK_S) == pytest.approx(read_at - i * CHUNK_S)


class LateSource:
    """A live source whose reader wakes up late once in a while, on a scripted clock (no real waiting, so a
    loaded test machine cannot add lateness of its own)."""

    name = "late"

    def __init__(self, chunks: int) -> None:
        self.now = 1000.0
        self.sent = 0
        self.chunks = chunks

    def monotonic(self) -> float:
        return self.now

    def read(self) -> bytes | None:
        if self.sent >= self.chunks:
            return None
        self.sent += 1
        ready = 1000.0 + self.sent * CHUNK_S
        late = 0.12 if self.sent % 10 == 0 else 0.001
        self.now = max(self.now, ready + late)  # after a late read, the backlog is read at once
        return bytes(int(SAMPLE_RATE * CHUNK_S) * SAMPLE_WIDTH)

    def close(self) -> None:
        pass


def test_capture_dates_frames_on_the_stream_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    source = LateSource(60)
    monkeypatch.setattr(sources, "time", SimpleNamespace(monotonic=source.monotonic, sleep=time.sleep))
    capture = Capture(source, frame_ms=30).start()  # type: ignore[arg-type]
    capture.join(10)
    frames = []
    while (frame := capture.frames.get(timeout=1)) is not None:
        frames.append(frame)
    assert len(frames) == 60
    # each frame dated where it ended, 30 ms apart as spoken, though every tenth read came 120 ms late
    # (dated by their reads, those frames would be 120 ms late and the next ones bunched after them)
    assert [round(f.captured_at - 1000.0, 4) for f in frames] == [round((i + 1) * CHUNK_S + 0.001, 4)
                                                                   for i in range(60)]
