"""What our own voice leaves in this room once the echo gate has removed its echo, learnt per frame.

The echo gate (audio/echo_gate.py) wants a user ``margin_db`` above this. Each frame of our voice alone adds
a pair: dB of what was left over the echo's envelope, for the whole frame and for the gate's rank band. The
level is the 95th percentile of the last ``LEAK_FRAMES`` (rare spikes aside): 0 dB, the envelope itself,
until ``LEAK_FIRST_FRAMES``, then what was learnt plus ``LEAK_UNSURE_DB`` until ``LEAK_MIN_FRAMES``.
What was learnt can be handed to another gate (the bench's warm gates, the daemon over a restart:
service/room.py).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np

LEAK_FRAMES = 1000  # frames of our voice the learnt leak is taken over (~30 s of replies)
LEAK_MIN_FRAMES = 60  # from this many (~2 s of our voice) on, the learnt leak is trusted: the gate has learnt
LEAK_FIRST_FRAMES = 15  # before this many (~0.5 s), the leak is assumed to be 0 dB (the echo envelope itself)
LEAK_UNSURE_DB = 3.0  # in between, the leak learnt so far plus this (fewer frames, a less certain 95th percentile)
LEAK_PERCENTILE = 95  # the learnt leak: how loud our cleaned voice gets, rare spikes aside
LEAK_RANGE_DB = (-30.0, 20.0)  # whatever is learnt, the threshold stays within margin_db of these

Leak = tuple[float, float]  # dB over the echo envelope: whole frame, rank band


def _is_db(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and abs(value) < 200


class Leftover:
    def __init__(self) -> None:
        self._leaks: deque[Leak] = deque(maxlen=LEAK_FRAMES)
        # the listen thread learns while the turn worker saves the room or learns a false alarm (the GIL makes
        # each deque call atomic; free-threaded Python does not)
        self._lock = threading.Lock()

    def learn(self, leaks: Iterable[Leak]) -> None:
        with self._lock:
            self._leaks.extend(leaks)

    def take(self, leaks: Iterable[Any]) -> int:
        """Learn frames from elsewhere (a saved file); anything but a pair of finite numbers of dB is dropped.
        Returns how many were kept."""
        kept = [(float(pair[0]), float(pair[1])) for pair in leaks
                if isinstance(pair, list | tuple) and len(pair) == 2 and all(map(_is_db, pair))]
        self.learn(kept)
        return len(kept)

    @property
    def frames(self) -> list[Leak]:
        """Everything learnt, oldest first."""
        with self._lock:
            return list(self._leaks)

    @property
    def learnt(self) -> bool:
        return len(self._leaks) >= LEAK_MIN_FRAMES

    def levels(self) -> Leak:
        """How loud our own voice is once cleaned, relative to the echo envelope (whole frame, band)."""
        leaks = self.frames
        if len(leaks) < LEAK_FIRST_FRAMES:
            return 0.0, 0.0
        low, high = LEAK_RANGE_DB
        unsure = 0.0 if len(leaks) >= LEAK_MIN_FRAMES else LEAK_UNSURE_DB
        levels = np.percentile(np.array(leaks), LEAK_PERCENTILE, axis=0) + unsure
        return float(np.clip(levels[0], low, high)), float(np.clip(levels[1], low, high))
