"""The assistant's data flow, in one place.

    Capture (thread) --frames--> listen loop: Endpointer (+ Speculator: ASR during the hangover)
        --Utterance--> turn worker (thread): Listener.confirm_speech (Silero) -> Recognizer (or the
        speculation's transcript) -> Listener.accept (guards, wake phrase) -> Router (skills, commands,
        LLM) --Reply--> Speaker (next sentence synthesized while this one plays) --PCM--> AudioSink

Capture only reads and queues, so audio keeps flowing while the worker thinks or speaks. The listen
loop owns the endpointer and the half-duplex gate: frames captured while the assistant is speaking
(plus ``echo_tail_s`` for the room's echo) never reach the endpointer, so it cannot answer itself;
with ``turn.policy: barge_in`` the echo gate lets the user's own voice through and cuts the reply.
One turn runs at a time; utterances (and text jobs from the control socket or a timer) wait in a queue.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.asr.speculative import Speculator
from assistant.asr.whisper import Recognizer
from assistant.audio.echo_gate import EchoGate
from assistant.audio.sinks import AudioSink
from assistant.audio.sources import Capture
from assistant.audio.vad import Endpointer
from assistant.events import Reply, TurnReport, Utterance
from assistant.listen import Listener
from assistant.tts.base import Synthesizer
from assistant.tts.earcons import Earcons
from assistant.tts.streaming import Speaker
from assistant.tts.text import split_sentences

log = logging.getLogger(__name__)


class Router(Protocol):
    def route(self, text: str) -> Reply: ...


@dataclass
class PipelineStats:
    turns: int = 0
    errors: int = 0
    ignored_while_speaking: int = 0  # frames kept from the endpointer by the half-duplex gate
    last_turns: list[TurnReport] = field(default_factory=list)


@dataclass
class TextJob:
    """A request that arrives as text (control socket, a timer's announcement), queued like speech."""

    text: str
    route: bool = True
    done: threading.Event = field(default_factory=threading.Event)
    report: TurnReport | None = None


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
        self.echo_gate = echo_gate  # turn.policy barge_in: tells the user's voice from our echo
        self.earcons = earcons
        self.speaker = Speaker(synthesizer, sink, lookahead=lookahead, max_chars=max_chars,
                               on_audio=echo_gate.add_reference if echo_gate is not None else None,
                               gain=lambda: self.volume)
        self._barged_in = threading.Event()
        self.listener = listener or Listener()  # guards, wake phrase, follow-up and push-to-talk windows
        self.stats = PipelineStats()
        self.volume = 1.0  # the assistant's own output level (skills turn it up and down)
        self.muted = False  # mic frames are read (nothing piles up) but not listened to
        self.turn_started_at: float | None = None  # watchdog: a turn busy for too long is wedged
        self._new_endpointer: Endpointer | None = None
        self.state = "starting"
        self._utterances: queue.Queue[Utterance | TextJob | None] = queue.Queue()
        self._speaking = threading.Event()
        # Frames captured in [_deaf_from, _deaf_until) may hold our own voice (half-duplex gate).
        self._deaf_from = float("inf")
        self._deaf_until = 0.0
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

    def replace_endpointer(self, endpointer: Endpointer) -> None:
        """Use new VAD settings from the next frame on (called from another thread by a reload)."""
        self._new_endpointer = endpointer

    def push_to_talk(self) -> None:
        """The next utterance is a request, wake phrase or not."""
        log.info("push-to-talk: listening")
        self.listener.push_to_talk(time.monotonic())

    @property
    def busy(self) -> bool:
        return self._speaking.is_set() or not self._utterances.empty()

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
            if self._deaf_from <= frame.captured_at < self._deaf_until:
                if self.echo_gate is not None and self.echo_gate.feed(frame):
                    self._barge_in()
                    continue
                self.stats.ignored_while_speaking += 1
                if self.endpointer.in_speech:
                    self.endpointer.reset()  # what it heard so far overlaps our own voice
                continue
            utterance = self.endpointer.feed(frame)
            if self.speculator is not None:
                self.speculator.observe(frame, self.endpointer)
            if utterance is not None:
                self._utterances.put(utterance)
        if not self._stopping.is_set():  # end of stream: a recording may end mid-utterance
            tail = self.endpointer.flush()
            if tail is not None:
                self._utterances.put(tail)

    def _barge_in(self) -> None:
        """The user talks over the reply: cut it, listen again at once, and start their utterance."""
        assert self.echo_gate is not None
        log.info("barge-in: user speech over the reply (%.0f dB over the echo)", self.echo_gate.last_residual_db)
        self._barged_in.set()
        self.speaker.cancel()
        self.echo_gate.stop_reference(time.monotonic())
        self._deaf_from, self._deaf_until = float("inf"), 0.0
        self.endpointer.reset()
        for earlier in self.echo_gate.frames_since_onset():  # echo-reduced start of what they said
            utterance = self.endpointer.feed(earlier)
            if utterance is not None:
                self._utterances.put(utterance)
        self.echo_gate.reset()

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
            if self._stopping.is_set():
                if isinstance(item, TextJob):
                    item.done.set()
                continue
            self.turn_started_at = time.monotonic()
            try:
                if isinstance(item, TextJob):
                    item.report = self.handle_text(item.text, route=item.route)
                    item.done.set()
                    report = item.report
                else:
                    report = self.handle(item)
            finally:
                self.turn_started_at = None
            self.stats.turns += 1
            self.stats.last_turns = [*self.stats.last_turns[-19:], report]
            if self.on_turn is not None:
                self.on_turn(report)

    def handle(self, utterance: Utterance) -> TurnReport:
        """Recognise, route and answer one utterance. Never raises: failures end up in the report."""
        report = TurnReport(speech_start=utterance.start_s, speech_end=utterance.end_s)
        report.latency_ms["endpoint"] = ms(utterance.ended_at - utterance.speech_end_at)
        try:
            self.state = "thinking"
            not_speech = self.listener.confirm_speech(utterance)  # second-stage VAD: no Whisper for noise
            if not_speech is not None:
                report.dropped = not_speech
                return report
            if self.earcons is not None:
                self.earcons.play("thinking")
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
            decision = self.listener.accept(transcript, utterance, time.monotonic())
            if decision.request is None:  # hallucination, no wake phrase, wake phrase alone, ...
                report.dropped = decision.reason
                return report
            self._answer(decision.request, report, since=utterance.speech_end_at)
            self.listener.on_reply_finished(time.monotonic())
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
            if self.earcons is not None:
                self.earcons.play("error")
            self.say(["Sorry, something went wrong."])

    def _answer(self, text: str, report: TurnReport, since: float) -> None:
        reply = self.router.route(text)
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

    def say(self, sentences: Iterator[str] | list[str], since: float | None = None,
            report: TurnReport | None = None) -> None:
        """Synthesize and play sentence by sentence: the first plays while later ones wait their turn."""
        self.state = "speaking"
        self._speaking.set()
        self._barged_in.clear()
        if self.sink.audible:  # only sound played into a room can come back through the mic
            self._deaf_from, self._deaf_until = time.monotonic(), float("inf")
        try:
            # the next sentence is synthesized while this one plays (tts/streaming.py)
            timeline = self.speaker.say(s for s in sentences if not self._stopping.is_set())
            if report is not None and since is not None and timeline.first_sample is not None:
                report.latency_ms.setdefault("reply_audio", ms(timeline.first_sample - since))
        finally:
            if self.sink.audible and not self._barged_in.is_set():  # after a barge-in we are listening
                self._deaf_until = time.monotonic() + self.echo_tail_s
            self._speaking.clear()
