"""What the speaker encoder hears: 16 kHz PCM made into Resemblyzer's mel frames, in numpy.

Resemblyzer (``resemblyzer/audio.py`` and ``hparams.py``, 0.1.4) prepares a voice like this, and the
encoder's weights were trained on exactly that, so every step here matches it:

1. volume normalised *up* to -30 dBFS (a quiet voice is raised, a loud one left alone);
2. long silences trimmed: webrtcvad (mode 3) on 30 ms windows, smoothed by a moving average over 8
   windows, rounded, dilated by 3 windows either side; only the kept windows stay;
3. a mel *power* spectrogram (librosa.feature.melspectrogram defaults: 25 ms Hann window, 10 ms hop,
   centred frames with zero padding, 40 Slaney mel bands from 0 to 8 kHz with Slaney area
   normalisation, power 2, no log);
4. cut into partials of 160 frames (1.6 s), 1.3 partials per second (a step of 77 frames); the last one
   is zero-padded, and dropped when it covers less than 75 % unless it is the only one.

Checked against librosa and Resemblyzer themselves: see tests/hearing/test_speaker_frontend.py and the
front-end check in benchmarks/README.md.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import webrtcvad

from assistant.events import SAMPLE_RATE

Floats = npt.NDArray[np.float32]

N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
PARTIALS_PER_S = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
VAD_WINDOW = SAMPLE_RATE * 30 // 1000
VAD_AVERAGE = 8
VAD_MAX_SILENCE = 6
INT16_MAX = 2**15 - 1


def pcm_to_float(pcm: bytes) -> Floats:
    """int16 PCM as floats in [-1, 1), as soundfile (and so librosa.load) reads a 16-bit WAV."""
    return (np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)


def normalize_volume(wav: Floats, target_dbfs: float = TARGET_DBFS) -> Floats:
    """Raise the level to ``target_dbfs`` (RMS); never lower it. Digital silence stays silence."""
    rms = float(np.sqrt(np.mean((wav.astype(np.float64) * INT16_MAX) ** 2))) if len(wav) else 0.0
    if rms == 0.0:
        return wav
    change = target_dbfs - 20 * np.log10(rms / INT16_MAX)
    if change < 0:
        return wav
    raised: Floats = (wav * (10 ** (change / 20))).astype(np.float32)
    return raised


def trim_long_silences(wav: Floats) -> Floats:
    """Keep the voiced stretches (with up to ~0.2 s of silence around them), as Resemblyzer does."""
    wav = wav[: len(wav) - len(wav) % VAD_WINDOW]
    if not len(wav):
        return wav
    pcm = np.round(wav * INT16_MAX).astype("<i2").tobytes()
    vad = webrtcvad.Vad(3)
    step = VAD_WINDOW * 2
    flags = np.array([vad.is_speech(pcm[i:i + step], SAMPLE_RATE) for i in range(0, len(pcm), step)], dtype=float)
    padded = np.concatenate((np.zeros((VAD_AVERAGE - 1) // 2), flags, np.zeros(VAD_AVERAGE // 2)))
    sums = np.cumsum(padded)
    sums[VAD_AVERAGE:] = sums[VAD_AVERAGE:] - sums[:-VAD_AVERAGE]
    mask = np.round(sums[VAD_AVERAGE - 1:] / VAD_AVERAGE).astype(bool)
    width = VAD_MAX_SILENCE + 1
    half = (width - 1) // 2  # binary dilation (scipy's, centred), whatever the length (np's "same" is not)
    mask = np.convolve(mask.astype(int), np.ones(width, dtype=int), mode="full")[half:half + len(mask)] > 0
    return wav[np.repeat(mask, VAD_WINDOW)]


def preprocess(pcm: bytes) -> Floats:
    """16 kHz mono int16 PCM as the encoder wants its waveform: level raised, long silences cut."""
    return trim_long_silences(normalize_volume(pcm_to_float(pcm)))


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    mels = hz / f_sp
    high = hz >= min_log_hz
    mels[high] = min_log_mel + np.log(hz[high] / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    hz = f_sp * mels
    high = mels >= min_log_mel
    hz[high] = min_log_hz * np.exp(logstep * (mels[high] - min_log_mel))
    return hz


def mel_filters(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> Floats:
    """librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels): triangles with Slaney area normalisation."""
    fft_hz = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([sr / 2]))[0], n_mels + 2))
    gaps = np.diff(mel_hz)
    ramps = np.subtract.outer(mel_hz, fft_hz)
    weights = np.zeros((n_mels, len(fft_hz)))
    for i in range(n_mels):
        lower, upper = -ramps[i] / gaps[i], ramps[i + 2] / gaps[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2:n_mels + 2] - mel_hz[:n_mels]))[:, np.newaxis]
    return weights.astype(np.float32)


_FILTERS = mel_filters()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann


def mel_spectrogram(wav: Floats) -> Floats:
    """Mel power spectrogram, one row per 10 ms frame: shape (1 + len(wav) // 160, 40)."""
    padded = np.pad(wav, N_FFT // 2)  # centred frames, zero padding (librosa >= 0.10's default)
    count = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(padded, shape=(count, N_FFT),
                                             strides=(padded.strides[0] * HOP, padded.strides[0]))
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) ** 2
    return (power @ _FILTERS.T).astype(np.float32)


def partial_slices(n_samples: int) -> list[slice]:
    """Where the partials lie in the mel frames (Resemblyzer's compute_partial_slices, rate 1.3)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round(SAMPLE_RATE / PARTIALS_PER_S / HOP))
    slices = [slice(i, i + PARTIAL_FRAMES) for i in range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step)]
    last = slices[-1]
    coverage = (n_samples - last.start * HOP) / ((last.stop - last.start) * HOP)
    if coverage < MIN_COVERAGE and len(slices) > 1:
        slices = slices[:-1]
    return slices


def partials(wav: Floats) -> Floats:
    """The encoder's input for one preprocessed waveform: shape (n_partials, 160, 40)."""
    slices = partial_slices(len(wav))
    needed = slices[-1].stop * HOP
    if needed >= len(wav):
        wav = np.pad(wav, (0, needed - len(wav)))
    mel = mel_spectrogram(wav)
    return np.stack([mel[s] for s in slices])
