"""Stop phrases over our own voice (half duplex): the matcher, and the echo gate + StopWordListener + tiny.en
on real recordings mixed with the echo of a synthesized reply, as a room would mix them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.app.build import build_stop_phrase
from assistant.audio.echo_gate import EchoGate
from assistant.audio.resample import resample
from assistant.config.schema import TtsConfig
from assistant.events import SAMPLE_RATE, AudioFrame
from assistant.speech.pyttsx3_engine import Pyttsx3Synthesizer
from assistant.turn.stop_words import MAX_S, StopWordListener, is_stop_request, sounds_like_stop
from support.wav import read_wav

WAKE = ["hey computer", "computer"]
# Our own reply says the stop phrases too: heard back as echo, it must still not stop itself.
REPLY = ("Here is a story. The guard shouted, stop. Everyone was quiet. Then he said: be quiet, and cancel the "
         "parade. Stop. That is the end of the story.")
FRAME = 480  # 30 ms, as the pipeline's VAD frames
T0 = 1000.0  # monotonic time playback starts


@pytest.fixture(scope="module")
def is_stop():  # type: ignore[no-untyped-def]
    return build_stop_phrase()


@pytest.mark.parametrize("text", ["Stop.", "stop", "Be quiet!", "Shut up.", "Cancel.", "Never mind.", "Quiet.",
                                  "Stop talking.", "That's enough.", "Computer, stop.", "Hey computer, be quiet.",
                                  "Stop, stop!", "Stop. Be quiet.", "Okay, stop.", "So stop.", "Please stop.",
                                  "Stop it!", "Just stop it now."])
def test_stop_requests(text: str, is_stop) -> None:  # type: ignore[no-untyped-def]
    assert is_stop_request(text, is_stop, WAKE)


@pytest.mark.parametrize("text", ["", "Okay.", "Please.", "Computer.", "Stop the timer.", "Don't stop.",
                                  "Stop at the bus stop.", "Turn on the living room lamp.", "Living room lamp",
                                  "Thank you.", "Top.", "Quite.", "Start!", "The guard shouted, stop.",
                                  "Stop. Turn on the lamp."])
def test_other_speech_is_not_a_stop_request(text: str, is_stop) -> None:  # type: ignore[no-untyped-def]
    assert not is_stop_request(text, is_stop, WAKE)


@pytest.fixture(scope="module")
def reply() -> tuple[bytes, int, np.ndarray]:
    """The reply as played (pcm, rate) and its echo at the mic: 90 ms late, full level, over a little noise."""
    pcm, rate = Pyttsx3Synthesizer(TtsConfig()).synthesize(REPLY)
    played = np.frombuffer(resample(pcm, rate, SAMPLE_RATE), dtype="<i2").astype(np.float64)
    mic = np.random.default_rng(0).normal(0, 30, len(played) + 2 * SAMPLE_RATE)
    delay = 90 * SAMPLE_RATE // 1000
    mic[delay : delay + len(played)] += played
    return pcm, rate, mic


def heard_over(reply: tuple[bytes, int, np.ndarray], user: Path | None, at_s: float) -> list[bytes]:
    """Feed the mic (echo plus, from ``at_s``, the user's recording) to a StopWordListener; every crop of
    every utterance it collected."""
    pcm, rate, echo = reply
    mic = echo.copy()
    if user is not None:
        said, said_rate = read_wav(user)
        assert said_rate == SAMPLE_RATE
        start = int(at_s * SAMPLE_RATE)
        mic[start : start + len(said)] += said
    samples = np.clip(np.round(mic), -32768, 32767).astype("<i2")
    gate = EchoGate()
    gate.add_reference(pcm, rate, T0)
    listener = StopWordListener(gate)
    found = []
    for i in range(len(samples) // FRAME):
        frame = AudioFrame(samples[i * FRAME : (i + 1) * FRAME].tobytes(), i * FRAME / SAMPLE_RATE,
                           T0 + (i + 1) * FRAME / SAMPLE_RATE)
        found += listener.feed(frame) or ()
    return found + list(listener.flush() or ())


@pytest.mark.slow
@pytest.mark.parametrize("at_s", [1.0, 2.5, 4.0])
def test_stop_said_over_the_reply_is_heard_as_stop(reply, data_dir: Path, recognizer, is_stop,  # type: ignore[no-untyped-def]
                                                    at_s: float) -> None:
    heard = heard_over(reply, data_dir / "stop_voskjs.wav", at_s)
    assert heard, "the echo gate did not find the user's voice over ours"
    assert all(len(pcm) / (2 * SAMPLE_RATE) <= MAX_S + 0.031 for pcm in heard)  # short: one frame of slack
    texts = [recognizer.transcribe(pcm).text for pcm in heard]
    assert any(is_stop_request(t, is_stop, WAKE) for t in texts), texts


@pytest.mark.slow
@pytest.mark.parametrize("at_s", [1.0, 2.5, 4.0])
def test_a_stop_whisper_writes_nothing_for_still_sounds_like_one(reply, data_dir: Path, recognizer,  # type: ignore[no-untyped-def]
                                                                 at_s: float) -> None:
    transcripts = [recognizer.transcribe(pcm) for pcm in heard_over(reply, data_dir / "stop_voskjs.wav", at_s)]
    short = [t for t in transcripts if len(t.text.split()) <= 2]
    assert short and any(sounds_like_stop(t) for t in short), [t.text for t in transcripts]
    assert not sounds_like_stop(recognizer.transcribe(bytes(32000)))  # a second of silence


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["turn_on_the_living_room_lamp.wav", "whatstheweatherlike.wav", "brooklyn_bridge.wav"])
def test_other_speech_over_the_reply_is_not_stop(reply, data_dir: Path, recognizer, is_stop,  # type: ignore[no-untyped-def]
                                                 clip: str) -> None:
    for at_s in (1.0, 2.5, 4.0):
        heard = heard_over(reply, data_dir / clip, at_s)
        assert heard, "the echo gate did not find the user's voice over ours"
        transcripts = [recognizer.transcribe(pcm) for pcm in heard]
        texts = [t.text for t in transcripts]
        assert not any(is_stop_request(t, is_stop, WAKE) for t in texts), texts
        assert not any(sounds_like_stop(t) for t in transcripts), texts


def test_our_own_voice_is_never_collected(reply) -> None:  # type: ignore[no-untyped-def]
    # the reply says "stop" and "be quiet" itself: the gate must explain all of it as our echo
    assert heard_over(reply, None, 0.0) == []
    # ... and the mic really held speech: told we played silence instead, the gate takes it for the user's
    # voice, so the check above is not passing for want of sound
    _, _, echo = reply
    samples = np.clip(np.round(echo), -32768, 32767).astype("<i2")
    gate = EchoGate()
    gate.add_reference(bytes(len(samples) * 2), SAMPLE_RATE, T0)
    listener = StopWordListener(gate)
    found = [listener.feed(AudioFrame(samples[i * FRAME : (i + 1) * FRAME].tobytes(), i * FRAME / SAMPLE_RATE,
                                      T0 + (i + 1) * FRAME / SAMPLE_RATE)) for i in range(len(samples) // FRAME)]
    assert any(pcm is not None for pcm in found)
