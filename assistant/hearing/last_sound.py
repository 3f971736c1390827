"""The user's last sound, frame by frame: webrtcvad's own afterglow told apart from speech.

webrtcvad keeps calling frames voiced after a word has faded: its built-in hangover, measured on real speech
followed by quiet room noise, is 90-100 ms at modes 2-3 and 140-160 ms at modes 0-1 (whatever the frame
length). Every decision counted from the VAD's last voiced frame starts that late: on the shared set's 48
command and read recordings its last voiced frame ends a median 115 ms after the speech's true end
(``assistant/bench/speech_end.py``). A voiced frame counts as the user's sound here only when it is also
loud: ``MARGIN_DB`` above the room (what the VAD called unvoiced lately) and within ``BELOW_PEAK_DB`` of the
utterance's voice, the rule the benchmarks' true end uses. Quiet voiced frames are the afterglow only while
there are no more of them in a row than that hangover: a longer run is someone speaking softly, and counts as
sound. A word's fade-out (down to 12 dB in "what's the weather like") can outlast the hangover, so frames
more than ``FADED_DB`` below the voice are not counted in that run. On the same 48 recordings the last sound
ends a median 30 ms after the true end (none more than 60 ms before it); the price is more pauses inside an
utterance that look like its end for a moment: 149 stretches of 60 ms or more without sound followed by more
speech (where a speculative pass starts, then is dropped: CPU only), against 48 by webrtcvad's count.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

import numpy as np

MARGIN_DB = 10.0
BELOW_PEAK_DB = 30.0
FADED_DB = 45.0
ROOM_FRAMES = 200  # the room's level: the latest unvoiced frames (6 s of them at 30 ms)
ROOM_PERCENTILE = 25
VOICE_FRAMES = 700  # the voice's level: this utterance's latest voiced frames (21 s at 30 ms: the longest one)


def overhang_ms(aggressiveness: int) -> int:
    """webrtcvad's longest built-in hangover at this mode (measured: see the module's docstring)."""
    return 160 if aggressiveness < 2 else 100


def level_db(pcm: bytes) -> float:
    """A frame's power in dB re one 16-bit step (digital silence: 0 dB)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(10.0 * np.log10(np.mean(samples**2) + 1.0)) if len(samples) else 0.0


class RollingPercentile:
    """Percentiles of the latest ``size`` values, as ``np.percentile`` (linear) gives them, kept sorted as they
    come: it runs on the audio thread for every voiced frame, where ``np.percentile`` over the 700 latest took
    ~0.1 ms a call."""

    def __init__(self, size: int) -> None:
        self._order = deque[float](maxlen=size)
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._sorted)

    def clear(self) -> None:
        self._order.clear()
        self._sorted.clear()

    def add(self, value: float) -> None:
        if len(self._order) == self._order.maxlen:
            del self._sorted[bisect.bisect_left(self._sorted, self._order[0])]
        self._order.append(value)
        bisect.insort(self._sorted, value)

    def percentile(self, q: float) -> float:
        position = q / 100 * (len(self._sorted) - 1)
        below = math.floor(position)
        above = min(below + 1, len(self._sorted) - 1)
        return self._sorted[below] + (position - below) * (self._sorted[above] - self._sorted[below])


class LastSound:
    """Feed it every frame with webrtcvad's verdict; ``is_sound`` says whether the user made that sound."""

    def __init__(self, aggressiveness: int, frame_ms: int) -> None:
        self._afterglow_frames = math.ceil(overhang_ms(aggressiveness) / frame_ms)
        self._room = RollingPercentile(ROOM_FRAMES)
        self._voice = RollingPercentile(VOICE_FRAMES)  # levels of this utterance's voiced frames
        self._quiet_run = 0  # voiced frames in a row too quiet to be the voice

    def new_utterance(self) -> None:
        self._voice.clear()
        self._quiet_run = 0

    def is_sound(self, pcm: bytes, voiced: bool) -> bool:
        level = level_db(pcm)
        if not voiced:
            self._room.add(level)
            self._quiet_run = 0
            return False
        self._voice.add(level)
        room = self._room.percentile(ROOM_PERCENTILE) if len(self._room) else -math.inf
        voice = self._voice.percentile(95)
        if level > max(room + MARGIN_DB, voice - BELOW_PEAK_DB):
            self._quiet_run = 0
            return True
        if level > voice - FADED_DB:
            self._quiet_run += 1
        return self._quiet_run > self._afterglow_frames
