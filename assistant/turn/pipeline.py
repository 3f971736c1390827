"""The assistant's data flow, in one place.

    Capture (thread) --frames--> listen loop: [wake_word mode: WakeListening, the detector on every frame;
        the endpointer hears only what follows a detection] Endpointer (+ Speculator: ASR during the hangover;
        + SpeakerWatch: who is speaking, beside it) --Utterance--> turn worker (thread): Listener.confirm_speech
        (Silero) -> Recognizer (or the speculation's transcript) -> Listener.accept (guards, wake phrase) ->
        Router (skills, commands, LLM; told the speaker) --Reply--> Speaker (next sentence synthesized while this
        one plays) --PCM--> AudioSink

    While we play (a reply or an earcon, plus ``echo_tail_s``: OwnSound), frames skip the endpointer and go
    to OverOurVoice:
        barge_in:    EchoGate finds the user's voice over ours -> cut the reply, their words -> Endpointer
                     (no words follow: BargeInWatch tells the gate it was our own voice)
        half_duplex: EchoGate -> StopWordListener (<= 1.5 s) -> "stop-words" thread: Recognizer ->
                     a stop phrase? -> cut the reply (like the stop skill); anything else is ignored

Capture only reads and queues, so audio keeps flowing while the worker thinks or speaks. One turn runs at
a time; utterances, text jobs (control socket, a timer) and earcon cues (push-to-talk) wait in one queue,
so the worker is the only thread that plays anything. Earcons: "thinking" when an utterance goes to
recognition, "listening" when the next utterance needs no wake phrase (a wake phrase said alone,
push-to-talk, a follow-up window), "error" when a turn fails.

A remote brain (``remote``: Home Assistant over the ESPHome API) may take the frames after our wake word;
the audio it sends back is queued as ``Playback`` and played like a reply.

The stages (turn/stages.py) are one config's whole set. A reload hands a new set to ``swap``; the listen
loop takes it up in one step between turns (see ``_take_up``), and each turn runs on the set it began with.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from assistant.audio.sources import Capture
from assistant.events import RequestContext, SentenceScorer, TurnReport, Utterance
from assistant.hearing.rescore import scorer_for_request
from assistant.hearing.speakers.watch import with_speaker
from assistant.speech.earcons import Kind
from assistant.speech.text import split_sentences
from assistant.turn.barge_in import BargeInWatch
from assistant.turn.items import Cue, PipelineStats, Playback, RemoteTurns, TextJob, TurnState
from assistant.turn.over_our_voice import OverOurVoice
from assistant.turn.own_sound import OwnSound
from assistant.turn.replies import llm_outcome, ms, sentences_of
from assistant.turn.stages import PendingStages, Stages

log = logging.getLogger(__name__)


class Pipeline:
    """Capture and one set of stages (see turn/stages.py), run as the listen loop and the turn worker."""

    def __init__(self, capture: Capture, stages: Stages, *,
                 on_turn: Callable[[TurnReport], None] | None = None) -> None:
        self.capture = capture
        self.on_turn = on_turn
        self.stats = PipelineStats()
        self.volume = 1.0  # the assistant's own output level (skills turn it up and down)
        self.muted = False  # mic frames are read (nothing piles up) but not listened to
        self.turn_started_at: float | None = None  # watchdog: a turn busy for too long is wedged
        self.state = TurnState.STARTING
        self._utterances: queue.Queue[Utterance | TextJob | Cue | Playback | None] = queue.Queue()
        self.remote: RemoteTurns | None = None  # Home Assistant's pipeline may take the turn (remote/)
        # A new set of stages waits here until no utterance is being heard or answered (see _take_up).
        self._pending = PendingStages()
        self._turn_lock = threading.Lock()  # held by the worker for each item: no swap mid-turn
        self._utterances_in_flight = 0  # queued or being answered; only the listen thread adds
        self._in_flight_lock = threading.Lock()
        self._barge_in_watch = BargeInWatch()  # a barge-in that no words follow teaches the gate our voice
        self._own = OwnSound()  # when mic frames may hold our own sound (the half-duplex gate)
        self._over_our_voice = OverOurVoice(self._own, self.stats, self._barge_in_watch, self._queue_utterance)
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name="turns", daemon=True)
        self.stages = stages
        self._use(stages, previous=None)

    # ---- lifecycle -------------------------------------------------------------------------------

    def run(self) -> None:
        """Listen until the source ends or stop() is called, then finish the queued turns."""
        self.capture.start()
        self._worker.start()
        self.state = TurnState.LISTENING
        try:
            self._listen()
        finally:
            self._utterances.put(None)
            self._worker.join()
            self.state = TurnState.STOPPED

    def stop(self, cut_reply: bool = True) -> None:
        self._stopping.set()
        self.capture.stop()
        if cut_reply:
            self.stages.speaker.cancel()

    def close(self) -> None:
        """Release what the stages hold (the router's timer thread, the LLM, ...); devices are the caller's."""
        pending = self._pending.take()
        if pending is not None:
            pending[0].retire(self.stages)
        self.stages.retire()

    # ---- swapping the stages (a reload) ----------------------------------------------------------

    def swap(self, stages: Stages) -> threading.Event:
        """Use ``stages`` from the next turn boundary on; the event is set once they are in use. A set
        still waiting is dropped for the newer one."""
        return self._pending.offer(stages)

    def _take_up(self) -> None:
        """On the listen thread: swap in a pending set when nothing is in flight. The endpointer is idle
        (no utterance half heard), nothing of ours is playing or echoing, no utterance waits or is being
        answered, and the worker is between items (it holds _turn_lock for each)."""
        if not self._pending.waiting or self.stages.endpointer.in_speech or self._utterances_in_flight:
            return
        if not self._own.quiet(time.monotonic()) or not self._turn_lock.acquire(blocking=False):
            return
        try:
            pending = self._pending.take()
            if pending is None:
                return
            stages, taken = pending
            previous, self.stages = self.stages, stages
            previous.retire(stages)  # first: its timers stop before the new router's start
            self._use(stages, previous)
        finally:
            self._turn_lock.release()
        taken.set()

    def _use(self, stages: Stages, previous: Stages | None) -> None:
        stages.speaker.gain = lambda: self.volume
        stages.activate(previous)
        self._over_our_voice.use(stages)

    def push_to_talk(self) -> None:
        """The next utterance is a request, wake phrase or not."""
        log.info("push-to-talk: listening")
        self.stages.listener.push_to_talk(time.monotonic())
        self._utterances.put(Cue("listening"))  # the worker plays it (after a reply that is playing)

    def deaf_at(self, captured_at: float) -> bool:
        """Whether a frame captured then is kept from the endpointer (it may hold our own sound)."""
        return self._own.deaf_at(captured_at)

    @property
    def busy(self) -> bool:
        return self._own.speaking or not self._utterances.empty()

    @property
    def checking_for_stop(self) -> bool:
        """Speech heard over the reply is being transcribed, to see if it says "stop" (half duplex)."""
        return self._over_our_voice.checking_for_stop

    # ---- listening (main thread) -------------------------------------------------------------------

    def _listen(self) -> None:
        while not self._stopping.is_set():
            self._take_up()  # a reloaded set of stages, between turns
            try:
                frame = self.capture.frames.get(timeout=0.5)
            except queue.Empty:
                continue
            if frame is None:
                break
            stages = self.stages
            endpointer, gate = stages.endpointer, stages.turn_taking.echo_gate
            if self.muted:
                if endpointer.in_speech:
                    endpointer.reset()
                continue
            wake = stages.wake
            if self.deaf_at(frame.captured_at):
                self._over_our_voice.feed(frame, stages)
                detection = wake.hear(frame, stages.speaker.playing_text) if wake is not None else None
                # the wake word over our reply (not in our own words): stop talking and listen (a mere candidate,
                # which may be our own voice, does not cut the reply before Whisper has confirmed it: it only wakes)
                if detection is not None and detection.sure:
                    stages.speaker.cancel()
                continue
            self._over_our_voice.ended(stages)
            if self.remote is not None and self.remote.takes(frame, wake):
                continue  # a remote brain's turn: the wake word and the request went to Home Assistant
            if wake is not None and not wake.admit(frame, endpointer, stages.listener.expects_request(
                    frame.captured_at), lambda: self._utterances.put(Cue("listening"))):
                continue  # asleep: only the wake word detector heard this frame
            if self._own.barged_in and gate is not None and gate.echo_may_arrive(frame):
                frame = gate.clean(frame)  # the last of our cut voice is still coming back
            utterance = endpointer.feed(frame)
            self._barge_in_watch.observe(endpointer, utterance)
            if stages.speculator is not None:
                stages.speculator.observe(frame, endpointer)
            if stages.speaker_id is not None:  # who is speaking, found during the hangover
                stages.speaker_id.observe(frame, endpointer)
            if utterance is not None:
                self._queue_utterance(wake.claim(utterance) if wake is not None else utterance)
        if not self._stopping.is_set():  # end of stream: a recording may end mid-utterance
            tail = self.stages.endpointer.flush()
            if tail is not None:
                self._queue_utterance(tail)

    def _queue_utterance(self, utterance: Utterance) -> None:
        with self._in_flight_lock:
            self._utterances_in_flight += 1
        self._utterances.put(utterance)

    # ---- one turn at a time (worker thread) ------------------------------------------------------

    def submit_text(self, text: str, *, route: bool = True) -> TextJob:
        """Queue a typed request (route=True) or an announcement to speak as is (route=False).

        Used by the control socket and by skills (a timer going off); the job runs in turn with spoken
        utterances, so the assistant never talks over itself. ``job.done.wait()`` for the report.
        """
        job = TextJob(text=text, route=route)
        self._utterances.put(job)
        return job

    def submit(self, item: Playback | Cue) -> None:
        """Queue audio made elsewhere (a remote brain's reply) or an earcon, played in turn with replies."""
        self._utterances.put(item)

    def _work(self) -> None:
        while True:
            item = self._utterances.get()
            if item is None:
                return
            try:
                with self._turn_lock:  # the stages stay those of this item's start until it is done
                    self._do(item, self.stages)
            finally:
                if isinstance(item, Utterance):
                    with self._in_flight_lock:
                        self._utterances_in_flight -= 1
                # a typed request's answer goes back only now: its asker then finds it in the history
                if isinstance(item, TextJob | Playback):
                    item.done.set()

    def _do(self, item: Utterance | TextJob | Cue | Playback, stages: Stages) -> None:
        if self._stopping.is_set():
            return
        if isinstance(item, Cue):
            self._earcon(item.kind, stages)
            return
        if isinstance(item, Playback):
            self.state = TurnState.SPEAKING
            with self._own.reply(), self._own_sound(stages):
                item.first_sample = stages.speaker.play(item.pcm, item.rate)
            self.state = TurnState.LISTENING
            return
        self.turn_started_at = time.monotonic()
        try:
            if isinstance(item, TextJob):
                report = item.report = self.handle_text(item.text, route=item.route, stages=stages)
            else:
                report = self.handle(item, stages)
        finally:
            self.turn_started_at = None
        self.stats.turns += 1
        self.stats.last_turns = [*self.stats.last_turns[-19:], report]
        if self.on_turn is not None:
            try:
                self.on_turn(report)
            except Exception:  # logging, history, saving the room: none of it may stop the turns
                log.exception("after the turn")

    def handle(self, utterance: Utterance, stages: Stages | None = None) -> TurnReport:
        """Recognise, route and answer one utterance. Never raises: failures end up in the report."""
        stages = stages or self.stages
        listener = stages.listener
        report = TurnReport(speech_start=utterance.start_s, speech_end=utterance.end_s)
        report.latency_ms["endpoint"] = ms(utterance.ended_at - utterance.speech_end_at)
        try:
            self.state = TurnState.THINKING
            not_speech = listener.confirm_speech(utterance)  # second-stage VAD: no Whisper for noise
            if not_speech is not None:
                report.dropped = not_speech
                self._barge_in_watch.judged(utterance, words=False)
                return report
            self._earcon("thinking", stages)
            who = stages.speaker_id.begin(utterance) if stages.speaker_id is not None else None  # beside Whisper
            transcript = None
            speculation = stages.speculator.take(utterance) if stages.speculator is not None else None
            if speculation is not None:  # recognised during the hangover, from this very audio
                transcript = speculation.transcript
                report.latency_ms["speculation_lead"] = ms(utterance.ended_at - speculation.started_at)
                report.end_of_turn = speculation.verdict.value if speculation.verdict is not None else None
            if transcript is None:
                transcript = stages.recognizer.transcribe(utterance.pcm, initial_prompt=listener.initial_prompt)
            report.latency_ms["asr"] = ms(transcript.asr_s)
            report.latency_ms["transcript"] = ms(time.monotonic() - utterance.speech_end_at)
            report.transcript = transcript.text
            if self._barge_in_watch.our_words(utterance, transcript.text):
                report.dropped = "our own words: the barge-in heard our reply, not a user"
                return report
            decision = listener.accept(transcript, utterance, time.monotonic())
            self._barge_in_watch.judged(utterance, words=not decision.noise)
            if decision.request is None:  # hallucination, no wake phrase, wake phrase alone, ...
                report.dropped = decision.reason
                if decision.wake_only:
                    self._earcon("listening", stages)  # "go ahead": the next utterance needs no wake phrase
                return report
            report.wake_word = utterance.wake_word
            speaker = who.tell(report) if who is not None else None
            self._answer(decision.request, report, stages, since=utterance.speech_end_at,
                         scorer=scorer_for_request(transcript, decision.request),
                         context=with_speaker(listener.context_for(utterance), speaker))
            if listener.on_reply_finished(time.monotonic()):  # a follow-up window opened
                self._earcon("listening", stages)
        except Exception as exc:  # one bad turn must not end the daemon
            self._failed(report, exc, stages)
        finally:
            self.state = TurnState.LISTENING
        return report

    def handle_text(self, text: str, *, route: bool = True, stages: Stages | None = None) -> TurnReport:
        """A typed request or an announcement: the same path as speech, minus the ear."""
        stages = stages or self.stages
        report = TurnReport(speech_start=0.0, speech_end=0.0, transcript=text if route else "")
        try:
            if route:
                self._answer(text, report, stages, since=time.monotonic())
            else:
                report.reply, report.handled_by = text, "announcement"
                self.say(split_sentences(text), stages, time.monotonic(), report)
        except Exception as exc:
            self._failed(report, exc, stages)
        finally:
            self.state = TurnState.LISTENING
        return report

    def _failed(self, report: TurnReport, exc: Exception, stages: Stages) -> None:
        self.stats.errors += 1
        report.error = f"{type(exc).__name__}: {exc}"
        log.exception("turn failed")
        with contextlib.suppress(Exception):  # tell the user, if the voice itself still works
            self._earcon("error", stages)
            self.say(["Sorry, something went wrong."], stages)

    def _answer(self, text: str, report: TurnReport, stages: Stages, since: float,
                scorer: SentenceScorer | None = None, context: RequestContext | None = None) -> None:
        reply = stages.router.route(text, scorer, context)
        report.latency_ms["reply_text"] = ms(time.monotonic() - since)
        report.handled_by, report.intent = reply.handled_by, reply.intent
        self._apply(reply.action, stages)
        spoken: list[str] = []
        try:
            self.say(sentences_of(reply, spoken), stages, since, report)
        finally:
            report.reply = " ".join(spoken)
        self._apply(llm_outcome(reply, report), stages)

    def _apply(self, action: dict[str, Any] | None, stages: Stages) -> None:
        """Effects of a reply on the assistant itself (the router documents the action types)."""
        if not action:
            return
        kind = action.get("type")
        if kind == "volume" and isinstance(action.get("level"), int | float):
            self.volume = min(1.0, max(0.0, float(action["level"])))
        elif kind == "stop":
            stages.speaker.cancel()

    def _earcon(self, kind: Kind, stages: Stages) -> None:
        """Play one earcon, if configured, behind the half-duplex gate like speech: the mic must not take
        our own tone for the start of an utterance."""
        earcons = stages.earcons
        if earcons is None or not earcons.enabled(kind):
            return
        try:
            with self._own_sound(stages):
                earcons.play(kind)
        except Exception as exc:  # a tone is a nicety: the turn goes on without it
            log.warning("%s earcon failed: %s: %s", kind, type(exc).__name__, exc)

    @contextlib.contextmanager
    def _own_sound(self, stages: Stages) -> Iterator[None]:
        """While we play (and ``echo_tail_s`` after), mic frames may hold our own sound: the listen loop
        keeps them from the endpointer (see _while_speaking). Only a sink heard in the room counts."""
        if not stages.sink.audible:
            yield
            return
        with self._own.playing(stages.echo_tail_s):
            yield

    def say(self, sentences: Iterator[str] | list[str], stages: Stages, since: float | None = None,
            report: TurnReport | None = None) -> None:
        """Synthesize and play sentence by sentence: the first plays while later ones wait their turn."""
        self.state = TurnState.SPEAKING
        with self._own.reply(), self._own_sound(stages):
            # the next sentence is synthesized while this one plays (speech/streaming.py)
            timeline = stages.speaker.say(s for s in sentences if not self._stopping.is_set())
        if report is not None and since is not None and timeline.first_sample is not None:
            report.latency_ms.setdefault("reply_audio", ms(timeline.first_sample - since))
