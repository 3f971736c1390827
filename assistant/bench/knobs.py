"""Recognition-speed knobs on the command recordings: beam size, timestamps, threads, compute type.

Each variant loads its own faster-whisper model and transcribes every recording (already endpointed:
the whole file), after one warm-up call; reported are the median seconds per utterance and the WER.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.audio.sources import read_wav_pcm
from assistant.bench.stats import Recording, word_errors


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    beam_size: int = 1
    without_timestamps: bool = False
    cpu_threads: int = 0
    compute_type: str = "int8"


VARIANTS = (
    Variant("baseline (beam 1, int8, threads auto)"),
    Variant("beam 5", beam_size=5),
    Variant("without_timestamps", without_timestamps=True),
    Variant("cpu_threads 1", cpu_threads=1),
    Variant("cpu_threads 2", cpu_threads=2),
    Variant("int8_float32", compute_type="int8_float32"),
)


def _audio(recording: Recording) -> np.ndarray:
    return np.frombuffer(read_wav_pcm(recording.path), dtype="<i2").astype(np.float32) / 32768.0


def run(model_path: str, recordings: list[Recording], variants: tuple[Variant, ...] = VARIANTS) -> list[dict[str, Any]]:
    from faster_whisper import WhisperModel

    audio = [_audio(r) for r in recordings]
    rows = []
    for variant in variants:
        model = WhisperModel(model_path, device="cpu", compute_type=variant.compute_type,
                             cpu_threads=variant.cpu_threads)
        options = {"language": "en", "beam_size": variant.beam_size, "condition_on_previous_text": False,
                   "without_timestamps": variant.without_timestamps}
        list(model.transcribe(audio[0], **options)[0])  # warm: the first call pays one-off set-up
        seconds, errors, words = [], 0, 0
        for recording, samples in zip(recordings, audio, strict=True):
            started = time.monotonic()
            text = " ".join(s.text for s in model.transcribe(samples, **options)[0])
            seconds.append(time.monotonic() - started)
            e, n = word_errors(recording.reference, text)
            errors, words = errors + e, words + n
        rows.append({"variant": variant.name, "median_s": statistics.median(seconds), "max_s": max(seconds),
                     "wer": errors / max(1, words)})
    return rows
