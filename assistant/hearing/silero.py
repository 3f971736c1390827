"""Second-stage voice activity check with Silero VAD (the ONNX model shipped inside faster-whisper).

webrtcvad is cheap but calls most noise and music "speech" at its strict modes; Silero is a small neural
net that tells speech from other sound far better. It runs only once per utterance, after the
endpointer, to confirm there is enough speech in it before Whisper spends half a second on it.
onnxruntime only: no torch.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from assistant import native_logs
from assistant.events import SAMPLE_RATE

log = logging.getLogger(__name__)

WINDOW = 512  # samples per Silero decision at 16 kHz (32 ms), fixed by the model


class SileroVad:
    """Speech probabilities per 32 ms window for a whole utterance."""

    _lock = threading.Lock()
    _model: Any = None

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    @classmethod
    def _load(cls) -> Any:
        # One ONNX session per process: loading costs ~50 ms and the model keeps no state between calls.
        with cls._lock:
            if cls._model is None:
                from faster_whisper.vad import get_vad_model

                native_logs.quiet_onnxruntime()
                cls._model = get_vad_model()
            return cls._model

    def probabilities(self, pcm: bytes) -> np.ndarray:
        audio = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32) / 32768.0
        if audio.size == 0:
            return np.zeros(0, dtype=np.float32)
        padded = np.pad(audio, (0, (-audio.size) % WINDOW))
        return np.asarray(self._load()(padded), dtype=np.float32).reshape(-1)

    def speech_seconds(self, pcm: bytes) -> float:
        """Seconds of windows Silero calls speech."""
        probs = self.probabilities(pcm)
        return float(np.count_nonzero(probs >= self.threshold)) * WINDOW / SAMPLE_RATE
