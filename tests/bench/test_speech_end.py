"""The true end of speech the latency benchmark counts from: a labelled end where there is one, else the
last frame clearly above the recording's noise floor, wherever the recording's silence and noise lie."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.bench.speech_end import energy_end_s, true_end_s
from support.wav import read_wav, write_wav


def test_the_end_of_a_real_command_is_where_its_last_word_fades(data_dir: Path) -> None:
    samples, rate = read_wav(data_dir / "whatstheweatherlike.wav")
    end = energy_end_s(samples, rate)
    assert end is not None and 1.2 < end < 1.5  # "...like?" fades out at ~1.35 s of the 2.03 s file
    # the same words after a second of silence and before 3 s more, in the recording's own faint hiss: the end
    # moves by that second only; in louder noise the fading "ke" is lost in it, and the end comes sooner
    rng = np.random.default_rng(1)
    padded = np.concatenate([np.zeros(rate, np.int16), samples, np.zeros(3 * rate, np.int16)])
    hiss = (padded + rng.normal(0, 2, len(padded))).astype(np.int16)
    assert energy_end_s(hiss, rate) == pytest.approx(end + 1.0, abs=0.02)
    noisy = (padded + rng.normal(0, 20, len(padded))).astype(np.int16)
    assert end + 1.0 - 0.15 < energy_end_s(noisy, rate) < end + 1.0


def test_silence_has_no_end() -> None:
    assert energy_end_s(np.zeros(16000, np.int16)) is None
    assert energy_end_s(np.zeros(10, np.int16)) is None


def test_a_label_wins_over_the_energy(data_dir: Path, tmp_path: Path) -> None:
    samples, rate = read_wav(data_dir / "whatstheweatherlike.wav")
    (tmp_path / "set").mkdir()
    wav = write_wav(tmp_path / "set" / "weather.wav", samples)
    assert true_end_s(wav, samples, rate)[1] == "energy"
    (tmp_path / "vad_labels.tsv").write_text("file\tstart_s\tend_s\tlabel\nset/weather.wav\t0.1\t0.9\tspeech\n"
                                             "set/weather.wav\t1.0\t1.31\tspeech\nother.wav\t0\t9\tspeech\n")
    assert true_end_s(wav, samples, rate) == (1.31, "label")
