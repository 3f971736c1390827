"""Second-stage VAD: Silero confirms the webrtc endpointer's speech before Whisper runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.audio.sources import read_wav_pcm
from assistant.bench.hearing import endpoint
from assistant.config.hearing import GuardsConfig
from assistant.config.schema import Config
from assistant.hearing.listen import Listener
from assistant.hearing.silero import SileroVad


def test_speech_has_speech_and_music_has_almost_none(data_dir: Path) -> None:
    vad = SileroVad()
    speech = read_wav_pcm(data_dir / "jfk.wav")
    song = read_wav_pcm(data_dir / "music_song_with_vocals_lets_go_fishin.wav")
    assert vad.speech_seconds(speech) > 5.0  # of 11 s, with pauses between phrases
    assert vad.speech_seconds(song) < 2.0  # of 15 s of sung vocals over a band
    assert vad.speech_seconds(b"") == 0.0
    assert vad.speech_seconds(b"\x01") == 0.0  # half a sample is no audio
    assert vad.speech_seconds(bytes(32000 * 5)) == 0.0  # digital silence


@pytest.mark.parametrize("engine", ["silero", "both"])
def test_confirms_real_speech(engine: str, data_dir: Path) -> None:
    listener = Listener(engine=engine)
    for name in ("whatstheweatherlike.wav", "alexa_test.wav", "negative_reference.wav"):
        utterances = endpoint(data_dir / name, Config())
        assert utterances
        assert [listener.confirm_speech(u) for u in utterances] == [None] * len(utterances), name


def test_music_and_noise_are_stopped_before_asr(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = Config()
    song = endpoint(data_dir / "music_song_with_vocals_lets_go_fishin.wav", config)
    noise = endpoint(data_dir / "speechbrain_noise4.wav", config)
    assert song and noise  # webrtcvad takes both for speech
    both, silero, webrtc = Listener(engine="both"), Listener(engine="silero"), Listener(engine="webrtc")
    with caplog.at_level(logging.INFO, logger="assistant.hearing.listen"):
        for utterance in song + noise:
            reason = both.confirm_speech(utterance)
            assert reason is not None and "Silero" in reason
    assert "dropped utterance" in caplog.text
    assert all(silero.confirm_speech(u) is not None for u in noise)
    # the vocals hold over a second of speech-like sound: only webrtc/Silero disagreement ("both") rejects them
    assert silero.confirm_speech(song[0]) is None
    assert webrtc.confirm_speech(song[0]) is None


def test_thresholds_come_from_the_config(data_dir: Path) -> None:
    utterance = endpoint(data_dir / "whatstheweatherlike.wav", Config())[0]
    strict = Listener(None, GuardsConfig(silero_min_speech_s=5.0), engine="silero")
    reason = strict.confirm_speech(utterance)
    assert reason is not None and "< 5.0 s" in reason
