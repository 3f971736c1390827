"""What the microphone hears while we play: never given to the endpointer, but the echo gate may find the
user's voice in it. With barge-in, that cuts the reply and starts their utterance; in half duplex, what
they said is transcribed off the listen thread and only a stop phrase cuts the reply."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from assistant.events import AudioFrame, Utterance
from assistant.turn.barge_in import BargeInWatch
from assistant.turn.items import PipelineStats, TurnPolicy
from assistant.turn.own_sound import OwnSound
from assistant.turn.stages import Stages
from assistant.turn.stop_words import StopCheck, StopWordListener

log = logging.getLogger(__name__)


class OverOurVoice:
    """Runs on the listen thread (a stop check's transcription runs on a thread of its own)."""

    def __init__(self, own: OwnSound, stats: PipelineStats, watch: BargeInWatch,
                 queue_utterance: Callable[[Utterance], None]) -> None:
        self._own = own
        self._stats = stats
        self._watch = watch  # a barge-in that no words follow teaches the gate our voice
        self._queue_utterance = queue_utterance
        self._stop_check = StopCheck()  # transcribes what was heard over our voice
        self._stop_words: StopWordListener | None = None
        self._gate_window = float("nan")  # the stretch of our sound the echo gate's mic history belongs to

    def use(self, stages: Stages) -> None:
        """A new set of stages: its gate has heard none of the mic history."""
        taking = stages.turn_taking
        self._stop_words = (StopWordListener(taking.echo_gate) if taking.echo_gate is not None
                            and taking.stop_phrase is not None and taking.policy == TurnPolicy.HALF_DUPLEX
                            else None)
        self._gate_window = float("nan")

    @property
    def checking_for_stop(self) -> bool:
        """Speech heard over the reply is being transcribed, to see if it says "stop" (half duplex)."""
        return self._stop_check.running

    def feed(self, frame: AudioFrame, stages: Stages) -> None:
        """A frame that may hold our own sound."""
        gate = stages.turn_taking.echo_gate
        if gate is not None and self._gate_window != self._own.stretch:
            self._gate_window = self._own.stretch  # a new stretch of our sound: the old mic history is stale
            gate.reset()
            if self._stop_words is not None:
                self._stop_words.reset()
        if stages.turn_taking.policy == TurnPolicy.BARGE_IN and gate is not None and gate.feed(frame):
            self._barge_in(stages)
            return
        if self._stop_words is not None:
            heard = self._stop_words.feed(frame)
            if heard is not None:
                self._check_for_stop(heard, stages)
        self._stats.ignored_while_speaking += 1
        if stages.endpointer.in_speech:
            stages.endpointer.reset()  # what it heard so far overlaps our own voice

    def ended(self, stages: Stages) -> None:
        """Our sound ended while they were speaking over it: check what was heard so far."""
        if self._stop_words is not None and self._stop_words.collecting:
            self._check_for_stop(self._stop_words.flush(), stages)

    def _check_for_stop(self, crops: tuple[bytes, ...] | None, stages: Stages) -> None:
        stop_phrase = stages.turn_taking.stop_phrase
        if not crops or stop_phrase is None:
            return
        reply_id, listener = self._own.reply_id, stages.listener

        def heard(text: str) -> None:
            self._stop_heard(text, reply_id, stages)

        if self._stop_check.start(crops, stages.recognizer, listener.guards, stop_phrase,
                                  listener.spoken_wake_phrases(), heard):
            self._stats.stop_checks += 1

    def _stop_heard(self, heard: str, reply_id: int, stages: Stages) -> None:
        """A stop phrase over the reply: cut it (as the stop skill does), if it is still the one playing.
        A reply playing means the worker holds its stages: they are still the ones it plays with."""
        if reply_id != self._own.reply_id or not self._own.speaking:
            log.info("heard %r while speaking, but that reply has already ended", heard)
            return
        log.info("stop heard while speaking: cut the reply (%r)", heard)
        self._stats.stops_while_speaking += 1
        stages.speaker.cancel()

    def _barge_in(self, stages: Stages) -> None:
        """The user talks over the reply: cut it, listen again at once, and start their utterance."""
        gate, endpointer = stages.turn_taking.echo_gate, stages.endpointer
        assert gate is not None
        log.info("barge-in: user speech over the reply (%.0f dB above what our voice leaves here: %.0f dB of "
                 "its echo)", gate.last_residual_db, gate.leak_db)
        self._own.barge_in()
        handed_s = stages.speaker.cancel()
        gate.stop_reference(time.monotonic(), handed_s)
        endpointer.reset()
        # no words follow, or our own: our voice after all
        self._watch.started(gate, endpointer, playing=stages.speaker.playing_text)
        for earlier in gate.frames_since_onset():  # echo-reduced start of what they said
            utterance = endpointer.feed(earlier)
            self._watch.observe(endpointer, utterance)
            if utterance is not None:
                self._queue_utterance(utterance)
        gate.reset(keep_mic=True)  # to go on cleaning the echo that is still arriving
