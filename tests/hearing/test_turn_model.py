"""Smart Turn v3.2 on real audio: loaded from the package's data, no framework import."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.hearing.turn_model import TurnModel, last_window, log_mel, model_path
from support.wav import read_wav

SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"


@pytest.fixture(scope="module")
def model() -> TurnModel:
    return TurnModel()


def test_model_file_ships_with_its_licence() -> None:
    path = model_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256
    assert "BSD 2-Clause" in (path.parent / "smart-turn-LICENSE").read_text()
    assert "pipecat" not in sys.modules


def test_features_are_whisper_log_mel_of_the_last_eight_seconds(data_dir: Path) -> None:
    pcm, _ = read_wav(data_dir / "jfk.wav")  # 11 s: only the last 8 s count
    window = last_window(pcm.tobytes())
    assert len(window) == 8 * 16000
    assert np.allclose(window, pcm[-8 * 16000 :].astype(np.float32) / 32768.0)
    short = last_window(pcm[:16000].tobytes())  # 1 s: silence goes *before* it
    assert not short[: 7 * 16000].any() and short[7 * 16000 :].any()
    features = log_mel(window)
    assert features.shape == (80, 800) and features.dtype == np.float32
    assert features.max() <= 2.5 and features.max() - features.min() <= 2.0 + 1e-5  # 8 dB floor / 4


def test_a_finished_question_scores_higher_than_the_same_question_cut_short(model: TurnModel,
                                                                           data_dir: Path) -> None:
    pcm, rate = read_wav(data_dir / "what_time_is_it_espeak.wav")
    assert rate == 16000
    full = model.probability(pcm.tobytes())
    cut = model.probability(pcm[: int(0.8 * rate)].tobytes())  # "What time ..." and a breath
    assert full > 0.5 > cut, (full, cut)
    assert model.last_ms > 0


def test_a_finished_command_counts_as_complete(model: TurnModel, data_dir: Path) -> None:
    pcm, _ = read_wav(data_dir / "turn_on_the_living_room_lamp.wav")
    assert model.probability(pcm.tobytes()) > 0.9
    assert 0.0 <= model.probability(bytes(3200)) <= 1.0  # pure silence is not an error
