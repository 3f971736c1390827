"""Sentence-by-sentence speech: synthesize sentence n+1 in a thread while sentence n plays.

``SentenceStream`` turns an iterable of sentences into synthesized chunks ahead of the consumer (at
most ``lookahead`` waiting), so the first sentence can play while later ones are still being made.
``Speaker`` plays such a stream through an ``AudioSink`` and records a ``SpeechTimeline`` (synthesis
start/end and first-sample time of every sentence), which the latency report and the order tests use.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from assistant.audio.sinks import AudioSink
from assistant.speech.base import Synthesizer
from assistant.speech.text import split_sentences

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SynthesizedSentence:
    index: int
    text: str
    pcm: bytes
    rate: int
    synth_started: float  # monotonic
    synth_ended: float


@dataclass(slots=True)
class SentenceTiming:
    text: str
    synth_started: float
    synth_ended: float
    first_sample: float | None = None  # None: never played (cancelled, or no audio)


@dataclass(slots=True)
class SpeechTimeline:
    """When each sentence of one reply was synthesized and started playing (monotonic seconds)."""

    sentences: list[SentenceTiming] = field(default_factory=list)
    cancelled: bool = False
    error: str | None = None

    @property
    def first_sample(self) -> float | None:
        return next((s.first_sample for s in self.sentences if s.first_sample is not None), None)


def limit_text(text: str, max_chars: int) -> str:
    """Cut an over-long reply at a word boundary: a voice reply longer than this is a bug, not an answer."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > 0 else max_chars]


def sentences_of(text: str, max_chars: int = 4000) -> list[str]:
    """Speakable sentences of a reply (see tts.text.clean), length bounded."""
    return split_sentences(limit_text(text, max_chars))


_DONE = object()


class SentenceStream:
    """Iterates synthesized sentences; a background thread stays up to ``lookahead`` sentences ahead."""

    def __init__(self, synthesizer: Synthesizer, sentences: Iterable[str], lookahead: int = 2) -> None:
        self._synthesizer = synthesizer
        self._sentences = iter(sentences)
        self._queue: queue.Queue[object] = queue.Queue()
        # A slot is taken before a sentence is synthesized and given back when the consumer takes it, so
        # synthesis stays at most `lookahead` sentences ahead of playback (bounded memory and CPU).
        self._slots = threading.Semaphore(max(1, lookahead))
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tts-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        index = 0
        try:
            for text in self._sentences:
                if not self._acquire_slot():
                    break
                started = time.monotonic()
                pcm, rate = self._synthesizer.synthesize(text)
                item = SynthesizedSentence(index, text, pcm, rate, started, time.monotonic())
                index += 1
                self._queue.put(item)
        except Exception as exc:  # surfaced to the consumer, which owns the turn's error report
            self._queue.put(exc)
        finally:
            self._queue.put(_DONE)

    def _acquire_slot(self) -> bool:
        # Wait for the consumer to take a sentence, but give up promptly once it has cancelled.
        while not self._cancelled.is_set():
            if self._slots.acquire(timeout=0.05):
                return not self._cancelled.is_set()
        return False

    def __iter__(self) -> Iterator[SynthesizedSentence]:
        while True:
            try:
                item = self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._cancelled.is_set():
                    return
                continue
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, SynthesizedSentence)
            self._slots.release()
            yield item

    def cancel(self) -> None:
        """Stop synthesizing; the thread finishes its current sentence and exits."""
        self._cancelled.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


def scale(pcm: bytes, gain: float) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) * max(0.0, gain)
    return np.asarray(np.clip(samples, -32768, 32767), dtype="<i2").tobytes()


AudioTap = Callable[[bytes, int, float], None]  # (pcm, rate, monotonic time playback starts)


class Speaker:
    """Plays replies sentence by sentence through a sink; ``cancel()`` (any thread) cuts the reply."""

    def __init__(self, synthesizer: Synthesizer, sink: AudioSink, *, lookahead: int = 2,
                 max_chars: int = 4000, on_audio: AudioTap | None = None,
                 gain: Callable[[], float] | None = None) -> None:
        self.synthesizer = synthesizer
        self.sink = sink
        self.lookahead = lookahead
        self.max_chars = max_chars
        self.on_audio = on_audio  # the echo gate's reference: what is about to come out of the speaker
        self.gain = gain  # output volume, read per sentence so a "quieter" command applies at once
        self._cancel = threading.Event()
        self._stream: SentenceStream | None = None
        self._played: tuple[str, ...] = ()  # of the reply now, the last two sentences handed to the sink

    @property
    def playing_text(self) -> str:
        """The sentence playing now (or last played) and the one before: what an echo of us could say."""
        return " ".join(self._played)

    def say_text(self, text: str) -> SpeechTimeline:
        return self.say(sentences_of(text, self.max_chars))

    def say(self, sentences: Iterable[str]) -> SpeechTimeline:
        self._cancel.clear()
        self._played = ()
        timeline = SpeechTimeline()
        stream = self._stream = SentenceStream(self.synthesizer, sentences, self.lookahead)
        try:
            for item in stream:
                timing = SentenceTiming(item.text, item.synth_started, item.synth_ended)
                timeline.sentences.append(timing)
                if self._cancel.is_set():
                    break
                if not item.pcm:
                    continue
                pcm = item.pcm
                level = self.gain() if self.gain is not None else 1.0
                if level < 1.0:
                    pcm = scale(pcm, level)
                self._played = (*self._played[-1:], item.text)  # one assignment: read from the listen thread
                if self.on_audio is not None:
                    self.on_audio(pcm, item.rate, time.monotonic())
                # our cancel event too: a cancel() just before play() begins would be lost to the sink's stop
                timing.first_sample = self.sink.play(pcm, item.rate, self._cancel)
                if self._cancel.is_set():
                    break
        except Exception as exc:
            timeline.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            timeline.cancelled = self._cancel.is_set()
            stream.cancel()
            self._stream = None
        return timeline

    def play(self, pcm: bytes, rate: int) -> float | None:
        """Play audio made elsewhere (a remote brain's reply) like one sentence: at our volume, heard by the
        echo gate, cut by cancel(). The first-sample time, or None."""
        self._cancel.clear()
        self._played = ()
        level = self.gain() if self.gain is not None else 1.0
        if level < 1.0:
            pcm = scale(pcm, level)
        if self.on_audio is not None:
            self.on_audio(pcm, rate, time.monotonic())
        return self.sink.play(pcm, rate, self._cancel)

    def cancel(self) -> float | None:
        """Barge-in or shutdown: cut the sentence playing now and drop the rest of the reply; return how
        many seconds of that sentence the device was handed (None: unknown)."""
        self._cancel.set()
        stream = self._stream
        if stream is not None:
            stream.cancel()
        return self.sink.stop()
