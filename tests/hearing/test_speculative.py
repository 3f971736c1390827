"""Speculative recognition during the hangover, on real recordings and the real Whisper model."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.config.schema import VadConfig
from assistant.events import AudioFrame, Transcript, TranscriptSegment, Utterance
from assistant.hearing.speculative import Speculator
from assistant.hearing.turn_model import TurnModel
from assistant.hearing.vad import Endpointer
from support.textnorm import normalise, wer
from support.wav import read_wav

RATE = 16000


def frames_of(samples: np.ndarray) -> Iterator[AudioFrame]:
    pcm = samples.astype("<i2").tobytes()
    size = RATE * 30 // 1000 * 2
    for i in range(0, len(pcm) - size + 1, size):
        yield AudioFrame(pcm[i : i + size], i / (2 * RATE), i / (2 * RATE))


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def run(samples: np.ndarray, speculator: Speculator) -> list[Utterance]:
    endpointer = Endpointer(VadConfig())
    found = []
    for frame in frames_of(samples):
        utterance = endpointer.feed(frame)
        speculator.observe(frame, endpointer)
        if utterance is not None:
            found.append(utterance)
    return found


@pytest.fixture
def lamp(data_dir: Path) -> np.ndarray:
    pcm, rate = read_wav(data_dir / "turn_on_the_living_room_lamp.wav")
    assert rate == RATE
    return pcm


def test_transcript_is_ready_from_the_speculation(lamp: np.ndarray, recognizer) -> None:
    speculator = Speculator(recognizer, after_ms=180)
    [utterance] = run(np.concatenate([silence(0.3), lamp, silence(1.0)]), speculator)
    speculation = speculator.take(utterance)
    assert speculation is not None and speculation.transcript is not None
    assert len(speculation.pcm) < len(utterance.pcm) and utterance.pcm.startswith(speculation.pcm)
    assert wer("turn on the living room lamp", speculation.transcript.text) == 0.0
    # same words as recognising the whole utterance afterwards, the sequential way
    assert normalise(speculation.transcript.text) == normalise(recognizer.transcribe(utterance.pcm).text)
    assert speculator.stats.used == 1 and speculator.take(utterance) is None  # used once only


def test_speech_resuming_after_a_pause_discards_the_guess(lamp: np.ndarray, recognizer) -> None:
    cut = int(0.84 * RATE)  # "turn on the" | pause | "living room lamp"
    paused = np.concatenate([silence(0.3), lamp[:cut], silence(0.35), lamp[cut:], silence(1.0)])
    speculator = Speculator(recognizer, after_ms=180)
    [utterance] = run(paused, speculator)
    assert speculator.stats.started == 2 and speculator.stats.discarded == 1
    speculation = speculator.take(utterance)
    assert speculation is not None and speculation.transcript is not None
    assert wer("turn on the living room lamp", speculation.transcript.text) <= 0.2


def test_a_different_utterance_gets_no_speculation(lamp: np.ndarray, data_dir: Path,
                                                   recognizer) -> None:
    speculator = Speculator(recognizer, after_ms=180)
    run(np.concatenate([silence(0.3), lamp, silence(1.0)]), speculator)
    other, _ = read_wav(data_dir / "whatstheweatherlike.wav")
    [utterance] = run(np.concatenate([silence(0.3), other, silence(1.0)]), Speculator(recognizer))
    assert speculator.take(utterance) is None and speculator.stats.missed == 1


def wait_for_verdict(samples: np.ndarray, speculator: Speculator) -> None:
    """Feed a clip that ends in silence (short of the hangover), then let the last speculation finish."""
    endpointer = Endpointer(VadConfig(hangover_ms=5000))
    for frame in frames_of(samples):
        assert endpointer.feed(frame) is None
        speculator.observe(frame, endpointer)
    assert endpointer.in_speech and speculator.current is not None and speculator.current.done.wait(60)


def test_adaptive_end_of_turn_with_the_turn_model(lamp: np.ndarray, data_dir: Path,
                                                  recognizer) -> None:
    model = TurnModel()
    finished = Speculator(recognizer, after_ms=150, turn_model=model, adaptive_min_ms=200)
    wait_for_verdict(np.concatenate([silence(0.3), lamp, silence(1.0)]), finished)
    assert finished.should_end_early(200)
    assert not finished.should_end_early(90)  # never before adaptive_min_ms
    question, _ = read_wav(data_dir / "what_time_is_it_espeak.wav")
    cut_short = Speculator(recognizer, after_ms=150, turn_model=model, adaptive_min_ms=200)
    wait_for_verdict(np.concatenate([silence(0.3), question[: int(0.6 * RATE)], silence(1.0)]), cut_short)
    assert cut_short.current is not None and cut_short.current.turn_probability is not None
    assert cut_short.current.turn_probability < 0.7
    assert not cut_short.should_end_early(200)


def test_adaptive_end_of_turn_with_a_complete_command(lamp: np.ndarray, recognizer) -> None:
    commands = {"turn on the living room lamp"}

    def complete(text: str) -> bool:
        return " ".join(normalise(text)) in commands

    whole = Speculator(recognizer, after_ms=150, adaptive_min_ms=150, complete=complete,
                       prepare=lambda text: " ".join(normalise(text)))
    wait_for_verdict(np.concatenate([silence(0.3), lamp, silence(1.0)]), whole)
    assert whole.should_end_early(150)
    assert whole.current is not None and whole.current.prepared == "turn on the living room lamp"
    part = Speculator(recognizer, after_ms=150, adaptive_min_ms=150, complete=complete)
    wait_for_verdict(np.concatenate([silence(0.3), lamp[: int(0.84 * RATE)], silence(1.0)]), part)
    assert part.current is not None and part.current.transcript is not None
    assert not part.should_end_early(150)


def test_adaptive_end_takes_a_short_window_guess_that_is_a_whole_command(lamp: np.ndarray, recognizer) -> None:
    commands = {"turn on the living room lamp"}
    asked: list[str] = []

    def complete(text: str) -> bool:
        asked.append(text)
        return " ".join(normalise(text)) in commands

    speculator = Speculator(recognizer, after_ms=150, adaptive_min_ms=150, complete=complete,
                            quick_window_s=10.0)
    wait_for_verdict(np.concatenate([silence(0.3), lamp, silence(1.0)]), speculator)
    guess = speculator.current
    assert guess is not None and guess.complete and guess.transcript is not None
    assert speculator.stats.quick == 1 and len(asked) == 1  # the full transcription never ran
    assert " ".join(normalise(guess.transcript.text)) == "turn on the living room lamp"
    assert speculator.should_end_early(150)


def test_a_guess_that_is_no_command_leaves_the_turn_to_the_full_window(lamp: np.ndarray, recognizer) -> None:
    speculator = Speculator(recognizer, after_ms=150, adaptive_min_ms=150, complete=lambda text: False,
                            quick_window_s=10.0)
    wait_for_verdict(np.concatenate([silence(0.3), lamp, silence(1.0)]), speculator)
    current = speculator.current
    assert current is not None and current.transcript is not None and not current.complete
    assert speculator.stats.quick == 0 and not speculator.should_end_early(150)
    assert wer("turn on the living room lamp", current.transcript.text) == 0.0


class Busy:
    """A recognizer whose first transcription waits until released: the speculator's thread stays busy."""

    model_name = "busy"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        self.calls += 1
        assert self.release.wait(10)
        return Transcript("busy", (TranscriptSegment(0.0, 1.0, "busy"),), "busy", 0.01)


