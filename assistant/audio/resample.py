"""Sample-rate conversion and channel mixing for int16 PCM, streaming-safe.

Sources that cannot deliver 16 kHz mono are converted once, at the source (see DESIGN.md). The
resampler low-pass filters before decimating (so 44.1/48 kHz microphones don't alias into the speech
band) and keeps its filter state and fractional position between chunks, so chunk boundaries are
seamless.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]


def to_mono(pcm: bytes, channels: int) -> bytes:
    """Average interleaved int16 channels into one."""
    if channels == 1:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2")
    usable = len(samples) - len(samples) % channels
    mixed = samples[:usable].reshape(-1, channels).astype(np.int32).mean(axis=1)
    return np.asarray(np.round(mixed), dtype="<i2").tobytes()


def _lowpass_taps(cutoff: float, taps: int = 63) -> FloatArray:
    """Windowed-sinc FIR; ``cutoff`` as a fraction of the input rate (0 < cutoff < 0.5)."""
    n = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(taps)
    return np.asarray(h / h.sum(), dtype=np.float64)


class Resampler:
    """Converts a stream of int16 mono chunks from ``src_rate`` to ``dst_rate``."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        if src_rate <= 0 or dst_rate <= 0:
            raise ValueError("sample rates must be positive")
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._step = src_rate / dst_rate  # input samples per output sample
        self._taps = _lowpass_taps(0.45 * min(1.0, dst_rate / src_rate)) if dst_rate < src_rate else None
        self._history: FloatArray = np.zeros(0 if self._taps is None else len(self._taps) - 1)
        self._pending: FloatArray = np.zeros(0)  # filtered input not yet consumed by interpolation
        self._position = 0.0  # fractional index of the next output sample within _pending

    @property
    def passthrough(self) -> bool:
        return self.src_rate == self.dst_rate

    def process(self, pcm: bytes) -> bytes:
        if self.passthrough:
            return pcm
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        if self._taps is not None:
            padded = np.concatenate([self._history, x])
            filtered = np.convolve(padded, self._taps, mode="valid")
            self._history = padded[len(padded) - (len(self._taps) - 1) :]
        else:
            filtered = x
        data = np.concatenate([self._pending, filtered])
        # Output sample k sits at input position _position + k * step; linear interpolation needs i+1.
        count = int(np.floor((len(data) - 1 - self._position) / self._step)) + 1 if len(data) > 1 else 0
        count = max(count, 0)
        positions = self._position + np.arange(count) * self._step
        out = np.interp(positions, np.arange(len(data)), data) if count else np.zeros(0)
        next_position = self._position + count * self._step
        consumed = int(np.floor(next_position))
        consumed = min(consumed, len(data))
        self._pending = data[consumed:]
        self._position = next_position - consumed
        return np.asarray(np.clip(np.round(out), -32768, 32767), dtype="<i2").tobytes()


def resample(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Convert a whole buffer at once."""
    return Resampler(src_rate, dst_rate).process(pcm)
