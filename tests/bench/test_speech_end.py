"""The true end of speech the latency benchmark counts from: a labelled end where there is one, else the
last stretch clearly above the recording's noise floor, wherever the recording's silence and noise lie, and
however the noise after the last word flickers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.bench.speech_end import energy_end_s, true_end_s
from support.wav import read_wav, write_wav


def test_the_end_of_a_real_command_is_where_its_last_word_fades(data_dir: Path) -> None:
    samples, rate = read_wav(data_dir / "whatstheweatherlike.wav")
    end = energy_end_s(samples, rate)
    # "...like?" is over at ~1.2 s of the 2.03 s file (what follows is a fade 40 dB under the voice)
    assert end is not None and 1.1 < end < 1.3
    # the same words after a second of silence and before 3 s more, in faint hiss or in louder noise: the end
    # moves by that second only (it is judged against the voice's own level, not only the floor)
    rng = np.random.default_rng(1)
    padded = np.concatenate([np.zeros(rate, np.int16), samples, np.zeros(3 * rate, np.int16)])
    for noise in (2, 20):
        noisy = (padded + rng.normal(0, noise, len(padded))).astype(np.int16)
        assert energy_end_s(noisy, rate) == pytest.approx(end + 1.0, abs=0.05), noise


def test_a_flickering_room_after_the_last_word_is_not_speech(data_dir: Path) -> None:
    samples, rate = read_wav(data_dir / "turn_on_the_living_room_lamp.wav")
    end = energy_end_s(samples, rate)  # the room hums 30-44 dB for 1.6 s after "lamp" (voice: 60-70 dB)
    assert end is not None and 1.25 < end < 1.5, end


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