def test_a_speculation_that_never_started_does_not_hold_up_its_turn(lamp: np.ndarray) -> None:
    """Audio faster than real time (simulate, a file source): three utterances end while the speculator is
    still busy with the first. The second's job is replaced by the third's before it can start: its turn
    must get None at once and recognise the utterance itself, not wait out take()'s 30 s."""
    recognizer = Busy()
    speculator = Speculator(recognizer, after_ms=90)
    try:
        utterances = run(np.concatenate([silence(0.5), lamp, silence(1.0), lamp, silence(1.0), lamp,
                                         silence(1.0)]), speculator)
        assert len(utterances) == 3
        started = time.monotonic()
        assert speculator.take(utterances[1], timeout=20) is None
        assert time.monotonic() - started < 1.0
        recognizer.release.set()
        last = speculator.take(utterances[2], timeout=20)  # still waiting when the thread came free: it ran
        assert last is not None and last.transcript is not None and last.transcript.text == "busy"
    finally:
        recognizer.release.set()
        speculator.close()


class Looping:
    """A bounded recognizer whose pass looks like Whisper's loop (None), as on 0.48 s of a mumbled start."""

    model_name = "looping"

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        raise AssertionError("a speculative pass must be the bounded one")

    def transcribe_bounded(self, pcm: bytes, *, initial_prompt: str | None = None) -> Transcript | None:
        return None


def test_a_speculative_pass_that_loops_leaves_the_turn_to_transcribe_itself(lamp: np.ndarray) -> None:
    speculator = Speculator(Looping(), after_ms=90)
    try:
        [utterance] = run(np.concatenate([silence(0.5), lamp, silence(1.0)]), speculator)
        assert speculator.take(utterance, timeout=20) is None  # the pipeline then transcribes the utterance
        assert speculator.stats.loops == 1 and speculator.stats.missed == 1
    finally:
        speculator.close()
