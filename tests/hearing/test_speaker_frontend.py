"""Our numpy front end and encoder give what librosa and Resemblyzer give (their values, computed once with
librosa 0.11 and resemblyzer 0.1.4 by benchmarks/speaker_frontend_check.py's method, are in
tests/data/resemblyzer_reference.json): the weights were trained on exactly that input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.audio.sources import read_wav_pcm
from assistant.hearing.speakers import frontend
from assistant.hearing.speakers.encoder import SpeakerEncoder, shared_encoder


@pytest.fixture(scope="module")
def reference(data_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((data_dir / "resemblyzer_reference.json").read_text())
    return data


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return shared_encoder()


def test_mel_filters_are_librosas_slaney_filters(reference: dict[str, Any]) -> None:
    filters = frontend.mel_filters()
    assert filters.shape == (40, 201)
    np.testing.assert_allclose(filters.sum(axis=1), reference["mel_filters_row_sums"], rtol=1e-5)
    assert filters.argmax(axis=1).tolist() == reference["mel_filters_argmax"]


def test_partials_are_cut_where_resemblyzer_cuts_them(reference: dict[str, Any]) -> None:
    for samples, slices in reference["partial_slices"].items():
        assert [[s.start, s.stop] for s in frontend.partial_slices(int(samples))] == slices, samples


def test_preprocessing_and_mel_spectrogram_match_resemblyzer(data_dir: Path, reference: dict[str, Any]) -> None:
    wav = frontend.preprocess(read_wav_pcm(data_dir / "speechbrain_spk1_snt1.wav"))
    assert len(wav) == reference["preprocessed_samples_spk1_snt1"]  # the same silences trimmed
    sums = frontend.mel_spectrogram(wav).sum(axis=1)[:50]
    np.testing.assert_allclose(sums, reference["mel_spk1_snt1_frame_sums"], rtol=1e-4)


def test_the_embedding_is_resemblyzers(data_dir: Path, reference: dict[str, Any], encoder: SpeakerEncoder) -> None:
    ours = encoder.embed(read_wav_pcm(data_dir / "speechbrain_spk1_snt1.wav"))
    assert ours is not None and ours.shape == (256,)
    assert abs(float(np.linalg.norm(ours)) - 1) < 1e-5
    assert float(np.dot(ours, np.asarray(reference["embedding_spk1_snt1"]))) >= 0.999


def test_volume_is_raised_never_lowered() -> None:
    quiet = (np.sin(np.arange(16000) / 10) * 0.001).astype(np.float32)
    loud = (np.sin(np.arange(16000) / 10) * 0.5).astype(np.float32)
    assert np.abs(frontend.normalize_volume(quiet)).max() > 0.01
    assert np.array_equal(frontend.normalize_volume(loud), loud)
    assert not frontend.normalize_volume(np.zeros(100, dtype=np.float32)).any()


def test_a_fraction_of_a_second_is_trimmed_like_a_long_recording(data_dir: Path, encoder: SpeakerEncoder) -> None:
    speech = read_wav_pcm(data_dir / "speechbrain_spk1_snt1.wav")
    for samples in (480, 2880, 3360, 4000):  # 1, 6, 7 and 8 VAD windows: shorter and longer than the dilation
        kept = frontend.trim_long_silences(frontend.pcm_to_float(speech[16000:16000 + 2 * samples]))
        assert len(kept) <= samples
    assert encoder.embed(speech[16000:16000 + 2 * 2880]) is None  # 0.18 s: too little voice to tell


def test_silence_and_a_click_are_no_voice(encoder: SpeakerEncoder) -> None:
    assert encoder.embed(bytes(32000)) is None
    click = np.zeros(16000, dtype=np.int16)
    click[8000:8040] = 20000
    assert encoder.embed(click.tobytes()) is None
