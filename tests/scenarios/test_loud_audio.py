"""Loud noise, music and clipped speech through the whole pipeline (`assistant simulate`, default config:
Silero and speculative recognition on): the process ends cleanly every time. 20 s of full-scale noise
used to crash it at exit (SIGSEGV), when Silero dropped the utterance while its speculative transcription
still ran in CTranslate2 on another thread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from support.cli import run_cli
from support.paths import DATA
from support.wav import read_wav, write_wav

pytestmark = pytest.mark.slow


def noise(path: Path, seconds: float = 20.0) -> Path:
    rng = np.random.default_rng(7)
    return write_wav(path, (rng.uniform(-1, 1, int(16000 * seconds)) * 32767).astype(np.int16))


def clipped_speech(path: Path) -> Path:
    pcm, rate = read_wav(DATA / "turn_on_the_living_room_lamp.wav")
    loud = np.clip(pcm.astype(np.int64) * 30, -32768, 32767).astype(np.int16)  # +30 dB, hard clipped
    return write_wav(path, np.concatenate([loud, np.zeros(rate, dtype=np.int16)]), rate)


@pytest.mark.parametrize("make", [noise, clipped_speech,
                                  lambda tmp: DATA / "music_song_with_vocals_lets_go_fishin.wav",
                                  lambda tmp: DATA / "speechbrain_noise4.wav"],
                         ids=["full-scale noise", "clipped speech", "song", "whistle and noise"])
def test_the_pipeline_survives_loud_audio(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    recording = make(tmp_path / "input.wav")
    for _ in range(2):  # the crash came at exit, not every time on every machine
        result = run_cli("simulate", str(recording), "--output", str(tmp_path / "reply.wav"), timeout=300)
        assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr and "Fatal Python error" not in result.stderr
