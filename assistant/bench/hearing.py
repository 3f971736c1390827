"""Shared code for the hearing benchmarks (benchmarks/wer.py, benchmarks/false_triggers.py).

The *live path* here is the daemon's own: a WavSource cut into frames by Capture, the Endpointer, the
Listener's second-stage VAD, the WhisperRecognizer with the Listener's prompt, then Listener.accept.
The only difference from the running daemon is that the pipeline's worker thread is replaced by a loop;
with ``realtime=True`` the file is paced like a microphone, otherwise frames are read as fast as they
are consumed (same frames, same decisions, no waiting).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.audio.sources import Capture, WavSource
from assistant.config.schema import Config
from assistant.events import Transcript, Utterance
from assistant.hearing.distance import edit_distance
from assistant.hearing.vad import Endpointer
from assistant.hearing.whisper import Recognizer

PRIMARY = ("asr_read_clean", "asr_read_archival", "asr_command", "wakeword_plus_command")
NON_SPEECH = ("nonspeech", "nonspeech_music", "mixed_speech_music")


def endpoint(path: Path, config: Config, *, realtime: bool = False) -> list[Utterance]:
    """The utterances the daemon's endpointer cuts from a recording, fed through Capture."""
    tail_s = config.vad.hangover_ms / 1000 + 0.5
    source = WavSource(path, realtime=realtime, chunk_ms=config.audio.buffer_ms, tail_silence_s=tail_s)
    # Unpaced, the file is read faster than it is consumed: give the queue room for all of it, since a
    # full queue drops frames (right for a live mic minutes behind, wrong for a measurement).
    queue_s = config.audio.queue_s if realtime else max(config.audio.queue_s, source.duration_s + tail_s + 1)
    capture = Capture(source, frame_ms=config.vad.frame_ms, queue_s=queue_s)
    endpointer = Endpointer(config.vad)
    found: list[Utterance] = []
    capture.start()
    try:
        while (frame := capture.frames.get()) is not None:
            utterance = endpointer.feed(frame)
            if utterance is not None:
                found.append(utterance)
        tail = endpointer.flush()
        if tail is not None:
            found.append(tail)
    finally:
        capture.stop()
        source.close()
    if capture.dropped:
        raise RuntimeError(f"{path}: {capture.dropped} frames dropped by a full capture queue")
    return found


@dataclass(frozen=True, slots=True)
class Heard:
    utterance: Utterance
    transcript: Transcript


def live(path: Path, config: Config, recognizer: Recognizer, *, prompt: str | None = None,
         realtime: bool = False, confirm: Callable[[Utterance], str | None] | None = None) -> list[Heard]:
    """Endpoint a recording and transcribe each utterance as the daemon would (skipping unconfirmed ones)."""
    heard: list[Heard] = []
    for utterance in endpoint(path, config, realtime=realtime):
        if confirm is not None and confirm(utterance) is not None:
            continue
        heard.append(Heard(utterance, recognizer.transcribe(utterance.pcm, initial_prompt=prompt)))
    return heard


class Scorer:
    """Word errors after Whisper's English normaliser (transformers' EnglishTextNormalizer)."""

    def __init__(self) -> None:
        from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

        # The British->American spelling map ships with hub checkpoints only; the rest of the rules apply.
        self._normalise = EnglishTextNormalizer({})

    def words(self, text: str) -> list[str]:
        return str(self._normalise(text)).split()

    def errors(self, reference: str, hypothesis: str) -> tuple[int, int]:
        """(substitutions + deletions + insertions, reference words)."""
        ref = self.words(reference)
        return edit_distance(ref, self.words(hypothesis)), len(ref)


def now() -> float:
    return time.monotonic()
