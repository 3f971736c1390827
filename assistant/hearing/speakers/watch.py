"""Speaker identification off the critical path: it runs beside Whisper, never in front of it.

The listen loop calls ``observe()`` after each ``endpointer.feed(frame)``. Once the utterance has been
silent for ``after_ms`` (the moment speculative recognition starts Whisper), the audio so far holds all
of the speech: it goes to the identification thread while the end-of-speech hangover still runs. The turn
worker calls ``begin(utterance)`` when the utterance is handed to recognition: it gets that job when its
audio is a prefix of the utterance (else a new job on the whole utterance, started then), and asks it for
the speaker just before routing. The answer is waited for at most ``wait_s``: a job not done by then
leaves the speaker unknown (and says so in the log) rather than delay the reply.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace

from assistant.config.schema import Config, ConfigError
from assistant.events import AudioFrame, RequestContext, TurnReport, Utterance
from assistant.hearing.speakers.encoder import shared_encoder
from assistant.hearing.speakers.identify import Identification, Identifier
from assistant.hearing.speakers.store import VoiceStore, VoiceStoreError
from assistant.hearing.speculative import EndpointerView

log = logging.getLogger(__name__)

WAIT_S = 0.1  # the longest a turn waits for its speaker once its transcript is ready


@dataclass
class SpeakerJob:
    pcm: bytes
    queued_at: float  # monotonic
    done: threading.Event = field(default_factory=threading.Event)
    stale: bool = False  # speech resumed after the snapshot: not this utterance's audio
    result: Identification | None = None
    finished_at: float | None = None
    wait_s: float = WAIT_S

    def identification(self) -> Identification | None:
        """The result, waited for at most ``wait_s``; None (logged) when it is not ready in time."""
        if not self.done.wait(self.wait_s):
            log.info("speaker identification not ready %.0f ms after the transcript: speaker unknown",
                     self.wait_s * 1000)
            return None
        return self.result

    def tell(self, report: TurnReport) -> str | None:
        """Put who spoke (and how close their voice was) in the turn's report, with how long the turn waited
        for it (``speaker_wait``: 0 when it was ready before the transcript); return the speaker."""
        started = time.monotonic()
        found = self.identification()
        report.latency_ms["speaker_wait"] = (time.monotonic() - started) * 1000
        if found is not None:
            report.speaker, report.speaker_score = found.speaker, found.score
        return report.speaker


def with_speaker(context: RequestContext | None, speaker: str | None) -> RequestContext | None:
    """The request's context with who said it (None stays None when nobody is known)."""
    if speaker is None:
        return context
    return replace(context or RequestContext(), speaker=speaker)


class SpeakerWatch:
    def __init__(self, identifier: Identifier, *, after_ms: int = 90, wait_s: float = WAIT_S) -> None:
        self.identifier = identifier
        self.after_ms = after_ms
        self.wait_s = wait_s
        self._current: SpeakerJob | None = None  # the snapshot of the utterance being heard
        self._ended: list[SpeakerJob] = []  # utterances that ended but whose turn has not begun
        self._lock = threading.Lock()
        self._jobs: queue.Queue[SpeakerJob | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="speaker-id", daemon=True)
        self._thread.start()

    # ---- listen loop ------------------------------------------------------------------------------

    def observe(self, frame: AudioFrame, endpointer: EndpointerView) -> None:
        with self._lock:
            if not endpointer.in_speech:
                if self._current is not None:
                    self._ended = [*self._ended[-3:], self._current]
                    self._current = None
                return
            silence = endpointer.trailing_silence_ms
            if silence == 0:
                if self._current is not None:
                    self._current.stale = True  # they kept talking: the snapshot is not the utterance
                    self._current = None
                return
            if silence >= self.after_ms and self._current is None:
                self._current = self._submit(endpointer.current_pcm())

    # ---- turn worker --------------------------------------------------------------------------------

    def begin(self, utterance: Utterance) -> SpeakerJob:
        """The identification of ``utterance``: the one started during its hangover, or a new one now."""
        with self._lock:
            candidates = [j for j in (*self._ended, self._current) if j is not None and not j.stale]
            job = next((j for j in candidates if utterance.pcm.startswith(j.pcm)), None)
            self._ended = [j for j in self._ended if j is not job]
            if job is None:
                job = self._submit(utterance.pcm)
        return job

    def close(self) -> None:
        self._jobs.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join(5)

    # ---- identification thread ----------------------------------------------------------------------

    def _submit(self, pcm: bytes) -> SpeakerJob:
        job = SpeakerJob(pcm, time.monotonic(), wait_s=self.wait_s)
        self._jobs.put(job)
        return job

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if not job.stale:
                    job.result = self.identifier.identify(job.pcm)
            except Exception:  # a failed identification leaves the speaker unknown, never the turn broken
                log.exception("speaker identification failed")
            finally:
                job.finished_at = time.monotonic()
                job.done.set()


def build_speaker_watch(config: Config, store: VoiceStore | None = None) -> SpeakerWatch | None:
    """Identification for this config: None when it is off or nobody is enrolled (then it costs nothing)."""
    if not config.speakers.enabled:
        return None
    try:
        voices = (store or VoiceStore()).load()
    except VoiceStoreError as exc:
        raise ConfigError([f"speakers: {exc}"]) from None
    if not voices:
        log.info("speakers: no voice enrolled (assistant speakers enroll NAME FILE...): every speaker is unknown")
        return None
    identifier = Identifier(shared_encoder(), voices, config.speakers.threshold)
    log.info("speakers: %d enrolled (%s), threshold %.2f", len(voices), ", ".join(voices), identifier.threshold)
    return SpeakerWatch(identifier, after_ms=config.latency.speculative_after_ms)
