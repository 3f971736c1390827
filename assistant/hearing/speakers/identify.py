"""Who spoke: the enrolled voice closest to an utterance, if it is close enough.

Resemblyzer's embeddings all lie in one corner of the sphere (they are positive: any two voices score
0.5-0.8 by plain cosine), so what every voice shares is taken away first: the *background*, the mean
embedding of many voices (``assistant/data/speaker_background.json``, made by ``assistant bench speakers
--write-background`` from the shared speech set's speakers). Closeness is then the cosine similarity between
the utterance's embedding and each enrolled voice's centroid (the normalised mean of its enrolment
utterances), both with the background removed; the best one names the speaker when it reaches the
threshold (``speakers.threshold``, null: ``DEFAULT_THRESHOLD``). Measured on ``assistant bench speakers``
(benchmarks/README.md), with a background made from other voices than those tested, at the threshold
where at most 2 % of unknown voices are accepted: enrolled voices named right 82.9 % -> 91.4 % (quiet).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.hearing.speakers.encoder import SpeakerEncoder
from assistant.hearing.speakers.frontend import Floats
from assistant.hearing.speakers.store import Voice

log = logging.getLogger(__name__)

BACKGROUND_FILE = Path(__file__).resolve().parents[2] / "data" / "speaker_background.json"

# Calibrated with `assistant bench speakers` (benchmarks/README.md): the lowest similarity (0.01 steps) at which
# unknown voices, quiet and in 10 dB noise alike, were taken for an enrolled one in at most 2 % of the trials
# (1.7 % / 1.8 %; enrolled voices named right 91.6 % quiet, 76.8 % at 10 dB).
DEFAULT_THRESHOLD = 0.42
MAX_PARTIALS = 4  # a long utterance is heard through 4 evenly spaced 1.6 s partials (CPU per turn bounded)


@dataclass(frozen=True, slots=True)
class Identification:
    speaker: str | None  # the enrolled voice, or None: nobody enrolled is close enough (or too little voice)
    score: float | None  # the best similarity (None: nothing to compare)
    closest: str | None  # the closest enrolled voice, even when below the threshold
    cpu_ms: float  # CPU time this thread spent (front end and encoder)


def load_background(path: Path = BACKGROUND_FILE) -> Floats:
    """The mean embedding of many voices (what every voice shares), shipped with the package."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return np.asarray(data["mean"], dtype=np.float32)


def _unit(x: Floats) -> Floats:
    unit: Floats = (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)
    return unit


def voice_print(embeddings: Sequence[Floats], background: Floats) -> Floats:
    """A voice from its enrolment utterances' embeddings: their normalised mean, background removed."""
    return _unit(np.mean(_unit(np.stack(embeddings) - background), axis=0))


def similarities(prints: Floats, embedding: Floats, background: Floats) -> Floats:
    """The cosine similarity of one utterance's embedding (background removed) to each voice print."""
    result: Floats = prints @ _unit(embedding - background)
    return result


class Identifier:
    """Enrolled voices, the encoder and the threshold. Thread-safe (the encoder runs one at a time)."""

    def __init__(self, encoder: SpeakerEncoder, voices: Mapping[str, Voice], threshold: float | None = None,
                 background: Floats | None = None) -> None:
        self.encoder = encoder
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.names = list(voices)
        self.background = load_background() if background is None else background
        self._prints = (np.stack([voice_print(voices[n].embeddings, self.background) for n in self.names])
                        if voices else None)

    def match(self, embedding: Floats | None, cpu_ms: float = 0.0) -> Identification:
        if embedding is None or self._prints is None:
            return Identification(None, None, None, cpu_ms)
        scores = similarities(self._prints, embedding, self.background)
        best = int(np.argmax(scores))
        score = float(scores[best])
        name = self.names[best]
        return Identification(name if score >= self.threshold else None, round(score, 4), name, cpu_ms)

    def identify(self, pcm: bytes) -> Identification:
        started = time.thread_time()
        embedding = self.encoder.embed(pcm, max_partials=MAX_PARTIALS) if self._prints is not None else None
        return self.match(embedding, (time.thread_time() - started) * 1000)
