"""The wake-word benchmark's core on a tiny speech folder: the real "hey mycroft" clip, ordinary speech, a noise."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.bench import wake, wake_audio, wake_table
from support.paths import DATA

ROWS = [("openwakeword/hey_mycroft_test.wav", "hey_mycroft_test.wav", "hey mycroft", "wakeword"),
        ("openwakeword/negative_reference.wav", "negative_reference.wav", "", "wakeword_negative_speech"),
        ("speechbrain-tests/speechbrain_noise4.wav", "speechbrain_noise4.wav", "", "nonspeech")]


@pytest.fixture(scope="module")
def speech_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("speech")
    lines = ["file\tduration_s\treference_transcript\tcategory"]
    for relative, name, text, category in ROWS:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / name, folder / relative)
        lines.append(f"{relative}\t0\t{text}\t{category}")
    (folder / "manifest.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def seconds(path: Path) -> float:
    return len(wake_audio.read_wav(path)) / 16000


def test_counts_on_a_tiny_folder(speech_folder: Path) -> None:
    options = wake.Options(data=speech_folder, engines=("micro",), models=("hey_mycroft",), voices=(), piper=False,
                           long_hours=0, transcript=False, cpu_runs=1)
    result = wake.run(options)
    model = result["engines"]["micro"]["models"]["hey_mycroft"]
    assert result["clips_per_model"] == {"hey_mycroft": 1}
    assert result["noises"] == ["speechbrain-tests/speechbrain_noise4.wav"]
    conditions = model["positives"]["conditions"]
    assert [name for name, _ in wake_audio.CONDITIONS] == list(conditions)
    assert conditions["clean"] == {"n": 1, "detected": 1, "rate": 1.0}
    assert conditions["20 dB"]["detected"] == 1
    latency = model["positives"]["latency_ms"]
    # it fires on "mycrof", 80 ms before the final "t" burst ends the energy: near the end, never a second late
    assert latency["n"] == 1 and -300 <= latency["median"] < 1000
    # the negatives: speech and noise, the model's own clip left out; nothing fires in them
    negatives = model["negatives"]
    expected_s = seconds(speech_folder / ROWS[1][0]) + seconds(speech_folder / ROWS[2][0])
    assert negatives["hours"] == pytest.approx(expected_s / 3600, abs=1e-4)
    assert negatives["false_accepts"] == 0
    cpu = result["engines"]["micro"]["cpu_percent_of_one_core"]
    assert 0 < cpu["1 model"] < 50
    assert "| micro | hey_mycroft | 1 | 100.0 |" in wake_table.table(result)


def test_a_wake_clip_in_the_negatives_is_counted(speech_folder: Path) -> None:
    """Fed to another model's stream, the "hey mycroft" clip is a false accept for hey_mycroft's own detector
    only if it is not left out: so a negative set that includes it must count one."""
    segments = [wake_audio.Segment("clip", "elsewhere.wav", wake_audio.read_wav(speech_folder / ROWS[0][0]))]
    found = wake.acoustic_negatives("micro", ["hey_mycroft", "okay_nabu"], segments)
    assert len(found["hey_mycroft"].false_accepts) == 1
    assert found["okay_nabu"].false_accepts == []
    left_out = wake.acoustic_negatives("micro", ["hey_mycroft"], [
        wake_audio.Segment("clip", ROWS[0][0], segments[0].pcm)])
    assert left_out["hey_mycroft"].false_accepts == [] and left_out["hey_mycroft"].seconds == 0


def test_ordinary_speech_is_not_a_positive(speech_folder: Path) -> None:
    speech = wake_audio.Clip("hey_mycroft", "real negative", "real", wake_audio.read_wav(speech_folder / ROWS[1][0]))
    result = wake.acoustic_positives("micro", "hey_mycroft", wake_audio.trials([speech], [], seed=0,
                                                                       conditions=(("clean", None),)))
    assert result.as_dict()["conditions"]["clean"] == {"n": 1, "detected": 0, "rate": 0.0}


def test_speech_span_and_snr() -> None:
    rate = 16000
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(rate // 2) / rate)).astype(np.int16)
    clip = np.concatenate([np.zeros(rate // 4, np.int16), tone, np.zeros(rate // 4, np.int16)])
    start, end = wake_audio.speech_span(clip)
    assert start == pytest.approx(0.25, abs=0.011) and end == pytest.approx(0.75, abs=0.011)
    noise = np.random.default_rng(0).normal(0, 3000, len(clip)).astype(np.int16)
    mixed = wake_audio.mix(clip, noise, 10.0)
    added = (mixed.astype(np.float64) - clip) / 32768
    assert 10 * np.log10(wake_audio.active_power(clip) / np.mean(added**2)) == pytest.approx(10.0, abs=0.1)
