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
import threading
from collections import deque
from collections.abc import Callable
from typing import Protocol

from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH, AudioFrame, Utterance
from assistant.hearing.listen import heard_in
from assistant.hearing.wake_word import Detection, WakeDetector

log = logging.getLogger(__name__)

# (audio ending with the candidate word, its phrase) -> (heard it, what was heard): Whisper's second opinion
Confirm = Callable[[bytes, str], tuple[bool, str]]
CONFIRM_AUDIO_S = 2.0  # audio before a candidate given to Whisper: the word and a little before it
CLAIM_WAIT_S = 3.0  # a request that ends before its wake word is confirmed waits this long for the answer

# A model may fire before its word is over (measured: "hey mycroft" 100 ms before its end): voiced frames
# right after a detection are taken for the word's tail, up to this long, and kept from the request.
MAX_TAIL_S = 0.3


class VoiceView(Protocol):
    """What wake listening reads from the endpointer (and resets, on a detection)."""

    @property
    def in_speech(self) -> bool: ...

    def is_speech(self, frame: AudioFrame) -> bool: ...

    def reset(self) -> None: ...


class Confirmation:
    """Whisper's verdict on one candidate, given on a thread of its own."""

    def __init__(self, detection: Detection) -> None:
        self.detection = detection
        self.done = threading.Event()
        self.confirmed = False


class WakeListening:
    def __init__(self, detector: WakeDetector, window_s: float, earcon_after_s: float,
                 confirm: Confirm | None = None) -> None:
        self.detector = detector
        self.window_s = window_s
        self.earcon_after_s = earcon_after_s
        self.confirm = confirm  # candidates (detections below the model's cut-off) need it to wake
        self.detections = 0
        self.unconfirmed = 0  # candidates Whisper did not hear the wake phrase in
        self._recent: deque[bytes] = deque()
        self._recent_bytes = 0
        self._confirmation: Confirmation | None = None
        self._lock = threading.Lock()  # _woken is also cleared by a confirmation's thread
        self._woken: Detection | None = None
        self._until_s = 0.0  # the request must begin before this stream time
        self._earcon_at_s: float | None = None
        self._tail_until_s: float | None = None  # the wake word's own last frames may come until then

    @property
    def awake(self) -> bool:
        return self._woken is not None

    def hear(self, frame: AudioFrame, our_words: str = "") -> Detection | None:
        """Feed the detector; on a detection, wake (and stay awake for a new window if already awake). A
        candidate wakes at once too, while Whisper listens for the phrase in it; not heard, it is undone.
        ``our_words``: what we are saying now (over a reply); the wake phrase among them is our own voice."""
        self._remember(frame.pcm)
        detection = self.detector.feed(frame.pcm)
        if detection is not None and our_words and heard_in(our_words, detection.phrase):
            log.info("wake word %s heard while we say %r ourselves: our own voice, ignored", detection.model,
                     our_words)
            return None
        if detection is not None and not detection.sure and self.confirm is None:
            return None
        if detection is not None:
            self.detections += 1
            with self._lock:
                self._woken = detection
            if not detection.sure:
                self._confirm(detection)
            self._until_s = frame.end_s + self.window_s
            self._earcon_at_s = frame.end_s + self.earcon_after_s
            self._tail_until_s = frame.end_s + MAX_TAIL_S
        return detection

    def admit(self, frame: AudioFrame, endpointer: VoiceView, window_open: bool, pause: Callable[[], None]) -> bool:
        """On the listen thread, for a frame the mic heard: whether the endpointer hears it. A detection starts
        the endpointer afresh (the wake word's audio is not the request); ``pause`` is called when the user
        paused after the wake word (the "listening" earcon); ``window_open``: a follow-up or push-to-talk
        window of the listener's, which the endpointer must hear too."""
        if self.hear(frame) is not None:
            endpointer.reset()
        if self.earcon_due(frame, endpointer):
            pause()
        return self.listening(frame, endpointer) or window_open

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

    def _remember(self, pcm: bytes) -> None:
        self._recent.append(pcm)
        self._recent_bytes += len(pcm)
        while self._recent_bytes - len(self._recent[0]) >= CONFIRM_AUDIO_S * SAMPLE_RATE * SAMPLE_WIDTH:
            self._recent_bytes -= len(self._recent.popleft())

    def _confirm(self, detection: Detection) -> None:
        assert self.confirm is not None
        confirm, pcm = self.confirm, b"".join(self._recent)
        confirmation = self._confirmation = Confirmation(detection)

        def run() -> None:
            try:
                confirmation.confirmed, heard = confirm(pcm, detection.phrase)
            except Exception as exc:  # a recognizer failure must not leave the candidate pending
                confirmation.confirmed, heard = False, f"{type(exc).__name__}: {exc}"
            if confirmation.confirmed:
                log.info("wake word %r (p=%.2f) confirmed: Whisper heard %r", detection.model,
                         detection.probability, heard)
            else:
                self.unconfirmed += 1
                with self._lock:
                    if self._woken is detection:
                        self._woken = self._earcon_at_s = self._tail_until_s = None
                log.info("wake word %r (p=%.2f) not confirmed: Whisper heard %r", detection.model,
                         detection.probability, heard)
            confirmation.done.set()

        threading.Thread(target=run, name="wake-confirm", daemon=True).start()

    def _pending(self) -> bool:
        confirmation = self._confirmation
        return confirmation is not None and confirmation.detection is self._woken and not confirmation.done.is_set()

    def earcon_due(self, frame: AudioFrame, voice: VoiceView) -> bool:
        """True once, when the user has been silent ``earcon_after_s`` after the wake word (not when they
        went on in one breath: no tone over the request), and a candidate has been confirmed."""
        if self._earcon_at_s is None or self._pending():
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
        """The utterance heard after the wake word carries it; then the assistant sleeps again. A request
        said before its candidate wake word was confirmed waits for the verdict (frames queue meanwhile)."""
        confirmation = self._confirmation
        if self._pending() and confirmation is not None:
            confirmation.done.wait(CLAIM_WAIT_S)
        with self._lock:
            woken, self._woken, self._earcon_at_s, self._tail_until_s = self._woken, None, None, None
        if woken is None or (not woken.sure and not (confirmation is not None and confirmation.detection is woken
                                                     and confirmation.confirmed)):
            return utterance  # a follow-up or push-to-talk utterance (the listener's windows decide), or unheard
        return dataclasses.replace(utterance, wake_word=woken.model)

    def take(self) -> Detection | None:
        """For a remote brain that runs the turn itself: the detection that woke us (this frame's, or one
        heard over our voice), once; then the assistant sleeps again."""
        with self._lock:
            woken, self._woken, self._earcon_at_s, self._tail_until_s = self._woken, None, None, None
        return woken

    def close(self) -> None:
        self.detector.close()
