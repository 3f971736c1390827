"""The assistant's data flow, in one place.

    Capture (thread) --frames--> listen loop: Endpointer (+ Speculator: ASR during the hangover)
        --Utterance--> turn worker (thread): Listener.confirm_speech (Silero) -> Recognizer (or the
        speculation's transcript) -> Listener.accept (guards, wake phrase) -> Router (skills, commands,
        LLM) --Reply--> Speaker (next sentence synthesized while this one plays) --PCM--> AudioSink

    While we play (a reply or an earcon, plus ``echo_tail_s``), frames skip the endpointer:
        barge_in:    EchoGate finds the user's voice over ours -> cut the reply, their words -> Endpointer
                     (no words follow: BargeInWatch tells the gate it was our own voice)
        half_duplex: EchoGate -> StopWordListener (<= 1.5 s) -> "stop-words" thread: Recognizer ->
                     a stop phrase? -> cut the reply (like the stop skill); anything else is ignored

Capture only reads and queues, so audio keeps flowing while the worker thinks or speaks. The listen
loop owns the endpointer and the half-duplex gate: frames captured while the assistant makes a sound
never reach the endpointer, so it cannot answer itself. "Stop" still works in half duplex: the echo gate
(which knows what we played) tells the user's voice from our echo, and only a stop phrase is acted on;
no turn starts from it. One turn runs at a time; utterances, text jobs (control socket, a timer) and
earcon cues (push-to-talk) wait in one queue, so the worker is the only thread that plays anything.
Earcons: "thinking" when an utterance goes to recognition, "listening" when the next utterance needs no
wake phrase (a wake phrase said alone, push-to-talk, a follow-up window), "error" when a turn fails.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from assistant.audio.echo_gate import EchoGate
from assistant.audio.sinks import AudioSink
from assistant.audio.sources import Capture
from assistant.events import AudioFrame, SentenceScorer, TurnReport, Utterance
from assistant.hearing.listen import Listener
from assistant.hearing.rescore import scorer_for_request
from assistant.hearing.speculative import Speculator
from assistant.hearing.vad import Endpointer
from assistant.hearing.whisper import Recognizer
from assistant.speech.base import Synthesizer
from assistant.speech.earcons import Earcons, Kind
from assistant.speech.streaming import Speaker
from assistant.speech.text import split_sentences
from assistant.turn.barge_in import BargeInWatch
from assistant.turn.items import Cue, PipelineStats, Router, TextJob, TurnPolicy
from assistant.turn.stop_words import StopCheck, StopWordListener

log = logging.getLogger(__name__)


def ms(seconds: float) -> float:
    return seconds * 1000.0


class Pipeline:
    def __init__(
        self,
        *,
        capture: Capture,
        endpointer: Endpointer,
        recognizer: Recognizer,
        router: Router,
        synthesizer: Synthesizer,
        sink: AudioSink,
        echo_tail_s: float = 0.3,
        on_turn: Callable[[TurnReport], None] | None = None,
        listener: Listener | None = None,
        speculator: Speculator | None = None,
        echo_gate: EchoGate | None = None,
        policy: TurnPolicy = "half_duplex",
        stop_phrase: Callable[[str], bool] | None = None,
        earcons: Earcons | None = None,
        lookahead: int = 2,
        max_chars: int = 4000,
    ) -> None:
        self.capture = capture
        self.endpointer = endpointer
        self.recognizer = recognizer
        self.router = router
        self.synthesizer = synthesizer
        self.sink = sink
        self.echo_tail_s = echo_tail_s
        self.on_turn = on_turn
        self.speculator = speculator  # transcribes during the hangover (None: recognise after it)
        self.speaker = Speaker(synthesizer, sink, lookahead=lookahead, max_chars=max_chars,
                               gain=lambda: self.volume)
        self._use_turn_taking(policy, echo_gate, stop_phrase, earcons)
        self._new_turn_taking: tuple[TurnPolicy, EchoGate | None, Callable[[str], bool] | None,
                                     Earcons | None] | None = None
        self._stop_check = StopCheck()  # transcribes what was heard over our voice, off the listen thread
        self._barged_in = threading.Event()
        self._barge_in_watch = BargeInWatch()  # a barge-in that no words follow teaches the gate our voice
        self._reply_id = 0  # which reply is playing: a late "stop" must not cut the next one
        self.listener = listener or Listener()  # guards, wake phrase, follow-up and push-to-talk windows
        self.stats = PipelineStats()
        self.volume = 1.0  # the assistant's own output level (skills turn it up and down)
        self.muted = False  # mic frames are read (nothing piles up) but not listened to
        self.turn_started_at: float | None = None  # watchdog: a turn busy for too long is wedged
        self._new_endpointer: Endpointer | None = None
        self.state = "starting"
        self._utterances: queue.Queue[Utterance | TextJob | Cue | None] = queue.Queue()
        self._speaking = threading.Event()
        # Frames captured in [_deaf_from, _deaf_until) may hold our own voice (half-duplex gate).
        self._deaf_from = float("inf")
        self._deaf_until = 0.0
        self._gate_window = float("nan")  # the _deaf_from the echo gate's mic history belongs to
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name="turns", daemon=True)

    # ---- lifecycle -------------------------------------------------------------------------------

    def run(self) -> None:
        """Listen until the source ends or stop() is called, then finish the queued turns."""
        self.capture.start()
        self._worker.start()
        self.state = "listening"
        try:
            self._listen()
        finally:
            self._utterances.put(None)
            self._worker.join()
            self.state = "stopped"

    def stop(self, cut_reply: bool = True) -> None:
        self._stopping.set()
        self.capture.stop()
        if cut_reply:
            self.speaker.cancel()

    def close(self) -> None:
        """Release what the stages hold (the router's timer thread, ...); devices belong to the caller."""
        close = getattr(self.router, "close", None)
        if callable(close):
            close()

    def replace_output(self, synthesizer: Synthesizer | None = None, sink: AudioSink | None = None) -> None:
        """New voice and/or speaker from a reload; takes effect from the next reply."""
        if synthesizer is not None:
            self.synthesizer = self.speaker.synthesizer = synthesizer
        if sink is not None:
            self.sink = self.speaker.sink = sink
            if self.earcons is not None:
                self.earcons.sink = sink

    def replace_turn_taking(self, policy: TurnPolicy, echo_gate: EchoGate | None,
                            stop_phrase: Callable[[str], bool] | None, earcons: Earcons | None) -> None:
        """New turn-taking settings from a reload, taken up before the next turn or cue (never during a
        reply: the gate must hear a reply from its first sample)."""
        self._new_turn_taking = (policy, echo_gate, stop_phrase, earcons)

    def _use_turn_taking(self, policy: TurnPolicy, echo_gate: EchoGate | None,
                         stop_phrase: Callable[[str], bool] | None, earcons: Earcons | None) -> None:
        self.echo_gate = echo_gate  # tells the user's voice from our echo (barge-in, stop words)
        self.policy = policy
        # half duplex: is this transcript a stop phrase? (None: nothing said over our voice is heard)
        self.stop_phrase = stop_phrase
        self._stop_words = (StopWordListener(echo_gate) if echo_gate is not None and stop_phrase is not None
                            and policy == "half_duplex" else None)
        tap = echo_gate.add_reference if echo_gate is not None else None  # what we play, for the gate
        self.earcons = earcons
        if earcons is not None:
            earcons.on_audio = tap
        self.speaker.on_audio = tap

    def replace_endpointer(self, endpointer: Endpointer) -> None:
        """Use new VAD settings from the next frame on (called from another thread by a reload)."""
        self._new_endpointer = endpointer

    def push_to_talk(self) -> None:
        """The next utterance is a request, wake phrase or not."""
        log.info("push-to-talk: listening")
        self.listener.push_to_talk(time.monotonic())
        self._utterances.put(Cue("listening"))  # the worker plays it (after a reply that is playing)

    def deaf_at(self, captured_at: float) -> bool:
        """Whether a frame captured then is kept from the endpointer (it may hold our own sound)."""
        return self._deaf_from <= captured_at < self._deaf_until

    @property
    def busy(self) -> bool:
        return self._speaking.is_set() or not self._utterances.empty()

    @property
    def checking_for_stop(self) -> bool:
        """Speech heard over the reply is being transcribed, to see if it says "stop" (half duplex)."""
        return self._stop_check.running

    # ---- listening (main thread) -------------------------------------------------------------------

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                frame = self.capture.frames.get(timeout=0.5)
            except queue.Empty:
                continue
            if frame is None:
                break
            if self._new_endpointer is not None:  # swapped in by a reload; only this thread feeds it
                self.endpointer, self._new_endpointer = self._new_endpointer, None
            if self.muted:
                if self.endpointer.in_speech:
                    self.endpointer.reset()
                continue
            if self.deaf_at(frame.captured_at):
                self._while_speaking(frame)
                continue
            if self._stop_words is not None and self._stop_words.collecting:
                self._check_for_stop(self._stop_words.flush())  # our sound ended while they spoke
            if self._barged_in.is_set() and self.echo_gate is not None and self.echo_gate.echo_may_arrive(frame):
                frame = self.echo_gate.clean(frame)  # the last of our cut voice is still coming back
            utterance = self.endpointer.feed(frame)
            self._barge_in_watch.observe(self.endpointer, utterance)
            if self.speculator is not None:
                self.speculator.observe(frame, self.endpointer)
            if utterance is not None:
                self._utterances.put(utterance)
        if not self._stopping.is_set():  # end of stream: a recording may end mid-utterance
            tail = self.endpointer.flush()
            if tail is not None:
                self._utterances.put(tail)

    def _while_speaking(self, frame: AudioFrame) -> None:
        """A frame that may hold our own sound: never for the endpointer, but the echo gate may find the
        user's voice in it (barge-in; in half duplex, a possible "stop")."""
        if self.echo_gate is not None and self._gate_window != self._deaf_from:
            self._gate_window = self._deaf_from  # a new stretch of our sound: the old mic history is stale
            self.echo_gate.reset()
            if self._stop_words is not None:
                self._stop_words.reset()
        if self.policy == "barge_in" and self.echo_gate is not None and self.echo_gate.feed(frame):
            self._barge_in()
            return
        if self._stop_words is not None:
            heard = self._stop_words.feed(frame)
            if heard is not None:
                self._check_for_stop(heard)
        self.stats.ignored_while_speaking += 1
        if self.endpointer.in_speech:
            self.endpointer.reset()  # what it heard so far overlaps our own voice

    def _check_for_stop(self, crops: tuple[bytes, ...] | None) -> None:
        """Transcribe speech heard over our voice off the listen thread; cut the reply if it says stop."""
        if not crops or self.stop_phrase is None:
            return
        reply_id = self._reply_id
        if self._stop_check.start(crops, self.recognizer, self.listener.guards, self.stop_phrase,
                                  self.listener.config.wake_phrases, lambda heard: self._stop_heard(heard, reply_id)):
            self.stats.stop_checks += 1

    def _stop_heard(self, heard: str, reply_id: int) -> None:
        """A stop phrase over the reply: cut it (as the stop skill does), if it is still the one playing."""
        if reply_id != self._reply_id or not self._speaking.is_set():
            log.info("heard %r while speaking, but that reply has already ended", heard)
            return
        log.info("stop heard while speaking: cut the reply (%r)", heard)
        self.stats.stops_while_speaking += 1
        self._apply({"type": "stop"})

    def _barge_in(self) -> None:
        """The user talks over the reply: cut it, listen again at once, and start their utterance."""
        assert self.echo_gate is not None
        log.info("barge-in: user speech over the reply (%.0f dB above what our voice leaves here: %.0f dB of "
                 "its echo)", self.echo_gate.last_residual_db, self.echo_gate.leak_db)
        self._barged_in.set()
        handed_s = self.speaker.cancel()
        self.echo_gate.stop_reference(time.monotonic(), handed_s)
        self._deaf_from, self._deaf_until = float("inf"), 0.0
        self.endpointer.reset()
        # no words follow, or our own: our voice after all
        self._barge_in_watch.started(self.echo_gate, self.endpointer, playing=self.speaker.playing_text)
        for earlier in self.echo_gate.frames_since_onset():  # echo-reduced start of what they said
            utterance = self.endpointer.feed(earlier)
            self._barge_in_watch.observe(self.endpointer, utterance)
            if utterance is not None:
                self._utterances.put(utterance)
        self.echo_gate.reset(keep_mic=True)  # to go on cleaning the echo that is still arriving

    # ---- one turn at a time (worker thread) ------------------------------------------------------

    def submit_text(self, text: str, *, route: bool = True) -> TextJob:
        """Queue a typed request (route=True) or an announcement to speak as is (route=False).

        Used by the control socket and by skills (a timer going off); the job runs in turn with spoken
        utterances, so the assistant never talks over itself. ``job.done.wait()`` for the report.
        """
        job = TextJob(text=text, route=route)
        self._utterances.put(job)
        return job

    def _work(self) -> None:
        while True:
            item = self._utterances.get()
            if item is None:
                return
            staged, self._new_turn_taking = self._new_turn_taking, None
            if staged is not None:  # from a reload; nothing of ours is playing now
                self._use_turn_taking(*staged)
            if self._stopping.is_set():
                if isinstance(item, TextJob):
                    item.done.set()
                continue
            if isinstance(item, Cue):
                self._earcon(item.kind)
                continue
            try:
                self._take_turn(item)
            finally:  # a typed request's answer goes back only now: its asker then finds it in the history
                if isinstance(item, TextJob):
                    item.done.set()

    def _take_turn(self, item: Utterance | TextJob) -> None:
        self.turn_started_at = time.monotonic()
        try:
            if isinstance(item, TextJob):
                report = item.report = self.handle_text(item.text, route=item.route)
            else:
                report = self.handle(item)
        finally:
            self.turn_started_at = None
        self.stats.turns += 1
        self.stats.last_turns = [*self.stats.last_turns[-19:], report]
        if self.on_turn is not None:
            try:
                self.on_turn(report)
            except Exception:  # logging, history, saving the room: none of it may stop the turns
                log.exception("after the turn")

    def handle(self, utterance: Utterance) -> TurnReport:
        """Recognise, route and answer one utterance. Never raises: failures end up in the report."""
        report = TurnReport(speech_start=utterance.start_s, speech_end=utterance.end_s)
        report.latency_ms["endpoint"] = ms(utterance.ended_at - utterance.speech_end_at)
        try:
            self.state = "thinking"
            not_speech = self.listener.confirm_speech(utterance)  # second-stage VAD: no Whisper for noise
            if not_speech is not None:
                report.dropped = not_speech
                self._barge_in_watch.judged(utterance, words=False)
                return report
            self._earcon("thinking")
            transcript = None
            speculation = self.speculator.take(utterance) if self.speculator is not None else None
            if speculation is not None:  # recognised during the hangover, from this very audio
                transcript = speculation.transcript
                report.latency_ms["speculation_lead"] = ms(utterance.ended_at - speculation.started_at)
            if transcript is None:
                transcript = self.recognizer.transcribe(utterance.pcm, initial_prompt=self.listener.initial_prompt)
            report.latency_ms["asr"] = ms(transcript.asr_s)
            report.latency_ms["transcript"] = ms(time.monotonic() - utterance.speech_end_at)
            report.transcript = transcript.text
            if self._barge_in_watch.our_words(utterance, transcript.text):
                report.dropped = "our own words: the barge-in heard our reply, not a user"
                return report
            decision = self.listener.accept(transcript, utterance, time.monotonic())
            self._barge_in_watch.judged(utterance, words=not decision.noise)
            if decision.request is None:  # hallucination, no wake phrase, wake phrase alone, ...
                report.dropped = decision.reason
                if decision.wake_only:
                    self._earcon("listening")  # "go ahead": the next utterance needs no wake phrase
                return report
            self._answer(decision.request, report, since=utterance.speech_end_at,
                         scorer=scorer_for_request(transcript, decision.request))
            if self.listener.on_reply_finished(time.monotonic()):  # a follow-up window opened
                self._earcon("listening")
        except Exception as exc:  # one bad turn must not end the daemon
            self._failed(report, exc)
        finally:
            self.state = "listening"
        return report

    def handle_text(self, text: str, *, route: bool = True) -> TurnReport:
        """A typed request or an announcement: the same path as speech, minus the ear."""
        report = TurnReport(speech_start=0.0, speech_end=0.0, transcript=text if route else "")
        try:
            if route:
                self._answer(text, report, since=time.monotonic())
            else:
                report.reply, report.handled_by = text, "announcement"
                self.say(split_sentences(text), time.monotonic(), report)
        except Exception as exc:
            self._failed(report, exc)
        finally:
            self.state = "listening"
        return report

    def _failed(self, report: TurnReport, exc: Exception) -> None:
        self.stats.errors += 1
        report.error = f"{type(exc).__name__}: {exc}"
        log.exception("turn failed")
        with contextlib.suppress(Exception):  # tell the user, if the voice itself still works
            self._earcon("error")
            self.say(["Sorry, something went wrong."])

    def _answer(self, text: str, report: TurnReport, since: float, scorer: SentenceScorer | None = None) -> None:
        reply = self.router.route(text, scorer)
        report.latency_ms["reply_text"] = ms(time.monotonic() - since)
        report.handled_by, report.intent = reply.handled_by, reply.intent
        self._apply(reply.action)
        spoken: list[str] = []

        def sentences() -> Iterator[str]:
            # A streamed reply (LLM) is spoken sentence by sentence as it is generated.
            for part in split_sentences(reply.text):
                spoken.append(part)
                yield part
            for part in reply.stream or ():
                for sentence in split_sentences(part):
                    spoken.append(sentence)
                    yield sentence

        try:
            self.say(sentences(), since, report)
        finally:
            report.reply = " ".join(spoken)
        llm = reply.extra.get("llm")
        if llm:  # what the LLM did is known once its stream has been spoken
            if llm.get("ttft_ms") is not None:
                report.latency_ms["llm_first_token"] = llm["ttft_ms"]
            if llm.get("error"):
                report.error = str(llm["error"])
            command = llm.get("command")
            if command:  # it chose a configured command (validated and run by the router)
                report.handled_by, report.intent = "command", command.get("intent")
                self._apply(command.get("action"))

    def _apply(self, action: dict[str, Any] | None) -> None:
        """Effects of a reply on the assistant itself (the router documents the action types)."""
        if not action:
            return
        kind = action.get("type")
        if kind == "volume" and isinstance(action.get("level"), int | float):
            self.volume = min(1.0, max(0.0, float(action["level"])))
        elif kind == "stop":
            self.speaker.cancel()

    def _earcon(self, kind: Kind) -> None:
        """Play one earcon, if configured, behind the half-duplex gate like speech: the mic must not take
        our own tone for the start of an utterance."""
        if self.earcons is None or not self.earcons.enabled(kind):
            return
        try:
            with self._own_sound():
                self.earcons.play(kind)
        except Exception as exc:  # a tone is a nicety: the turn goes on without it
            log.warning("%s earcon failed: %s: %s", kind, type(exc).__name__, exc)

    @contextlib.contextmanager
    def _own_sound(self) -> Iterator[None]:
        """While we play (and ``echo_tail_s`` after), mic frames may hold our own sound: the listen loop
        keeps them from the endpointer (see _while_speaking)."""
        if not self.sink.audible:  # only sound played into a room can come back through the mic
            yield
            return
        self._barged_in.clear()
        now = time.monotonic()
        if now >= self._deaf_until:  # a new stretch; one that starts within the last one's tail extends it
            self._deaf_from = now
        self._deaf_until = float("inf")
        try:
            yield
        finally:
            if not self._barged_in.is_set():  # after a barge-in we are listening already
                self._deaf_until = time.monotonic() + self.echo_tail_s

    def say(self, sentences: Iterator[str] | list[str], since: float | None = None,
            report: TurnReport | None = None) -> None:
        """Synthesize and play sentence by sentence: the first plays while later ones wait their turn."""
        self.state = "speaking"
        self._reply_id += 1
        self._speaking.set()
        try:
            with self._own_sound():
                # the next sentence is synthesized while this one plays (tts/streaming.py)
                timeline = self.speaker.say(s for s in sentences if not self._stopping.is_set())
            if report is not None and since is not None and timeline.first_sample is not None:
                report.latency_ms.setdefault("reply_audio", ms(timeline.first_sample - since))
        finally:
            self._speaking.clear()

