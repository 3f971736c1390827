"""Was there a user after all? What became of a barge-in, told back to the echo gate.

The echo gate cuts our reply when it hears more in the mic than our own voice leaves (audio/echo_gate.py).
In a reverberant room our voice ringing on can fool it; the reply is cut either way, but whether someone
spoke shows afterwards: the endpointer finds no utterance, or one too short for speech, or the second-stage
VAD, the recogniser or its guards find no words in it. Then the run that triggered was our voice, and the
gate learns it as such, so that the same room does not cut the next reply the same way.

Our voice can also come out of the recogniser as words: the reply's own, at the moment it was cut. Those
are told by comparing them with what we were saying (``our_words``); such an utterance is not answered.

    listen thread: started(gate, endpointer, playing) -> observe(endpointer, utterance) per frame
                   no utterance within NO_SPEECH_S, or a discarded one     -> gate.false_alarm()
    turn worker:   our_words(utterance, transcript): a stretch of our reply -> gate.false_alarm(), not answered
                   judged(utterance, words) for the barge-in's utterance   -> gate.false_alarm() if no words
"""

from __future__ import annotations

import logging
import threading
import time

from assistant.audio.echo_gate import EchoGate
from assistant.brain.text import normalise
from assistant.events import Utterance
from assistant.hearing.distance import edits_to_find
from assistant.hearing.vad import Endpointer

log = logging.getLogger(__name__)

NO_SPEECH_S = 1.5  # after the cut, this long without the endpointer starting an utterance: nobody spoke
# A transcript is our own reply when it is a stretch of it: at least this many words (a user's "no, stop
# it" may share two words with the reply) ...
OWN_WORDS_MIN = 3
# ... with at most this share of them different (Whisper mishears our echo a little; a user who rephrases
# what we said, "is the front door locked" over "the front door is locked", differs in 2 of 5)
OWN_WORDS_ERRORS = 0.25


# Whisper writes "it's" where espeak said "it is" (and a possessive "'s" becomes "is" on both sides alike)
_CONTRACTIONS = (("n't", " not"), ("'s", " is"), ("'re", " are"), ("'ll", " will"), ("'ve", " have"),
                 ("'m", " am"), ("'d", " would"))


def _plain_words(text: str) -> list[str]:
    text = normalise(text)
    for short, long in _CONTRACTIONS:
        text = text.replace(short, long)
    return text.split()


def echoes_reply(heard: str, reply: str) -> bool:
    """Whether the transcript ``heard`` is a stretch of our ``reply`` (see OWN_WORDS_MIN, OWN_WORDS_ERRORS)."""
    words, ours = _plain_words(heard), _plain_words(reply)
    if len(words) < OWN_WORDS_MIN or not ours:
        return False
    return edits_to_find(words, ours) <= OWN_WORDS_ERRORS * len(words)


class BargeInWatch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gate: EchoGate | None = None  # the gate that triggered, while its barge-in is undecided
        self._deadline = 0.0
        self._discarded = 0
        self._spoke = False  # the endpointer started an utterance since the cut
        self._utterance: Utterance | None = None  # handed to the worker, which finds words in it or not
        self._playing = ""  # what we were saying when the barge-in cut us

    def started(self, gate: EchoGate, endpointer: Endpointer, now: float | None = None, playing: str = "") -> None:
        """A barge-in has just cut the reply, which was saying ``playing`` (listen thread)."""
        with self._lock:
            self._gate, self._utterance, self._playing = gate, None, playing
            self._deadline = (time.monotonic() if now is None else now) + NO_SPEECH_S
            self._discarded, self._spoke = endpointer.discarded, endpointer.in_speech

    def observe(self, endpointer: Endpointer, utterance: Utterance | None, now: float | None = None) -> None:
        """After each frame the endpointer took (listen thread): did the barge-in lead to an utterance?"""
        with self._lock:
            if self._gate is None or self._utterance is not None:
                return
            if utterance is not None:
                self._utterance = utterance
                return
            self._spoke = self._spoke or endpointer.in_speech
            if endpointer.discarded > self._discarded:
                self._learn("what followed was too short for speech")
            elif not self._spoke and (time.monotonic() if now is None else now) > self._deadline:
                self._learn(f"no speech followed within {NO_SPEECH_S:g} s")

    def our_words(self, utterance: Utterance, transcript: str) -> bool:
        """Whether the barge-in's ``utterance``, heard as ``transcript``, is a stretch of what we were saying:
        our own voice as words, learnt as such (turn worker; the caller does not answer it)."""
        with self._lock:
            if self._gate is None or utterance is not self._utterance or not echoes_reply(transcript, self._playing):
                return False
            self._learn(f"it said our own words, {transcript.strip()!r}")
            return True

    def judged(self, utterance: Utterance, words: bool) -> None:
        """The worker's verdict on an utterance: whether it held words (turn worker)."""
        with self._lock:
            if self._gate is None or utterance is not self._utterance:
                return
            if words:
                self._gate = self._utterance = None
            else:
                self._learn("no words in what followed")

    def _learn(self, why: str) -> None:
        assert self._gate is not None
        learnt = self._gate.false_alarm()
        log.info("barge-in was our own voice (%s): learnt %d frames of it; our voice leaves %.1f dB here", why,
                 learnt, self._gate.leak_db)
        self._gate = self._utterance = None
