"""Barge-in detection: is there user speech in the mic *beyond* the echo of what we are playing?

The gate keeps the playback reference (what the sink was handed, resampled to 16 kHz, on the monotonic
clock) and, for every mic frame, looks at the last ``WINDOW_MS`` of mic audio: it finds the
speaker-to-mic delay (0..``max_echo_delay_ms``) where the reference best explains the mic (FFT cross-
correlation), removes the echo a short least-squares filter around that delay predicts, and compares what
is left with the echo's *envelope* (that estimate, held and decaying over ``ROOM_DECAY_S``: a reverberant
room rings on after each word, where one frame's echo estimate is small but the room still sounds of us).
Our own voice leaves a small residual; a person talking over it leaves a large one. A frame counts as user
speech when WebRTC VAD calls the cleaned frame speech, the residual is above ``floor_dbfs``, and it is loud
enough, over the whole frame or in its bands (``BAND_EDGES_HZ``; the second-loudest band over its own
envelope: a voice stands out where ours is weak while the frame as a whole is still mostly ours):
``margin_db`` above what our voice leaves in this room. That leftover is 0 dB (the envelope itself) for the
first ~0.5 s of our voice a gate hears, then learnt: the 95th percentile of residual / envelope over frames
of our voice (3 dB more until ~2 s; runs that triggered are left out, unless no words followed them:
assistant/barge_in.py). Over the whole frame it is ~-20 dB in a dry room, so the user is heard at a
fraction of our echo's level, and near 0 dB in a reverberant one (in the bands: -2 and +3 dB). ``min_speech_ms``
of user frames (one miss allowed) trigger barge-in (``turn.policy: barge_in``), or in half duplex a check
for a stop phrase (assistant/stop_words.py). The short filter (1 ms around one delay) models the direct
path, the speaker's colour and a fractional delay, not a room's reverberation: beside it an adaptive
canceller (audio/echo_canceller.py: a partitioned-block frequency-domain NLMS filter, as speexdsp's MDF, 256 ms of
taps from just before the direct path) learns the room while we speak, on frames that do not sound like a
user, and a frame's residual is whichever of the two leaves less (the envelope follows the larger echo
estimate: a canceller still learning predicts too little). After a barge-in the echo of what the device
still played is removed the same way from the start of the user's utterance (``clean``).
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterable
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import webrtcvad

from assistant.audio.echo_canceller import Canceller
from assistant.audio.resample import resample
from assistant.audio.room_leftover import Leftover
from assistant.config.speech import BargeInConfig
from assistant.events import SAMPLE_RATE, AudioFrame

F64 = npt.NDArray[np.float64]
WINDOW_MS = 150  # mic audio compared per decision: long enough to align, short enough to react
LEAD_MS = 150  # the echo may also seem to come *before* the reference time (sink timestamps are approximate)
KEEP_S = 3.0  # reference history kept beyond the delay search range
FIT_TAPS = 8  # echo filter taps either side of the best delay (0.5 ms at 16 kHz)
ROOM_DECAY_S = 0.6  # the echo envelope falls 60 dB in this long: a living room rings for 0.3-0.6 s
# Bands where the residual is compared with the echo too: a voice over ours stands out where ours is weak
# (another pitch, other formants) while the whole frame is still mostly ours; a reverberant room's ringing
# may spike in one band, so the second-loudest band over its envelope counts.
BAND_EDGES_HZ = (100, 300, 600, 1000, 1600, 2500, 4000, 8000)
BAND_RANK = 2
ECHO_SETTLE_S = 0.1  # the room's tail after the last echo we could predict
HISTORY_MS = 1000  # mic frames kept (echo removed) to hand the start of a barge-in utterance to the endpointer


@cache
def _band_masks(n: int) -> tuple[F64, tuple[npt.NDArray[np.bool_], ...]]:
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    return np.hanning(n), tuple((freqs >= low) & (freqs < high) for low, high in itertools.pairwise(BAND_EDGES_HZ))


def _band_energies(samples: F64) -> F64:
    window, masks = _band_masks(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window)) ** 2
    return np.array([spectrum[mask].sum() for mask in masks])


class _Removed(NamedTuple):
    """A frame with our echo removed: energies of what is left and of the echo estimate, the samples left,
    and (where the canceller's were used) the samples the short fit would have left."""

    residual: float
    echo: float
    left: F64
    fit_left: F64 | None


def _dbfs(energy_per_sample: float) -> float:
    return 10 * math.log10(max(energy_per_sample, 1e-12) / (32768.0**2))


class EchoGate:
    def __init__(self, config: BargeInConfig | None = None, vad_mode: int = 3) -> None:
        self.config = config or BargeInConfig()
        self._vad = webrtcvad.Vad(vad_mode)
        self._ref = np.zeros(0)
        self._ref_t0: float | None = None  # monotonic time of self._ref[0]
        self._ref_end = 0.0  # playback (after stop) produces no echo beyond this time
        self._sound_at = 0.0  # start of the latest sound added
        self._mic: deque[AudioFrame] = deque()
        self._envelope = 0.0  # echo energy per frame, held and decaying over the room's reverberation
        self._band_envelope: F64 | None = None  # the same per band
        # residual / envelope (dB) of our own voice, per frame: (whole frame, BAND_RANK-th band)
        self._leftover = Leftover()
        self._pending: list[tuple[float, float]] = []  # the same for a possible user run, until it is decided
        self._triggered: list[tuple[float, float]] = []  # the same for the run that last triggered, until it
        # proves a user
        self._cleaned: deque[AudioFrame] = deque()  # the same frames with the echo estimate subtracted
        self._run_ms = 0
        self._missed = 0
        self.onset: AudioFrame | None = None  # first frame of the user speech that triggered
        self.last_user = False  # whether the last frame fed, on its own, sounded like the user
        self.last_residual_db = -math.inf  # dB above what our voice leaves here (frame or bands), for logs
        self._delay_s: float | None = None  # speaker-to-mic delay of the last echo found
        self._aec = Canceller()

    # ---- the playback side ----------------------------------------------------------------------

    def add_reference(self, pcm: bytes, rate: int, at: float) -> None:
        """The sink is about to play ``pcm`` starting at monotonic time ``at``."""
        samples = np.frombuffer(resample(pcm, rate, SAMPLE_RATE), dtype="<i2").astype(np.float64)
        if self._ref_t0 is None or at - self._ref_t0 > KEEP_S * 4:
            self._ref, self._ref_t0 = np.zeros(0), at
        # Trust the clock: a sink returns from play() a little before its last samples are out, so a
        # "never overlap" rule would push every later sentence further out of step.
        start = round((at - self._ref_t0) * SAMPLE_RATE)
        if start > len(self._ref):
            self._ref = np.concatenate([self._ref, np.zeros(start - len(self._ref))])
        self._ref = np.concatenate([self._ref[:start], samples])
        self._ref_end = self._ref_t0 + len(self._ref) / SAMPLE_RATE
        self._sound_at = at
        self._trim(at)

    def stop_reference(self, at: float, handed_s: float | None = None) -> None:
        """Playback was cut at ``at``. A device plays what it was handed before the cut: given
        ``handed_s``, the seconds of the current sound handed over, the reference ends there instead
        (a reference longer than the echo would add our voice back to the user's once it stops)."""
        if self._ref_t0 is not None:
            end = at if handed_s is None else self._sound_at + handed_s
            self._ref = self._ref[: max(0, round((end - self._ref_t0) * SAMPLE_RATE))]
            self._ref_end = min(self._ref_end, end)

    def _echo_delay_s(self) -> float:
        return self._delay_s if self._delay_s is not None else self.config.max_echo_delay_ms / 1000

    def _trim(self, now: float) -> None:
        assert self._ref_t0 is not None
        keep_from = now - KEEP_S - self.config.max_echo_delay_ms / 1000
        drop = int((keep_from - self._ref_t0) * SAMPLE_RATE)
        if drop > 0:
            self._ref = self._ref[drop:]
            self._ref_t0 += drop / SAMPLE_RATE

    def reset(self, *, keep_mic: bool = False) -> None:
        """Start of a new reply or after a barge-in: forget any partial detection and the cleaned frames,
        and the mic history unless ``keep_mic`` (to go on cleaning the echo still arriving after a cut)."""
        if not keep_mic:
            self._mic.clear()
        self._cleaned.clear()
        self._envelope = 0.0
        self._band_envelope = None
        self._pending.clear()
        self._run_ms = 0
        self._missed = 0
        self.onset = None
        self._aec.forget()

    # ---- the mic side ---------------------------------------------------------------------------

    def feed(self, frame: AudioFrame) -> bool:
        """One mic frame captured while we speak; True when user speech over our voice is confirmed."""
        mic = self._mic_window(frame)
        frame_ms = frame.duration_s * 1000
        user = self.last_user = self._is_user_frame(frame, mic)
        if user:
            if self._run_ms == 0:
                self.onset = frame
            self._run_ms += round(frame_ms)
            self._missed = 0
        elif self._run_ms:
            self._missed += 1
            if self._missed > 1:
                if self._run_ms < self.config.min_speech_ms:  # too short for a user: our voice after all
                    self._learn(self._pending)
                self._pending.clear()
                self._run_ms, self._missed, self.onset = 0, 0, None
        if self._run_ms < self.config.min_speech_ms:
            return False
        self._triggered = list(self._pending)
        return True

    def false_alarm(self) -> int:
        """The run that last triggered held no user after all (nothing was said: no utterance, or no words
        in it): learn it as our voice, so that what fooled the gate in this room does not cut the next
        reply. Returns how many frames were learnt."""
        learnt, self._triggered = self._triggered, []
        self._learn(learnt)
        return len(learnt)

    @property
    def learnt(self) -> bool:
        """Whether the gate has heard enough of our voice in this room to trust its learnt leak."""
        return self._leftover.learnt

    @property
    def room(self) -> list[tuple[float, float]]:
        """What the gate has learnt of this room: the leftover of our voice per frame (dB over the echo
        envelope: whole frame, and BAND_RANK-th band), oldest first, to hand to another gate with
        ``learn_room`` (the bench's warm gates, the daemon over a restart)."""
        return self._leftover.frames

    def learn_room(self, leaks: Iterable[Any]) -> int:
        """Take what a gate learnt of this room before (see ``room``); returns how many frames it kept
        (anything but a pair of finite numbers of dB is dropped)."""
        return self._leftover.take(leaks)

    def _learn(self, leaks: Iterable[tuple[float, float]]) -> None:
        self._leftover.learn(leaks)

    @property
    def leak_db(self) -> float:
        """How loud our own voice is once cleaned, relative to the echo envelope over the whole frame (see
        ``_leak_levels``)."""
        return self._leak_levels()[0]

    def _leak_levels(self) -> tuple[float, float]:
        """How loud our own voice is once cleaned, relative to the echo envelope (whole frame, bands):
        learnt in this room from the frames heard while we spoke, except runs that sounded like a user long
        enough to trigger (audio/room_leftover.py)."""
        return self._leftover.levels()

    def _mic_window(self, frame: AudioFrame) -> F64:
        """Keep ``frame`` in the mic history; the samples of the comparison window that ends with it."""
        self._mic.append(frame)
        frame_ms = frame.duration_s * 1000
        window = max(1, round(WINDOW_MS / frame_ms))
        while len(self._mic) > max(window, round(HISTORY_MS / frame_ms)):
            self._mic.popleft()
        while len(self._cleaned) >= round(HISTORY_MS / frame_ms):
            self._cleaned.popleft()
        pcm = b"".join(f.pcm for f in list(self._mic)[-window:])
        return np.frombuffer(pcm, dtype="<i2").astype(np.float64)

    def _cleaned_frame(self, frame: AudioFrame, left: F64) -> AudioFrame:
        cleaned = AudioFrame(np.asarray(np.clip(np.round(left), -32768, 32767), dtype="<i2").tobytes(),
                             frame.start_s, frame.captured_at)
        self._cleaned.append(cleaned)
        return cleaned

    @property
    def last_cleaned(self) -> AudioFrame | None:
        """The last frame fed, with the echo estimate subtracted (what the user said, as well as we can tell)."""
        return self._cleaned[-1] if self._cleaned else None

    def echo_may_arrive(self, frame: AudioFrame) -> bool:
        """Whether ``frame`` may still hold the echo of what we played (after a cut, the device's buffer
        and the room bring our voice back for a while)."""
        if self._ref_t0 is None:
            return False
        return frame.captured_at - frame.duration_s < self._ref_end + self._echo_delay_s() + ECHO_SETTLE_S

    def clean(self, frame: AudioFrame) -> AudioFrame:
        """``frame`` with the echo estimate removed, for a frame the detection does not need (the user's
        utterance after a barge-in, while the last of our voice still comes back)."""
        mic = self._mic_window(frame)
        return self._cleaned_frame(frame, self._residual(mic, frame.captured_at, len(frame.pcm) // 2).left)

    def frames_since_onset(self, preroll_ms: int = 800) -> list[AudioFrame]:
        """Echo-reduced mic frames from ``preroll_ms`` before the detected onset: the start of the user's
        utterance (quiet first words are often under our voice, before the gate was sure)."""
        if self.onset is None:
            return []
        start = self.onset.start_s - preroll_ms / 1000
        return [f for f in self._cleaned if f.start_s >= start]

    def _is_user_frame(self, frame: AudioFrame, mic: F64) -> bool:
        n = len(frame.pcm) // 2
        residual, echo, left, fit_left = self._residual(mic, frame.captured_at, n, adapt=True)
        if self._ref_t0 is None:  # we play nothing it was told of (a gate new from a reload): cannot tell
            self._cleaned_frame(frame, left)
            return False
        # The echo *envelope*: in a reverberant room our voice rings on after each word, where this frame's
        # echo estimate is small but the room still sounds of us.
        decay = 10 ** (-6 * frame.duration_s / ROOM_DECAY_S)
        self._envelope = max(echo, self._envelope * decay)
        echo_bands = _band_energies(mic[-n:] - left)
        if fit_left is not None:  # the canceller's: the short fit's estimate where that is larger
            echo_bands = np.maximum(echo_bands, _band_energies(mic[-n:] - fit_left))
        self._band_envelope = (echo_bands if self._band_envelope is None
                               else np.maximum(echo_bands, self._band_envelope * decay))
        # the frame's floor_dbfs level, spread over the bands: a band our echo never reached is no evidence
        band_floor = 10 ** (self.config.floor_dbfs / 10) * 32768.0**2 * n / len(echo_bands)
        over_bands = 10 * np.log10(np.maximum(_band_energies(left), 1e-9) / np.maximum(self._band_envelope, band_floor))
        over = (10 * math.log10(max(residual, 1e-9) / max(self._envelope, 1e-9)),
                float(np.sort(over_bands)[-BAND_RANK]))
        user = self._sounds_like_user(frame, left, residual, over)
        # the canceller learns from our voice alone: not on a frame that sounds like a user, nor within a
        # run of such frames (double talk would teach it the user's voice)
        if not (user or self._run_ms):
            self._aec.adapt()
        # Learn from our voice alone: a run of user-like frames waits until it is known to be too short for
        # a user (a run that triggered is learnt only if no words followed it: a user's words would raise
        # the bar for the next).
        if _dbfs(self._envelope / n) >= self.config.floor_dbfs:
            if user or self._run_ms:
                self._pending.append(over)
            else:
                self._learn((over,))
        return user

    def _sounds_like_user(self, frame: AudioFrame, left: F64, residual: float, over: tuple[float, float]) -> bool:
        # VAD on what is left once our echo is removed
        if not self._vad.is_speech(self._cleaned_frame(frame, left).pcm, SAMPLE_RATE):
            return False
        if _dbfs(residual / len(left)) < self.config.floor_dbfs:
            return False
        # above what our voice leaves in this room (learnt; until then 0 dB, the echo's envelope itself), over
        # the whole frame or in its bands
        leaks = self._leak_levels()
        self.last_residual_db = max(over[0] - leaks[0], over[1] - leaks[1])
        return self.last_residual_db >= self.config.margin_db

    def _residual(self, mic: F64, end_time: float, n: int, adapt: bool = False) -> _Removed:
        """The echo removed by the short fit (``_fit``) or the adaptive canceller, whichever leaves less
        (``adapt``: the canceller keeps this frame to learn from, once it is judged ours)."""
        residual, echo, left = self._fit(mic, end_time, n)
        self._aec.pending = None
        if self._ref_t0 is None or self._delay_s is None:
            return _Removed(residual, echo, left, None)
        end = round((end_time - self._ref_t0) * SAMPLE_RATE)
        if echo > residual:  # the direct path found with confidence (the fit explains most of the frame)
            self._aec.align(round(self._delay_s * SAMPLE_RATE))
        if self._aec.offset is None:
            return _Removed(residual, echo, left, None)
        cancelled = self._aec.cancel(self._ref, end, mic[-n:], keep=adapt)
        if cancelled is not None:
            a_left, a_echo = cancelled
            a_residual = float(a_left @ a_left)
            if a_residual < residual:
                # the envelope follows the larger echo estimate: a canceller still learning predicts too little
                return _Removed(a_residual, max(echo, float(a_echo @ a_echo)), a_left, left)
        return _Removed(residual, echo, left, None)

    def _fit(self, mic: F64, end_time: float, n: int) -> tuple[float, float, F64]:
        """Energies of (mic not explained by the reference, echo estimate) over the last ``n`` samples,
        and those samples with the echo estimate removed.

        Delay and gain are fitted on the whole window (stable); the residual is taken on the newest frame
        only, so a user starting to talk shows up at once instead of being averaged with older echo.
        """
        tail = mic[-n:]
        mic_energy = float(tail @ tail)
        latest_echo = self._ref_end + self.config.max_echo_delay_ms / 1000
        if self._ref_t0 is None or end_time - len(mic) / SAMPLE_RATE > latest_echo:
            return mic_energy, 0.0, tail  # nothing we played can reach this window
        delay = round(self.config.max_echo_delay_ms * SAMPLE_RATE / 1000)
        lags = delay + round(LEAD_MS * SAMPLE_RATE / 1000)
        # reference samples that could have produced this mic window: [start - delay, end + lead)
        end = round((end_time - self._ref_t0) * SAMPLE_RATE)
        begin = end - len(mic) - delay
        ref = np.zeros(len(mic) + lags)
        lo = max(begin, 0)
        hi = min(begin + len(ref), len(self._ref))
        if hi > lo:
            ref[lo - begin : hi - begin] = self._ref[lo:hi]
        if not ref.any():
            return mic_energy, 0.0, tail
        size = 1 << (len(ref) + len(mic)).bit_length()
        # corr[k] = sum_n mic[n] * ref[n + k]; echo delay d = delay - k (negative: lead)
        corr = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(mic, size)), size)[: lags + 1]
        cumulative = np.concatenate([[0.0], np.cumsum(ref * ref)])
        ref_energy = cumulative[len(mic) : len(mic) + lags + 1] - cumulative[: lags + 1]
        score = np.where(ref_energy > 1e-6, corr * np.abs(corr) / np.maximum(ref_energy, 1e-6), 0.0)
        k = int(np.argmax(score))
        if score[k] <= 0:
            return mic_energy, 0.0, tail
        self._delay_s = (delay - k) / SAMPLE_RATE
        # A short least-squares filter around the best delay, not one gain: the echo arrives a fraction of
        # a sample off our grid and coloured by resamplers and the speaker (one gain removes ~20 dB of a
        # sound server's loopback, this ~35 dB); too few taps to fit the user's voice in a 150 ms window.
        taps = np.arange(max(0, k - FIT_TAPS), min(lags, k + FIT_TAPS) + 1)
        shifted = np.lib.stride_tricks.sliding_window_view(ref, len(mic))[taps].T  # column j: ref[n + j]
        normal = shifted.T @ shifted
        normal += np.eye(len(taps)) * (1e-3 * np.trace(normal) / len(taps) + 1e-6)  # keep it well posed
        echo = shifted[-n:] @ np.linalg.solve(normal, shifted.T @ mic)
        left = tail - echo
        return float(left @ left), float(echo @ echo), left

