"""asr.second_pass_model: Whisper base transcribes again when tiny.en sounds unsure, on a real noisy mix
built here from committed recordings (tests/data/LICENSES.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config.schema import AsrConfig
from assistant.events import TranscriptSegment
from assistant.hearing.whisper import WhisperRecognizer, looks_unsure
from support.textnorm import wer
from support.wav import read_wav

BRIDGE = "how old is the Brooklyn Bridge"


def segment(text: str, avg_logprob: float) -> TranscriptSegment:
    return TranscriptSegment(start=0.0, end=1.0, text=text, no_speech_prob=0.1, avg_logprob=avg_logprob,
                             compression_ratio=1.0)


def test_only_written_doubtful_text_is_unsure() -> None:
    assert looks_unsure([segment("How old is the record range?", -0.88)], -0.8)
    assert not looks_unsure([segment("How old is the Brooklyn Bridge?", -0.3)], -0.8)
    # nothing written (noise): no second pass, or every noise burst in a loud room would cost one
    assert not looks_unsure([segment("", -1.5)], -0.8)
    assert not looks_unsure([], -0.8)


def bridge_in_hiss(data_dir: Path) -> bytes:
    """"How old is the Brooklyn Bridge" under the end of picovoice_empty_noise (broadband hiss) at 0 dB SNR."""
    speech = read_wav(data_dir / "brooklyn_bridge.wav")[0].astype(np.float64)
    noise = read_wav(data_dir / "picovoice_empty_noise.wav")[0].astype(np.float64)[-len(speech):]
    noise *= np.sqrt(np.mean(speech**2) / np.mean(noise**2))
    return np.asarray(np.clip(np.round(speech + noise), -32768, 32767), dtype="<i2").tobytes()


@pytest.fixture(scope="module")
def with_second_pass() -> WhisperRecognizer:
    # base comes with the models-base extra, which the test install (scripts/setup.sh --tests) brings
    return WhisperRecognizer(AsrConfig(second_pass_model="base"))


def test_base_answers_when_tiny_is_unsure(recognizer: WhisperRecognizer, with_second_pass: WhisperRecognizer,
                                          data_dir: Path) -> None:
    pcm = bridge_in_hiss(data_dir)
    first = recognizer.transcribe(pcm)  # tiny.en alone (measured: "How old is the record bridge?", -0.87)
    assert looks_unsure(first.segments, -0.8), first
    assert wer(BRIDGE, first.text) > 0, first.text
    again = with_second_pass.transcribe(pcm)  # measured: "How old is the broken bridge?"
    assert again.model == "base"
    assert wer(BRIDGE, again.text) <= wer(BRIDGE, first.text), again.text
    assert min(s.avg_logprob for s in again.segments) > min(s.avg_logprob for s in first.segments)
    assert again.asr_s > first.asr_s  # both passes are counted in the recognizer's time
    bounded = with_second_pass.transcribe_bounded(pcm)  # the speculative path gets the second opinion too
    assert bounded is not None and bounded.model == "base"


def test_clean_speech_keeps_the_first_pass(with_second_pass: WhisperRecognizer, data_dir: Path) -> None:
    pcm = read_wav(data_dir / "whatstheweatherlike.wav")[0].tobytes()
    transcript = with_second_pass.transcribe(pcm)
    assert transcript.model == "tiny.en"
    assert wer("What's the weather like?", transcript.text) == 0.0, transcript.text
