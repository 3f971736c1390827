"""Smart Turn v3.2: a small ONNX model that says whether the speaker has finished their turn.

The model (BSD-2-Clause, Daily; copied from the ``pipecat-ai`` wheel into ``assistant/data`` with its
licence, so the framework is not a dependency) reads Whisper-style log-mel features of the last 8 s of
16 kHz audio, left-padded with silence, and returns P(turn complete). The feature code below follows
pipecat's numpy port of ``transformers.WhisperFeatureExtractor(chunk_length=8)`` (Apache-2.0 / BSD-2).
"""

from __future__ import annotations

import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from assistant import native_logs

MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
RATE = 16_000
WINDOW_S = 8
_N_FFT, _HOP, _N_MELS = 400, 160, 80

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]


def _hz_to_mel(freq: F64) -> F64:
    mels = 3.0 * freq / 200.0
    high = freq >= 1000.0
    mels[high] = 15.0 + np.log(freq[high] / 1000.0) * (27.0 / np.log(6.4))
    return mels


def _mel_to_hz(mels: F64) -> F64:
    freq = 200.0 * mels / 3.0
    high = mels >= 15.0
    freq[high] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels[high] - 15.0))
    return freq


def _mel_filters() -> F64:
    """Slaney-normalised triangular filters, shape (n_fft // 2 + 1, 80), as Whisper's extractor builds them."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([RATE / 2]))[0],
                                   _N_MELS + 2))
    fft_freqs = np.linspace(0, RATE // 2, _N_FFT // 2 + 1)
    slopes = edges[None, :] - fft_freqs[:, None]
    diff = np.diff(edges)
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    return np.asarray(filters * (2.0 / (edges[2:] - edges[:-2]))[None, :], dtype=np.float64)


_FILTERS = _mel_filters()
_HANN = np.hanning(_N_FFT + 1)[:-1]  # periodic Hann, like torch.hann_window


def log_mel(audio: F32) -> F32:
    """Whisper log-mel features (80 x 800) of exactly 8 s of 16 kHz float audio, waveform-normalised first."""
    x = np.asarray(audio, dtype=np.float32)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), (_N_FFT // 2, _N_FFT // 2), mode="reflect")
    frames = sliding_window_view(padded, _N_FFT)[::_HOP]
    power = (np.abs(np.fft.rfft(frames * _HANN, axis=-1)) ** 2).T
    spec = np.log10(np.maximum(1e-10, _FILTERS.T @ power))[:, :-1]
    spec = np.maximum(spec, spec.max() - 8.0)
    return np.asarray((spec + 4.0) / 4.0, dtype=np.float32)


def last_window(pcm: bytes) -> F32:
    """The last 8 s of int16 PCM as float32, left-padded with silence (the model's training layout)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    size = RATE * WINDOW_S
    if len(samples) >= size:
        return samples[-size:]
    return np.pad(samples, (size - len(samples), 0))


def model_path() -> Path:
    return Path(str(resources.files("assistant") / "data" / MODEL_FILE))


class TurnModel:
    """P(turn complete) for the audio of an utterance so far; thread-safe, one inference at a time."""

    def __init__(self, path: str | Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        native_logs.quiet_onnxruntime()
        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads  # one core: ASR runs beside it on a 2-core machine
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session: Any = ort.InferenceSession(str(path or model_path()), sess_options=options,
                                                  providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()
        self.last_ms = 0.0  # duration of the latest inference, for the latency report

    def probability(self, pcm: bytes) -> float:
        started = time.monotonic()
        features = log_mel(last_window(pcm))[None, :, :]
        with self._lock:
            output = self._session.run(None, {"input_features": features})
        self.last_ms = (time.monotonic() - started) * 1000
        return float(np.asarray(output[0]).reshape(-1)[0])
