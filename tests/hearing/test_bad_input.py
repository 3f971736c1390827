"""Bad input through the hearing path: empty, 20-minute, 8 kHz, stereo and clipped recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audio.resample import resample
from assistant.audio.sources import read_wav_pcm
from assistant.bench.hearing import endpoint
from assistant.config.schema import Config
from assistant.events import Transcript, Utterance
from assistant.hearing.listen import Decision, Listener, words
from assistant.hearing.whisper import WhisperRecognizer
from support.wav import write_wav


def hear(path: Path, recognizer: WhisperRecognizer, listener: Listener) -> list[Decision]:
    """The daemon's hearing path for one recording: endpointer, second-stage VAD, Whisper, guards, mode."""
    out = []
    for utterance in endpoint(path, Config()):
        reason = listener.confirm_speech(utterance)
        if reason is not None:
            out.append(Decision(None, reason))
            continue
        transcript = recognizer.transcribe(utterance.pcm, initial_prompt=listener.initial_prompt)
        out.append(listener.accept(transcript, utterance, utterance.ended_at))
    return out


def speech(data_dir: Path) -> np.ndarray:
    return np.frombuffer(read_wav_pcm(data_dir / "whatstheweatherlike.wav"), dtype="<i2")


def test_empty_recording(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "empty.wav", np.zeros(0))
    assert endpoint(path, Config()) == []
    listener = Listener(engine="both")
    empty = Utterance(b"", 0.0, 0.0, 0.0, 0.0, 0.0)
    assert listener.confirm_speech(empty) is not None  # nothing for Silero to confirm
    decision = listener.accept(Transcript("", (), "tiny.en", 0.0), empty, 0.0)
    assert decision.request is None and decision.reason


@pytest.mark.slow
def test_twenty_minutes_of_music_costs_no_asr(tmp_path: Path, data_dir: Path) -> None:
    song = np.frombuffer(read_wav_pcm(data_dir / "music_song_with_vocals_lets_go_fishin.wav"), dtype="<i2")
    path = write_wav(tmp_path / "long.wav", np.tile(song, int(np.ceil(20 * 60 * 16000 / len(song))))[: 20 * 60 * 16000])
    utterances = endpoint(path, Config())
    # webrtcvad takes the song for one long speech: cut at max_utterance_s, so memory stays bounded...
    assert len(utterances) >= 50
    assert max(u.duration_s for u in utterances) <= Config().vad.max_utterance_s + 0.1
    assert utterances[-1].end_s > 19 * 60
    # ...and the second-stage VAD keeps every piece of it away from Whisper.
    listener = Listener(engine="both")
    assert all(listener.confirm_speech(u) is not None for u in utterances)


@pytest.mark.slow
def test_long_silence_then_a_request(tmp_path: Path, data_dir: Path, recognizer: WhisperRecognizer) -> None:
    rng = np.random.default_rng(0)
    quiet = rng.normal(0, 30, 20 * 60 * 16000).astype(np.int16)  # 20 minutes of faint room hiss
    path = write_wav(tmp_path / "late.wav", np.concatenate([quiet, speech(data_dir)]))
    decisions = hear(path, recognizer, Listener(engine="both"))
    requests = [d.request for d in decisions if d.request is not None]
    assert len(requests) == 1 and words(requests[0]) == ["whats", "the", "weather", "like"]


@pytest.mark.slow
def test_eight_khz_recording(tmp_path: Path, data_dir: Path, recognizer: WhisperRecognizer) -> None:
    narrow = np.frombuffer(resample(speech(data_dir).tobytes(), 16000, 8000), dtype="<i2")
    path = write_wav(tmp_path / "phone.wav", narrow, rate=8000)
    decisions = hear(path, recognizer, Listener(engine="both"))
    assert [words(d.request or "") for d in decisions] == [["whats", "the", "weather", "like"]]


@pytest.mark.slow
def test_stereo_recording(tmp_path: Path, data_dir: Path, recognizer: WhisperRecognizer) -> None:
    mono = speech(data_dir)
    stereo = np.stack([mono, (mono // 2)], axis=1).reshape(-1)  # voice louder on the left
    path = write_wav(tmp_path / "stereo.wav", stereo, channels=2)
    decisions = hear(path, recognizer, Listener(engine="both"))
    assert [words(d.request or "") for d in decisions] == [["whats", "the", "weather", "like"]]


@pytest.mark.slow
def test_clipped_recording(tmp_path: Path, data_dir: Path, recognizer: WhisperRecognizer) -> None:
    loud = np.clip(speech(data_dir).astype(np.int32) * 12, -32768, 32767)  # hard clipping, like a hot mic gain
    assert np.mean(np.abs(loud) >= 32767) > 0.05
    path = write_wav(tmp_path / "clipped.wav", loud)
    decisions = hear(path, recognizer, Listener(engine="both"))
    assert decisions
    for decision in decisions:  # understood, or dropped with a stated reason: never an exception
        assert decision.request is not None or decision.reason
    assert any(d.request and "weather" in words(d.request) for d in decisions), decisions
