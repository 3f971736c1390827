"""Endpointing with webrtcvad: turns a stream of frames into utterances.

States: *idle* keeps a pre-roll ring of recent frames; speech starts when ``start_ms`` of the recent
window is voiced. *In speech* collects frames until ``hangover_ms`` of continuous silence (the user is
done) or ``max_utterance_s`` (cut, so a TV left on can't hold the turn forever). Utterances with
less than ``min_speech_ms`` of voiced audio (coughs, clicks) are discarded.

The end of turn (``end_of_turn``, speculation, speaker identification) counts the silence from the user's
last sound instead (hearing/last_sound.py), and an utterance ends there (``Utterance.end_s``, the origin of
every turn's latency figures): webrtcvad's own hangover keeps a fading word voiced for up to 100 ms more,
which every early decision would otherwise wait out. The hangover stays on webrtcvad's count.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import webrtcvad

from assistant.config.schema import VadConfig
from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH, AudioFrame, Utterance
from assistant.hearing.last_sound import LastSound

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float


class Endpointer:
    def __init__(self, config: VadConfig, clock: Callable[[], float] = time.monotonic,
                 end_of_turn: Callable[[int], bool | None] | None = None) -> None:
        self.config = config
        # End of turn (hearing/end_of_turn.py): asked on each silent frame, with the trailing silence in ms,
        # whether the user is done: True ends the utterance now, False keeps it open past the hangover (the
        # user is trailing off), None leaves it to the hangover.
        self.end_of_turn = end_of_turn
        self._vad = webrtcvad.Vad(config.aggressiveness)
        self._frame_s = config.frame_ms / 1000
        self._frame_bytes = SAMPLE_RATE * config.frame_ms // 1000 * SAMPLE_WIDTH
        self._start_frames = max(1, round(config.start_ms / config.frame_ms))
        # the onset window is a little wider than start_ms so one unvoiced frame doesn't block a start
        self._window = deque[bool](maxlen=self._start_frames + max(1, self._start_frames // 2))
        self._preroll = deque[AudioFrame](maxlen=max(0, round(config.preroll_ms / config.frame_ms)))
        self._hangover_frames = max(1, round(config.hangover_ms / config.frame_ms))
        self._max_frames = max(1, round(config.max_utterance_s / self._frame_s))
        self._clock = clock
        self._sound = LastSound(config.aggressiveness, config.frame_ms)
        self.discarded = 0  # utterances too short to be speech
        self._reset()

    def _reset(self) -> None:
        self._in_speech = False
        self._frames: list[AudioFrame] = []
        self._voiced_frames = 0
        self._trailing_silence = 0  # frames since webrtcvad's last voiced one: the hangover's count
        self._since_sound = 0  # frames since the user's last sound: the end of turn's count
        self._sound.new_utterance()
        self._speech_start = 0.0
        self._last_sound: AudioFrame | None = None  # where the utterance ends: the user's last sound
        self._window.clear()

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def trailing_silence_ms(self) -> int:
        """How long the user has been silent in the current utterance, counted from their last sound (0 when
        idle or while they speak; webrtcvad may still call the first of these frames voiced)."""
        return self._since_sound * self.config.frame_ms if self._in_speech else 0

    @property
    def vad_silence_ms(self) -> int:
        """The same silence as webrtcvad counts it, from its last voiced frame (the hangover's count)."""
        return self._trailing_silence * self.config.frame_ms if self._in_speech else 0

    def current_pcm(self) -> bytes:
        """The utterance audio collected so far (pre-roll included): a prefix of the Utterance to come."""
        return b"".join(f.pcm for f in self._frames) if self._in_speech else b""

    def is_speech(self, frame: AudioFrame) -> bool:
        if len(frame.pcm) != self._frame_bytes:
            raise ValueError(f"frame of {len(frame.pcm)} bytes; the VAD needs {self._frame_bytes}")
        return bool(self._vad.is_speech(frame.pcm, SAMPLE_RATE))

    def reset(self) -> None:
        """Forget any speech in progress (used when the assistant starts talking in half-duplex)."""
        self._reset()
        self._preroll.clear()

    def feed(self, frame: AudioFrame) -> Utterance | None:
        """Process one frame; return an utterance when one has just ended."""
        voiced = self.is_speech(frame)
        sound = self._sound.is_sound(frame.pcm, voiced)
        if not self._in_speech:
            self._preroll.append(frame)
            self._window.append(voiced)
            if sum(self._window) >= self._start_frames:
                self._start(voiced_in_window=sum(self._window))
            return None
        self._frames.append(frame)
        if voiced:
            self._voiced_frames += 1
            self._trailing_silence = 0
        else:
            self._trailing_silence += 1
        if sound:
            self._since_sound = 0
            self._last_sound = frame
        else:
            self._since_sound += 1
        if self._since_sound:
            done = self.end_of_turn(self.trailing_silence_ms) if self.end_of_turn is not None else None
            if done or (done is None and self._trailing_silence >= self._hangover_frames):
                return self._finish(truncated=False)
        if len(self._frames) >= self._max_frames:
            return self._finish(truncated=True)
        return None

    def _start(self, voiced_in_window: int) -> None:
        frames = list(self._preroll)
        self._in_speech = True
        self._frames = frames
        self._voiced_frames = voiced_in_window
        self._trailing_silence = 0
        self._last_sound = frames[-1]
        # speech began at the first voiced frame of the onset window
        onset_index = max(0, len(frames) - len(self._window))
        self._speech_start = frames[onset_index].start_s
        for offset, was_voiced in enumerate(self._window):
            if was_voiced:
                self._speech_start = frames[onset_index + offset].start_s
                break
        self._preroll.clear()

    def flush(self) -> Utterance | None:
        """End of stream: close any utterance in progress."""
        if not self._in_speech:
            return None
        return self._finish(truncated=False)

    def _finish(self, truncated: bool) -> Utterance | None:
        frames, voiced, last = self._frames, self._voiced_frames, self._last_sound
        start = self._speech_start
        self._reset()
        voiced_s = voiced * self._frame_s
        assert last is not None
        if voiced_s * 1000 < self.config.min_speech_ms:
            self.discarded += 1
            log.debug("ignored %.2f s of sound at %.2f s: under min_speech_ms", voiced_s, start)
            return None
        return Utterance(
            pcm=b"".join(f.pcm for f in frames),
            start_s=start,
            end_s=last.end_s,
            voiced_s=voiced_s,
            ended_at=self._clock(),
            speech_end_at=last.captured_at,
            truncated=truncated,
        )


def segments(frames: list[AudioFrame], config: VadConfig) -> list[Segment]:
    """Run the endpointer over a whole recording; the speech segments it finds."""
    endpointer = Endpointer(config)
    found: list[Segment] = []
    for frame in frames:
        utterance = endpointer.feed(frame)
        if utterance is not None:
            found.append(Segment(utterance.start_s, utterance.end_s))
    tail = endpointer.flush()
    if tail is not None:
        found.append(Segment(tail.start_s, tail.end_s))
    return found
