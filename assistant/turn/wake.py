"""wake_word mode: the wake-word detector hears every frame; the endpointer (and so Whisper) only what follows
a detection.

Asleep, a frame goes to the detector alone (a few ms of CPU per audio second), so speech in the room that
was not said to us never reaches the recognizer. A detection wakes the assistant: the endpointer starts
afresh from there (the wake word's own audio is not part of the request), and the next utterance that
begins within ``listen.wake_only_window_s`` is the request, whether it follows in one breath ("Okay Nabu,
what time is it?") or after a pause. If the user pauses, the "listening" earcon (when on) says "go ahead";
said in one breath, no tone plays over the request. Times are stream times (seconds of audio), so a
recording gives the same turns however fast it is read.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Protocol

from assistant.events import AudioFrame, Utterance
from assistant.hearing.wake_word import Detection, WakeWords

log = logging.getLogger(__name__)

# A model may fire before its word is over (measured: "hey mycroft" 100 ms before its end): voiced frames
# right after a detection are taken for the word's tail, up to this long, and kept from the request.
MAX_TAIL_S = 0.3


class VoiceView(Protocol):
    """What wake listening reads from the endpointer."""

    @property
    def in_speech(self) -> bool: ...

    def is_speech(self, frame: AudioFrame) -> bool: ...


class WakeListening:
    def __init__(self, detector: WakeWords, window_s: float, earcon_after_s: float) -> None:
        self.detector = detector
        self.window_s = window_s
        self.earcon_after_s = earcon_after_s
        self.detections = 0
        self._woken: Detection | None = None
        self._until_s = 0.0  # the request must begin before this stream time
        self._earcon_at_s: float | None = None
        self._tail_until_s: float | None = None  # the wake word's own last frames may come until then

    @property
    def awake(self) -> bool:
        return self._woken is not None

    def hear(self, frame: AudioFrame) -> Detection | None:
        """Feed the detector; on a detection, wake (and stay awake for a new window if already awake)."""
        detection = self.detector.feed(frame.pcm)
        if detection is not None:
            self.detections += 1
            self._woken = detection
            self._until_s = frame.end_s + self.window_s
            self._earcon_at_s = frame.end_s + self.earcon_after_s
            self._tail_until_s = frame.end_s + MAX_TAIL_S
        return detection

    def listening(self, frame: AudioFrame, voice: VoiceView) -> bool:
        """Whether the endpointer hears this frame: awake and within the window (past the wake word's own
        tail), or an utterance under way."""
        if voice.in_speech:
            return True
        if self._woken is None:
            return False
        if self._tail_until_s is not None:
            if frame.start_s < self._tail_until_s and voice.is_speech(frame):
                return False  # still the wake word
            self._tail_until_s = None
        if frame.start_s > self._until_s:
            log.info("wake word %r: nothing said within %g s", self._woken.model, self.window_s)
            self._woken = self._earcon_at_s = None
            return False
        return True

    def earcon_due(self, frame: AudioFrame, voice: VoiceView) -> bool:
        """True once, when the user has been silent ``earcon_after_s`` after the wake word (not when they
        went on in one breath: no tone over the request)."""
        if self._earcon_at_s is None:
            return False
        if voice.in_speech:
            self._earcon_at_s = None
            return False
        if voice.is_speech(frame):  # the word's tail or the request's first frames: the pause starts later
            self._earcon_at_s = frame.end_s + self.earcon_after_s
            return False
        if frame.end_s < self._earcon_at_s:
            return False
        self._earcon_at_s = None
        return True

    def claim(self, utterance: Utterance) -> Utterance:
        """The utterance heard after the wake word carries it; then the assistant sleeps again."""
        woken, self._woken, self._earcon_at_s, self._tail_until_s = self._woken, None, None, None
        if woken is None:
            return utterance  # a follow-up or push-to-talk utterance: the listener's windows decide
        return dataclasses.replace(utterance, wake_word=woken.model)

    def close(self) -> None:
        self.detector.close()
