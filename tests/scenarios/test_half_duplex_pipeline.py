"""Half duplex through the whole pipeline, in a virtual room: what the assistant plays comes back into its
microphone (a PulseAudio loopback), and real recordings are played into that microphone over it.

While it speaks, only a stop phrase is acted on ("stop" cuts the reply and starts no turn); other speech
and its own voice, stop words included, are ignored. The "listening" earcon after a wake phrase said
alone is played, and its echo is not taken for an utterance."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from assistant.app.build import Kept, build_pipeline
from assistant.audio.sinks import PyAudioSink
from assistant.audio.sources import PyAudioSource
from assistant.config.schema import validate
from assistant.events import TurnReport
from assistant.speech.earcons import TONES
from assistant.turn.pipeline import Pipeline, TextJob
from support.barge_in_scene import when_playing
from support.textnorm import normalise
from support.vaudio import VirtualAudio
from support.wav import read_wav

ANNOUNCEMENT = ("Here is the news. The weather today is sunny with a light breeze. Tomorrow will bring some "
                "rain in the evening. The football match was cancelled. Traffic is light on the main roads.")
# Says stop phrases itself: its own echo must not stop it.
STORY = ("Here is a story. The guard shouted, stop. Everyone was quiet. Then he said: be quiet, and cancel "
         "the parade. Stop. That is the end of the story.")


@dataclass
class Room:
    pipeline: Pipeline
    turns: list[TurnReport]
    played: Path  # what the assistant played, recorded from the virtual speaker
    recorder: subprocess.Popen[bytes]

    def recording(self) -> tuple[np.ndarray, int]:
        """Everything the assistant played (it stops playing first, so the recording is complete)."""
        self.pipeline.stop()
        time.sleep(0.5)
        self.recorder.terminate()
        self.recorder.wait(5)
        return read_wav(self.played)


@pytest.fixture
def room(vaudio: VirtualAudio, room_echo: None, tmp_path: Path, recognizer,  # type: ignore[no-untyped-def]
         request: pytest.FixtureRequest) -> Iterator[Room]:
    overrides = getattr(request, "param", {})
    config = validate({"llm": {"backend": "none"}, **overrides})
    assert config.turn.policy == "half_duplex" and config.turn.stop_words_while_speaking  # the defaults
    sink = PyAudioSink(None)
    pipeline = build_pipeline(config, PyAudioSource(None), sink, kept=Kept(recognizer=recognizer))
    turns: list[TurnReport] = []
    pipeline.on_turn = turns.append
    played = tmp_path / "played.wav"
    recorder = vaudio.record(played)
    runner = threading.Thread(target=pipeline.run, daemon=True)
    runner.start()
    time.sleep(0.5)
    try:
        yield Room(pipeline, turns, played, recorder)
    finally:
        pipeline.stop()
        runner.join(10)
        pipeline.close()
        sink.close()
        recorder.terminate()
        recorder.wait(5)


def speak_and_say_over(room: Room, vaudio: VirtualAudio, reply: str, clip: Path | None) -> TextJob:
    """The assistant says ``reply``; two seconds in, ``clip`` is played into the mic. Waits for the end."""
    playing = when_playing(room.pipeline.stages.sink)
    job = room.pipeline.submit_text(reply, route=False)
    playing.wait(30)
    time.sleep(2.0)  # into the second sentence
    if clip is not None:
        vaudio.play(clip).wait(30)
    assert job.done.wait(60) and job.report is not None
    wait_for_stop_checks(room.pipeline)
    time.sleep(1.5)  # long enough for anything heard to have become an utterance, if it were going to
    wait_until_idle(room)  # and for that utterance to have become a turn: the checks see every turn
    return job


def wait_until_idle(room: Room, timeout: float = 60) -> None:
    """Nothing heard is pending: no utterance being collected, queued or answered, every turn reported."""
    pipeline = room.pipeline
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (pipeline.stages.endpointer.in_speech or pipeline.busy
                                           or pipeline.turn_started_at is not None
                                           or len(room.turns) < pipeline.stats.turns):
        time.sleep(0.05)


def wait_for_stop_checks(pipeline: Pipeline, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while pipeline.checking_for_stop and time.monotonic() < deadline:
        time.sleep(0.05)


def spoken(room: Room, recognizer) -> str:  # type: ignore[no-untyped-def]
    pcm, _ = room.recording()
    return str(recognizer.transcribe(pcm.tobytes(), vad_filter=True).text.lower())


@pytest.mark.slow
def test_stop_said_over_the_reply_cuts_it_and_starts_no_turn(room: Room, vaudio: VirtualAudio, data_dir: Path,
                                                             recognizer) -> None:  # type: ignore[no-untyped-def]
    job = speak_and_say_over(room, vaudio, ANNOUNCEMENT, data_dir / "stop_voskjs.wav")
    stats = room.pipeline.stats
    assert stats.stops_while_speaking == 1, stats
    said = spoken(room, recognizer)
    assert "news" in said and "traffic" not in said, f"the reply was not cut: {said!r}"
    assert room.turns == [job.report] and not room.pipeline.busy, "the stop phrase was taken for a request"


@pytest.mark.slow
def test_other_speech_over_the_reply_is_ignored(room: Room, vaudio: VirtualAudio, data_dir: Path,
                                                recognizer) -> None:  # type: ignore[no-untyped-def]
    job = speak_and_say_over(room, vaudio, ANNOUNCEMENT, data_dir / "turn_on_the_living_room_lamp.wav")
    stats = room.pipeline.stats
    assert stats.stop_checks >= 1, "the user's voice over the reply was never even checked"
    assert stats.stops_while_speaking == 0, stats
    said = spoken(room, recognizer)
    assert "traffic" in said, f"the reply was cut: {said!r}"
    assert room.turns == [job.report], "speech during the reply was answered in half duplex"


@pytest.mark.slow
def test_our_own_voice_saying_stop_does_not_stop_us(room: Room, vaudio: VirtualAudio,
                                                    recognizer) -> None:  # type: ignore[no-untyped-def]
    job = speak_and_say_over(room, vaudio, STORY, None)
    stats = room.pipeline.stats
    assert stats.ignored_while_speaking > 0  # the echo reached the mic, and was kept from the endpointer
    assert stats.stops_while_speaking == 0 and stats.stop_checks == 0, stats  # the gate knew it for ours
    said = normalise(spoken(room, recognizer))
    assert {"stop", "quiet"} <= set(said), said  # it did say the stop words ...
    assert said[-1] == "story" and "end" in said[-5:], said  # ... and went on to the end
    assert room.turns == [job.report]


def tone_at(pcm: np.ndarray, rate: int, hz: float) -> np.ndarray:
    """Per 20 ms block: is ``hz`` the dominant frequency (and the block loud)?"""
    block = rate // 50
    out = []
    for i in range(0, len(pcm) - block, block):
        chunk = pcm[i : i + block].astype(np.float64)
        if np.abs(chunk).max() < 1000:
            out.append(False)
            continue
        spectrum = np.abs(np.fft.rfft(chunk * np.hanning(block)))
        out.append(abs(np.fft.rfftfreq(block, 1 / rate)[int(np.argmax(spectrum))] - hz) < 60)
    return np.array(out)


@pytest.mark.slow
@pytest.mark.parametrize("room", [{"listen": {"mode": "wake_phrase", "wake_phrases": ["hey mycroft"]},
                                   "earcons": {"listening": True, "volume": 0.6}}], indirect=True)
def test_listening_earcon_after_a_wake_phrase_alone(room: Room, vaudio: VirtualAudio, data_dir: Path,
                                                    recognizer) -> None:  # type: ignore[no-untyped-def]
    vaudio.play(data_dir / "hey_mycroft_test.wav").wait(30)
    deadline = time.monotonic() + 30
    while not room.turns and time.monotonic() < deadline:
        time.sleep(0.05)
    assert room.turns and room.turns[0].dropped.startswith("wake phrase only"), room.turns
    time.sleep(2.0)  # the earcon's echo has come back through the room by now
    # The tone's echo was kept from the endpointer (no turn from it), as the reply's would be.
    assert room.pipeline.stats.ignored_while_speaking > 0
    assert len(room.turns) == 1, room.turns
    pcm, rate = room.recording()
    low, high = (note for note, _ in TONES["listening"].notes)
    rising = tone_at(pcm, rate, low), tone_at(pcm, rate, high)
    assert rising[0].any() and rising[1].any(), "no listening earcon was played"
    assert np.flatnonzero(rising[0])[0] < np.flatnonzero(rising[1])[-1]  # the rising tone, in order
