"""Who spoke: the enrolled voice closest to an utterance, if it is close enough.

Closeness is the cosine similarity between the utterance's embedding and each voice's centroid (the
normalised mean of its enrolment utterances); the best one names the speaker when it reaches the
threshold (``speakers.threshold``, null: ``DEFAULT_THRESHOLD``, calibrated on ``assistant bench speakers``:
see benchmarks/README.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from assistant.hearing.speakers.encoder import SpeakerEncoder
from assistant.hearing.speakers.frontend import Floats
from assistant.hearing.speakers.store import Voice

log = logging.getLogger(__name__)

# Calibrated with `assistant bench speakers` (benchmarks/README.md): the lowest similarity at which unknown
# voices, quiet and in 10 dB noise, were accepted as an enrolled one in at most 2 % of the trials.
DEFAULT_THRESHOLD = 0.80
MAX_PARTIALS = 4  # a long utterance is heard through 4 evenly spaced 1.6 s partials (CPU per turn bounded)


@dataclass(frozen=True, slots=True)
class Identification:
    speaker: str | None  # the enrolled voice, or None: nobody enrolled is close enough (or too little voice)
    score: float | None  # the best similarity (None: nothing to compare)
    closest: str | None  # the closest enrolled voice, even when below the threshold
    cpu_ms: float  # CPU time this thread spent (front end and encoder)


class Identifier:
    """Enrolled voices, the encoder and the threshold. Thread-safe (the encoder runs one at a time)."""

    def __init__(self, encoder: SpeakerEncoder, voices: Mapping[str, Voice], threshold: float | None = None) -> None:
        self.encoder = encoder
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.names = list(voices)
        self._centroids = np.stack([voices[n].centroid for n in self.names]) if voices else None

    def match(self, embedding: Floats | None, cpu_ms: float = 0.0) -> Identification:
        if embedding is None or self._centroids is None:
            return Identification(None, None, None, cpu_ms)
        scores = self._centroids @ embedding
        best = int(np.argmax(scores))
        score = float(scores[best])
        name = self.names[best]
        return Identification(name if score >= self.threshold else None, round(score, 4), name, cpu_ms)

    def identify(self, pcm: bytes) -> Identification:
        started = time.thread_time()
        embedding = self.encoder.embed(pcm, max_partials=MAX_PARTIALS) if self._centroids is not None else None
        return self.match(embedding, (time.thread_time() - started) * 1000)
