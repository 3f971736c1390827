"""The stages a config decides, as one typed set: built together (app/build.py), swapped whole.

A reload builds a new ``Stages`` off the audio thread; the pipeline takes it up between turns (when no
utterance is being heard or answered), so every turn runs on one whole set, old or new. Parts a reload
did not change (the Whisper model, the voice, the sink, the LLM, the echo gate) are shared by both
sets; ``retire`` closes only what the new set no longer uses.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from assistant.audio.echo_gate import EchoGate
from assistant.audio.sinks import AudioSink
from assistant.hearing.listen import Listener
from assistant.hearing.speakers.watch import SpeakerWatch
from assistant.hearing.speculative import Speculator
from assistant.hearing.vad import Endpointer
from assistant.hearing.whisper import Recognizer
from assistant.speech.earcons import Earcons
from assistant.speech.streaming import Speaker
from assistant.turn.items import Router, TurnPolicy
from assistant.turn.wake import WakeListening

log = logging.getLogger(__name__)


class Closable(Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True)
class TurnTaking:
    """How the user's voice over ours is told apart (echo gate) and acted on (policy, stop phrases)."""

    policy: TurnPolicy = TurnPolicy.HALF_DUPLEX
    echo_gate: EchoGate | None = None  # tells the user's voice from our echo (barge-in, stop words)
    stop_phrase: Callable[[str], bool] | None = None  # half duplex: is this transcript a stop phrase?


@dataclass(frozen=True)
class Stages:
    endpointer: Endpointer
    recognizer: Recognizer
    listener: Listener  # guards, wake phrase, follow-up and push-to-talk windows
    router: Router
    speaker: Speaker  # synthesizer + sink, sentence by sentence
    turn_taking: TurnTaking = TurnTaking()
    speculator: Speculator | None = None  # transcribes during the hangover (None: recognise after it)
    wake: WakeListening | None = None  # wake_word mode: the detector, and what the endpointer hears
    speaker_id: SpeakerWatch | None = None  # who is speaking (enrolled voices), beside Whisper
    earcons: Earcons | None = None
    echo_tail_s: float = 0.3  # after we stop playing, mic frames may still hold our sound this long
    fallback: Closable | None = None  # the LLM behind the router, owned here (a reload may share it)
    # Run once this set is taken up, on the thread that takes it (starts timer announcements, binds the
    # LLM's tools to this router).
    on_activate: Callable[[Stages | None], None] | None = None

    @property
    def sink(self) -> AudioSink:
        return self.speaker.sink

    def activate(self, previous: Stages | None) -> None:
        """Wire this set in: the echo gate hears what our voice plays, and what depends on it starts."""
        tap = self.turn_taking.echo_gate.add_reference if self.turn_taking.echo_gate is not None else None
        self.speaker.on_audio = tap
        if self.earcons is not None:
            self.earcons.on_audio = tap
        if self.on_activate is not None:
            self.on_activate(previous)

    def retire(self, successor: Stages | None = None) -> None:
        """Close what ``successor`` does not share (with None: everything but the sink, which belongs to
        whoever opened it, like the microphone)."""
        self.router.close()
        if self.speculator is not None and (successor is None or self.speculator is not successor.speculator):
            self.speculator.close()
        if self.wake is not None and (successor is None or self.wake is not successor.wake):
            self.wake.close()
        if self.speaker_id is not None and (successor is None or self.speaker_id is not successor.speaker_id):
            self.speaker_id.close()
        if self.fallback is not None and (successor is None or self.fallback is not successor.fallback):
            self.fallback.close()
        if successor is not None and self.sink is not successor.sink:
            self.sink.close()


class PendingStages:
    """A reload's set of stages, waiting for a turn boundary; a newer set replaces (and retires) it."""

    def __init__(self) -> None:
        self._pending: tuple[Stages, threading.Event] | None = None
        self._lock = threading.Lock()

    @property
    def waiting(self) -> bool:
        return self._pending is not None

    def offer(self, stages: Stages) -> threading.Event:
        """Queue ``stages``; the event is set once they are in use (or superseded by a newer set)."""
        taken = threading.Event()
        with self._lock:
            replaced, self._pending = self._pending, (stages, taken)
        if replaced is not None:
            replaced[0].retire(stages)
            replaced[1].set()  # superseded: the newer set will carry its settings
        return taken

    def take(self) -> tuple[Stages, threading.Event] | None:
        with self._lock:
            pending, self._pending = self._pending, None
        return pending
