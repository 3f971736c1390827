"""The echo gate in a simulated room (no sound server): our real espeak-ng reply comes back as echo and real
recordings talk over it. The gate must never take its own voice for a user, and must find the user."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audio.echo_gate import EchoGate
from assistant.audio.resample import resample
from assistant.bench.bargein import REPLY, gate_decision, read_16k, room_echo
from assistant.config import TtsConfig
from assistant.events import SAMPLE_RATE
from assistant.tts.pyttsx3_engine import Pyttsx3Synthesizer

USER_AT = SAMPLE_RATE  # the user starts talking 1 s into the reply


@pytest.fixture(scope="module")
def reply() -> tuple[bytes, int]:
    synthesizer = Pyttsx3Synthesizer(TtsConfig())
    try:
        return synthesizer.synthesize(REPLY)
    finally:
        synthesizer.close()


def mic_for(reply: tuple[bytes, int], gain: float, delay_ms: int) -> np.ndarray:
    played = np.frombuffer(resample(reply[0], reply[1], SAMPLE_RATE), dtype="<i2").astype(np.float64)
    echo = room_echo(played, delay_ms, gain, rt60_ms=0)
    mic = np.random.default_rng(0).normal(0, 30, len(echo) + SAMPLE_RATE)
    mic[: len(echo)] += echo
    return mic


@pytest.mark.parametrize(("gain", "delay_ms"), [(0.5, 90), (1.0, 90), (1.0, 400)])
def test_own_voice_never_triggers(reply: tuple[bytes, int], gain: float, delay_ms: int) -> None:
    assert gate_decision(EchoGate(), *reply, mic_for(reply, gain, delay_ms)) is None


@pytest.mark.parametrize("name", ["kws_computer_whatstheweatherlike.wav", "turn_on_the_living_room_lamp.wav"])
def test_a_user_talking_over_the_echo_is_found(reply: tuple[bytes, int], data_dir: Path, name: str) -> None:
    mic = mic_for(reply, 0.5, 90)
    user = read_16k(str(data_dir / name))[: len(mic) - USER_AT]
    mic[USER_AT : USER_AT + len(user)] += user
    gate = EchoGate()
    decided = gate_decision(gate, *reply, mic)
    assert decided is not None and 1.0 < decided < 1.0 + len(user) / SAMPLE_RATE  # while they talk
    # what the gate hands the endpointer starts before its decision: the onset of the user's words
    assert gate.onset is not None and 1.0 <= gate.onset.start_s < decided
