"""An adaptive echo canceller for the echo gate (audio/echo_gate.py): a long filter that learns the room.

The gate's short least-squares fit (1 ms around the direct path) cannot model a room's reverberation; this
partitioned-block frequency-domain NLMS filter (as speexdsp's MDF) has ``AEC_MS`` of taps from just before
the direct path and learns them while we speak, on the frames the gate judges to be ours alone.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from assistant.events import SAMPLE_RATE

F64 = npt.NDArray[np.float64]
AEC_MS = 256  # filter length from just before the direct path (a room's tail beyond is ~25 dB down at RT60 600)
AEC_PRE = 64  # taps before the direct path found by cross-correlation (sink timestamps wander a little)
AEC_MU = 0.7  # NLMS step (per bin, normalised by the reference power over the whole filter)
AEC_REALIGN_FRAMES = 5  # consecutive frames with the direct path outside the filter before it is realigned


class Canceller:
    """Partitioned-block frequency-domain adaptive filter (MDF): ``AEC_MS`` of taps from ``AEC_PRE`` before the
    direct path, one block per mic frame, NLMS-normalised per bin over the whole filter, gradient
    constrained (linear convolution)."""

    def __init__(self) -> None:
        self.offset: int | None = None  # reference lag (samples) of the filter's first tap
        self.block = 0
        self.weights: npt.NDArray[np.complex128] | None = None  # (partitions, block + 1)
        # the last frame's reference spectra and error spectrum, to adapt on once the frame is judged
        self.pending: tuple[npt.NDArray[np.complex128], npt.NDArray[np.complex128]] | None = None
        self._outside = 0

    def forget(self) -> None:
        self.weights, self.offset, self.pending, self._outside = None, None, None, 0

    def align(self, found: int) -> None:
        """The direct path found at lag ``found``: (re)start the filter around it if it is outside."""
        if self.offset is not None and self.offset <= found - AEC_PRE // 2 <= self.offset + AEC_PRE:
            self._outside = 0
            return
        self._outside += 1
        if self.offset is None or self._outside >= AEC_REALIGN_FRAMES:
            self.offset, self.weights, self._outside = found - AEC_PRE, None, 0

    def cancel(self, ref: F64, end: int, tail: F64, keep: bool) -> tuple[F64, F64] | None:
        n = len(tail)
        assert self.offset is not None
        if n != self.block or self.weights is None:
            self.block = n
            partitions = max(1, -(-AEC_MS * SAMPLE_RATE // 1000 // n))
            self.weights = np.zeros((partitions, n + 1), dtype=np.complex128)
        partitions = len(self.weights)
        # reference blocks: partition p holds ref[stop - (p + 2) n : stop - p n], stop = end - offset
        stop = end - self.offset
        first = stop - (partitions + 1) * n
        span = np.zeros((partitions + 1) * n)
        lo, hi = max(first, 0), min(stop, len(ref))
        if hi <= lo:
            return None
        span[lo - first : hi - first] = ref[lo:hi]
        blocks = np.lib.stride_tricks.sliding_window_view(span, 2 * n)[::n][::-1]  # newest first
        spectra = np.fft.rfft(blocks, axis=1)
        echo = np.fft.irfft((self.weights * spectra).sum(axis=0), 2 * n)[n:]
        left = tail - echo
        if keep:
            self.pending = (spectra, np.fft.rfft(np.concatenate([np.zeros(n), left])))
        return left, echo

    def adapt(self) -> None:
        """One NLMS step on the last frame cancelled with ``keep`` (once: the frame is then forgotten)."""
        if self.pending is None or self.weights is None:
            return
        (spectra, error), self.pending = self.pending, None
        n = self.block
        power = (spectra.real**2 + spectra.imag**2).sum(axis=0)
        power += 1e-3 * power.mean() + 2 * n * n  # regularised where the reference is silent
        gradient = np.fft.irfft(np.conj(spectra) * (error / power), 2 * n, axis=1)
        gradient[:, n:] = 0  # constrained: a filter of n taps per partition
        self.weights += AEC_MU * np.fft.rfft(gradient, axis=1)
