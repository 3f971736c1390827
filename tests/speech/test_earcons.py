"""Earcons: generated tones, played through PortAudio into the virtual speaker and heard back."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from assistant.audio.sinks import NullSink, PyAudioSink
from assistant.config.speech import EarconsConfig
from assistant.speech.earcons import RATE, TONES, Earcons
from support.vaudio import VirtualAudio
from support.wav import read_wav


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_each_earcon_is_short_click_free_and_has_its_pitch() -> None:
    earcons = Earcons(EarconsConfig(listening=True, thinking=True, error=True, volume=0.5), NullSink())
    for kind, tone in TONES.items():
        pcm = np.frombuffer(earcons.pcm(kind), dtype="<i2")  # type: ignore[arg-type]
        assert 0.05 < len(pcm) / RATE <= 0.4, kind
        assert abs(int(pcm[0])) < 200 and abs(int(pcm[-1])) < 200, kind  # faded in and out: no clicks
        assert 0.3 * 32767 < np.abs(pcm).max() <= 0.5 * 32767 + 1, kind
        first_note = pcm[: int(tone.notes[0][1] * RATE)]
        assert abs(dominant_hz(first_note, RATE) - tone.notes[0][0]) < 20, kind


def test_disabled_earcons_play_nothing() -> None:
    earcons = Earcons(EarconsConfig(listening=False, thinking=True, error=True, volume=0.0), NullSink())
    assert earcons.play("listening") is None and earcons.play("thinking") is None


def test_error_earcon_reaches_the_virtual_speaker(vaudio: VirtualAudio, tmp_path: Path) -> None:
    out = tmp_path / "earcon.wav"
    recorder = vaudio.record(out)
    time.sleep(0.5)
    sink = PyAudioSink(None)
    try:
        first = Earcons(EarconsConfig(error=True, volume=0.6), sink).play("error")
    finally:
        sink.close()
    time.sleep(0.5)
    recorder.terminate()
    recorder.wait(5)
    assert first is not None
    pcm, rate = read_wav(out)
    loud = np.flatnonzero(np.abs(pcm) > 2000)
    # >= 0.2 s, not 0.3: PyAudioSink loses the first ~60 ms of a play on this server (reported)
    assert len(loud) and 0.2 < (loud[-1] - loud[0]) / rate < 0.4
    heard = pcm[loud[0] : loud[-1]]
    high, low = heard[: len(heard) // 3], heard[-len(heard) // 3 :]
    assert abs(dominant_hz(high, rate) - 440) < 25 and abs(dominant_hz(low, rate) - 294) < 25  # falling
