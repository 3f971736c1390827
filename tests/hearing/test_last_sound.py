"""The user's last sound told apart from webrtcvad's afterglow, on real recordings."""

from __future__ import annotations

import numpy as np
import pytest
import webrtcvad

from assistant.bench.speech_end import energy_end_s
from assistant.config.schema import VadConfig
from assistant.events import AudioFrame
from assistant.hearing.last_sound import LastSound, RollingPercentile
from assistant.hearing.vad import Endpointer
from support.paths import DATA
from support.wav import read_wav

RATE = 16000
FRAME = RATE * 30 // 1000
RECORDINGS = ("whatstheweatherlike.wav", "brooklyn_bridge.wav", "kws_computer_whatstheweatherlike.wav",
              "turn_on_the_living_room_lamp.wav", "speechbrain_spk1_snt2.wav", "speechbrain_spk2_snt1.wav")


def ends(samples: np.ndarray, mode: int = 2) -> tuple[float, float]:
    """(end of the last frame webrtcvad called voiced, end of the last one LastSound called the user's) in s."""
    vad, last_sound = webrtcvad.Vad(mode), LastSound(mode, 30)
    voiced_end = sound_end = 0.0
    for i in range(len(samples) // FRAME):
        pcm = samples[i * FRAME : (i + 1) * FRAME].tobytes()
        voiced = vad.is_speech(pcm, RATE)
        if voiced:
            voiced_end = (i + 1) * FRAME / RATE
        if last_sound.is_sound(pcm, voiced):
            sound_end = (i + 1) * FRAME / RATE
    return voiced_end, sound_end


def test_the_last_sound_ends_where_speech_ends_and_before_the_vads_last_voiced_frame() -> None:
    lags_vad, lags_sound = [], []
    for name in RECORDINGS:
        samples, rate = read_wav(DATA / name)
        assert rate == RATE
        true_end = energy_end_s(samples)
        assert true_end is not None
        voiced_end, sound_end = ends(samples)
        lags_vad.append(voiced_end - true_end)
        lags_sound.append(sound_end - true_end)
        assert -0.06 <= sound_end - true_end <= 0.1, name  # a word's end is never taken for silence
    print("VAD lag", lags_vad, "last sound lag", lags_sound)
    assert np.median(lags_vad) >= 0.08  # webrtcvad's own hangover
    assert np.median(lags_sound) <= np.median(lags_vad) - 0.06


def test_soft_speech_longer_than_the_afterglow_is_sound() -> None:
    """The same words 35 dB softer right after (someone going on quietly): quiet frames, but more of them in a
    row than webrtcvad's hangover, so they are the user's."""
    samples, _ = read_wav(DATA / "whatstheweatherlike.wav")
    true_end = energy_end_s(samples)
    assert true_end is not None
    loud = samples[: int(true_end * RATE)]
    soft = (samples.astype(np.float64) * 10 ** (-35 / 20)).astype(np.int16)
    _, sound_end = ends(np.concatenate([loud, soft]))
    assert sound_end > len(loud) / RATE + 0.5


def test_the_endpointer_counts_the_end_of_turns_silence_from_the_last_sound() -> None:
    samples, _ = read_wav(DATA / "whatstheweatherlike.wav")
    endpointer = Endpointer(VadConfig(hangover_ms=5000))
    for i in range(len(samples) // FRAME):
        pcm = samples[i * FRAME : (i + 1) * FRAME].tobytes()
        assert endpointer.feed(AudioFrame(pcm, i * 0.03, i * 0.03)) is None
    assert endpointer.in_speech
    # webrtcvad still called 150 ms of the fading "like" voiced; the hangover keeps counting from there
    assert endpointer.trailing_silence_ms >= endpointer.vad_silence_ms + 90


def test_the_rolling_percentile_is_numpys_over_the_latest_values() -> None:
    rolling, values = RollingPercentile(50), np.random.default_rng(1).normal(40.0, 10.0, 300)
    for i, value in enumerate(values):
        rolling.add(float(value))
        window = values[max(0, i - 49) : i + 1]
        for q in (0, 25, 95, 100):
            assert rolling.percentile(q) == pytest.approx(np.percentile(window, q), abs=1e-9)
    rolling.clear()
    assert len(rolling) == 0
