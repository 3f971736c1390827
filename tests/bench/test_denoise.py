"""The enhancers of bench/denoise.py on a real noisy mix: a real command under real noise, built here from
committed recordings (tests/data/LICENSES.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.bench.denoise import GAIN_TARGET_DBFS, make_enhancer, normalise_gain
from support.wav import read_wav


def load(path: Path) -> np.ndarray:
    pcm, rate = read_wav(path)
    assert rate == 16000
    return pcm.astype(np.float32) / 32768.0


def noisy_mix(data_dir: Path, snr_db: float) -> tuple[np.ndarray, np.ndarray]:
    """(clean speech, the same speech under the loud broadband part of speechbrain_noise4 at ``snr_db``)."""
    speech = load(data_dir / "whatstheweatherlike.wav")
    noise = load(data_dir / "speechbrain_noise4.wav")[-len(speech):]  # its end: loud appliance-like noise
    gain = np.sqrt(np.mean(speech**2) / np.mean(noise**2)) * 10 ** (-snr_db / 20)
    return speech, speech + gain * noise


def residual_db(out: np.ndarray, clean: np.ndarray) -> float:
    """What is not the clean speech, in dB of the clean speech's energy (lower is cleaner)."""
    return float(10 * np.log10(np.sum((out - clean) ** 2) / np.sum(clean**2)))


def lag(out: np.ndarray, clean: np.ndarray, most: int = 400) -> int:
    """Samples by which ``out`` trails ``clean`` (cross-correlation peak within +-``most``)."""
    mid = slice(most, len(clean) - most)
    scores = [float(np.dot(out[mid], np.roll(clean, shift)[mid])) for shift in range(-most, most + 1)]
    return int(np.argmax(scores)) - most


@pytest.mark.parametrize(("name", "gain_db"), [("deepfilter", 8.0)])  # rnnoise, spectral: not locked (see below)
def test_denoisers_remove_real_noise_in_place(data_dir: Path, name: str, gain_db: float) -> None:
    enhance = make_enhancer(name)
    assert enhance is not None
    clean, noisy = noisy_mix(data_dir, snr_db=0.0)
    out = enhance(noisy)
    assert out.dtype == np.float32 and len(out) == len(noisy)
    # the words keep their place (the denoiser's own delay is taken back) ...
    assert lag(out, clean) == 0
    # ... and much of the noise is gone (measured: residual 0 dB -> DeepFilterNet3 -12.4 dB, RNNoise -9.6 dB)
    assert residual_db(out, clean) < residual_db(noisy, clean) - gain_db
    # clean speech comes through whole: most of its energy, in phase
    through = enhance(clean)
    assert float(np.dot(through, clean) / np.sqrt(np.dot(through, through) * np.dot(clean, clean))) > 0.9


def test_gain_normalisation_lifts_a_quiet_command(data_dir: Path) -> None:
    clean = load(data_dir / "whatstheweatherlike.wav")
    quiet = clean * 0.05
    out = normalise_gain(quiet)
    frame = 480
    energies = np.sort(np.mean(out[: len(out) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    loud_dbfs = 10 * np.log10(np.mean(energies[-len(energies) // 10 :]))
    assert abs(loud_dbfs - GAIN_TARGET_DBFS) < 1.0
    assert np.max(np.abs(out)) < 1.0
    np.testing.assert_allclose(out / out.max(), quiet / quiet.max(), atol=1e-6)  # a gain, nothing else
    assert not np.any(normalise_gain(np.zeros(16000, dtype=np.float32)))  # silence stays silence


def test_unknown_denoiser_is_refused() -> None:
    assert make_enhancer("none") is None
    with pytest.raises(ValueError, match="unknown denoiser"):
        make_enhancer("wiener")
