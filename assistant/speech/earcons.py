"""Earcons: short generated tones for "listening", "thinking" and "error", each optional by config.

Tones are synthesized once (sine partials with a raised-cosine envelope, so they start and end without
clicks) at 22,050 Hz and played through the same sink as speech, so they obey barge-in and stop(). The
pipeline plays them behind its half-duplex gate, like speech, and hands them to the echo gate
(``on_audio``) so their echo is known for what it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from assistant.audio.sinks import AudioSink
from assistant.config.speech import EarconsConfig
from assistant.speech.streaming import AudioTap

Kind = Literal["listening", "thinking", "error"]
RATE = 22_050


@dataclass(frozen=True, slots=True)
class Tone:
    """A sequence of (frequency Hz, duration s) notes."""

    notes: tuple[tuple[float, float], ...]


TONES: dict[str, Tone] = {
    "listening": Tone(((660.0, 0.07), (990.0, 0.09))),  # rising: "go ahead"
    "thinking": Tone(((520.0, 0.12),)),  # one soft note: "got it, working"
    "error": Tone(((440.0, 0.12), (294.0, 0.18))),  # falling: "that didn't work"
}


def render(tone: Tone, volume: float, rate: int = RATE) -> bytes:
    parts = []
    for freq, seconds in tone.notes:
        t = np.arange(int(seconds * rate)) / rate
        ramp = min(len(t) // 4, int(0.01 * rate))  # 10 ms fades: no clicks at the edges
        envelope = np.ones(len(t))
        if ramp:
            fade = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
            envelope[:ramp], envelope[-ramp:] = fade, fade[::-1]
        wave = np.sin(2 * np.pi * freq * t) + 0.25 * np.sin(4 * np.pi * freq * t)  # a touch of 2nd partial
        parts.append(wave / 1.25 * envelope)
    samples = np.concatenate(parts) * volume * 32767
    return np.asarray(np.clip(np.round(samples), -32768, 32767), dtype="<i2").tobytes()


class Earcons:
    def __init__(self, config: EarconsConfig, sink: AudioSink, on_audio: AudioTap | None = None) -> None:
        self.config = config
        self.sink = sink
        self.on_audio = on_audio  # the echo gate's reference, as for speech (tts/streaming.py)
        self._pcm = {kind: render(tone, config.volume) for kind, tone in TONES.items()}

    def enabled(self, kind: Kind) -> bool:
        return bool(getattr(self.config, kind)) and self.config.volume > 0

    def pcm(self, kind: Kind) -> bytes:
        return self._pcm[kind]

    def play(self, kind: Kind) -> float | None:
        """Play one earcon if it is enabled; the first-sample time, or None when it is off."""
        if not self.enabled(kind):
            return None
        if self.on_audio is not None:
            self.on_audio(self._pcm[kind], RATE, time.monotonic())
        return self.sink.play(self._pcm[kind], RATE)
