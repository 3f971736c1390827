"""When the samples of a live stream were spoken, on the monotonic clock.

A chunk read at time ``t`` that ends at stream second ``p`` was spoken no later than ``t``: ``t - p`` is the
stream's start plus however late that read woke up. A loaded machine wakes the capture thread late now and
then, and dating audio by its read time then makes it look newer than it is (the turn's "speech end ->
endpoint" figure comes out short, the echo gate sees our voice arrive late). The smallest ``t - p`` of the
last few seconds is the read that woke up soonest: samples are dated from it. The window follows a device
clock that runs a little fast or slow against the system's; a jump (a stall, a reopened device) starts over.
"""

from __future__ import annotations

from collections import deque

WINDOW_S = 3.0  # how far back the soonest read is looked for (samples lost to an overrun date later audio
# early by their length, for at most this long)
JUMP_S = 0.2  # a read this much later than the soonest is a new timeline (a stall), not a late wake-up


class StreamClock:
    def __init__(self) -> None:
        # (read time, t - p), the offsets increasing: the front is the window's smallest
        self._reads: deque[tuple[float, float]] = deque()

    def start_of_stream(self, read_at: float, stream_s: float) -> float:
        """A chunk ending at stream second ``stream_s`` was read at ``read_at``: when stream second 0 was."""
        offset = read_at - stream_s
        if self._reads and offset - self._reads[0][1] > JUMP_S:
            self._reads.clear()
        while self._reads and self._reads[-1][1] >= offset:
            self._reads.pop()
        self._reads.append((read_at, offset))
        while self._reads[0][0] < read_at - WINDOW_S:
            self._reads.popleft()
        return self._reads[0][1]

    def reset(self) -> None:
        self._reads.clear()
