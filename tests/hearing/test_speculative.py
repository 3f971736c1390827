"""Speculative recognition during the hangover, on real recordings and the real Whisper model."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.config.schema import VadConfig
from assistant.events import AudioFrame, Transcript, TranscriptSegment, Utterance
from assistant.hearing.end_of_turn import Verdict
from assistant.hearing.speculative import Speculation, Speculator
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
def remind_me_to(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """ "Remind me to" and "call my brother." (espeak-ng): the first half of a request, and the rest."""
    return read_wav(data_dir / "remind_me_to_espeak.wav")[0], read_wav(data_dir / "call_my_brother_espeak.wav")[0]


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


def test_the_turn_model_scores_a_finished_turn_above_a_cut_one(lamp: np.ndarray, data_dir: Path,
                                                              recognizer) -> None:
    model = TurnModel()
    finished = Speculator(recognizer, after_ms=150, turn_model=model, end_min_ms=200)
    wait_for_verdict(np.concatenate([silence(0.3), lamp, silence(1.0)]), finished)
    assert finished.current is not None and finished.current.turn_probability is not None
    assert finished.current.turn_probability >= 0.7
    assert finished.end_of_turn(200) is True
    assert finished.end_of_turn(90) is None  # never before end_min_ms: the hangover decides
    question, _ = read_wav(data_dir / "what_time_is_it_espeak.wav")
    cut_short = Speculator(recognizer, after_ms=150, turn_model=model, end_min_ms=200)
    wait_for_verdict(np.concatenate([silence(0.3), question[: int(0.6 * RATE)], silence(1.0)]), cut_short)
    assert cut_short.current is not None and cut_short.current.turn_probability is not None
    assert cut_short.current.turn_probability < 0.7


def whole_command(asked: list[str] | None = None):
    def is_request(text: str) -> bool:
        if asked is not None:
            asked.append(text)
        return " ".join(normalise(text)) == "turn on the living room lamp"
    return is_request


def test_a_whole_command_ends_the_turn_and_a_trailing_one_waits(lamp: np.ndarray, remind_me_to, recognizer) -> None:
    whole = Speculator(recognizer, after_ms=150, end_min_ms=150, is_request=whole_command(),
                       prepare=lambda text: " ".join(normalise(text)))
    wait_for_verdict(np.concatenate([silence(0.3), lamp, silence(1.0)]), whole)
    assert whole.end_of_turn(150) is True
    assert whole.current is not None and whole.current.prepared == "turn on the living room lamp"
    part = Speculator(recognizer, after_ms=150, end_min_ms=150, max_pause_ms=1200, is_request=whole_command())
    wait_for_verdict(np.concatenate([silence(0.3), remind_me_to[0], silence(1.0)]), part)
    assert part.current is not None and part.current.transcript is not None
    assert part.current.verdict is Verdict.MORE, part.current.transcript.text  # "Remind me to."
    assert part.end_of_turn(150) is False and part.end_of_turn(900) is False  # past the 500 ms hangover
    assert part.end_of_turn(1200) is True and part.stats.longer >= 1


def test_a_short_window_guess_judged_done_is_the_transcript(lamp: np.ndarray, recognizer) -> None:
    asked: list[str] = []
    speculator = Speculator(recognizer, after_ms=150, end_min_ms=150, is_request=whole_command(asked),
                            quick_window_s=10.0)
    wait_for_verdict(np.concatenate([silence(0.3), lamp, silence(1.0)]), speculator)
    guess = speculator.current
    assert guess is not None and guess.verdict is Verdict.DONE and guess.transcript is not None
    assert speculator.stats.quick == 1 and len(asked) == 1  # the full transcription never ran
    assert " ".join(normalise(guess.transcript.text)) == "turn on the living room lamp"
    assert speculator.end_of_turn(150) is True
    # a finished sentence that is no command is taken the same way
    sentence = Speculator(recognizer, after_ms=150, end_min_ms=150, is_request=lambda text: False,
                          quick_window_s=10.0)
    wait_for_verdict(np.concatenate([silence(0.3), lamp, silence(1.0)]), sentence)
    assert sentence.stats.quick == 1 and sentence.end_of_turn(150) is True
    # with commands to bias Whisper towards, a guess (written without that prompt) is taken only if it is one
    biased = Speculator(recognizer, after_ms=150, end_min_ms=150, is_request=lambda text: False,
                        quick_window_s=10.0, prompt=lambda: "living room lamp, kitchen light")
    wait_for_verdict(np.concatenate([silence(0.3), lamp, silence(1.0)]), biased)
    assert biased.stats.quick == 0 and biased.current is not None and biased.current.transcript is not None
    assert wer("turn on the living room lamp", biased.current.transcript.text) == 0.0  # the prompted full pass


def test_a_guess_that_trails_off_leaves_the_transcript_to_the_full_window(remind_me_to, recognizer) -> None:
    speculator = Speculator(recognizer, after_ms=150, end_min_ms=150, is_request=lambda text: False,
                            quick_window_s=10.0)
    wait_for_verdict(np.concatenate([silence(0.3), remind_me_to[0], silence(1.0)]), speculator)
    current = speculator.current
    assert current is not None and current.transcript is not None and current.verdict is Verdict.MORE
    assert speculator.stats.quick == 0 and speculator.end_of_turn(600) is False
    assert wer("remind me to", current.transcript.text) == 0.0


def endpoint(samples: np.ndarray, speculator: Speculator) -> list[Utterance]:
    """The endpointer as the daemon builds it: the speculation's end of turn decides with the hangover. Fed
    in real time, so the guess for each pause is ready when a real microphone would give the next frame."""
    endpointer = Endpointer(VadConfig(), end_of_turn=speculator.end_of_turn)
    found = []
    for frame in frames_of(samples):
        utterance = endpointer.feed(frame)
        speculator.observe(frame, endpointer)
        current = speculator.current
        if current is not None and not current.done.is_set():
            current.done.wait(10)  # the guess takes ~0.1 s of the pause; the test machine may be slower
        if utterance is not None:
            found.append(utterance)
    return found


def test_a_pause_after_an_unfinished_phrase_does_not_split_the_request(remind_me_to, recognizer) -> None:
    first, rest = remind_me_to
    paused = np.concatenate([silence(0.3), first, silence(0.8), rest, silence(2.0)])
    hangover_only = run(paused, Speculator(recognizer, after_ms=90))
    assert len(hangover_only) == 2  # the fixed 500 ms hangover splits it
    speculator = Speculator(recognizer, after_ms=90, end_min_ms=200, is_request=lambda text: False,
                            quick_window_s=10.0)
    [utterance] = endpoint(paused, speculator)
    assert speculator.stats.longer >= 1
    speculation = speculator.take(utterance)
    assert speculation is not None and speculation.transcript is not None
    assert wer("remind me to call my brother", speculation.transcript.text) <= 0.2


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
        utterances = run(np.concatenate([silence(0.5), lamp, silence(1.0)]), speculator)
        # the thread is busy with the first before the others come (fed at once, all of them could be heard
        # before the thread was first scheduled)
        deadline = time.monotonic() + 10
        while recognizer.calls == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        utterances += run(np.concatenate([lamp, silence(1.0), lamp, silence(1.0)]), speculator)
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


class TrailingOff(Busy):
    """A first guess that trails off ("Remind me to"); the full pass then waits until released."""

    def transcribe_quick(self, pcm: bytes, window_s: float = 10.0, *, keep_doubtful: bool = False) -> Transcript:
        return Transcript("Remind me to", (TranscriptSegment(0.0, 1.0, "Remind me to", avg_logprob=-0.1),),
                          "busy", 0.01)


class Doubtful(Busy):
    """A first guess (by default one Whisper is too unsure of to stand as the transcript: a short window on a
    short word); the full pass then waits until released."""

    def __init__(self, text: str, logprob: float = -1.1) -> None:
        super().__init__()
        self.text = text
        self.logprob = logprob

    def transcribe_quick(self, pcm: bytes, window_s: float = 10.0, *, keep_doubtful: bool = False) -> Transcript | None:
        if not keep_doubtful:
            return None
        return Transcript(self.text, (TranscriptSegment(0.0, 1.0, self.text, avg_logprob=self.logprob),), "busy",
                          0.01)


@contextlib.contextmanager
def paused_after(lamp: np.ndarray, recognizer: Busy, **options: Any) -> Iterator[tuple[Speculator, Speculation]]:
    """A speculator on ``recognizer`` that has seen the lamp command and 0.3 s of silence (a hangover of 5 s
    has not ended it), with the speculation it started; released and closed afterwards."""
    # after 200 ms: the recording has a 150 ms gap between two loud words, where a speculation would start and
    # then be dropped; these fakes' full pass waits for the release, so that one would hold the worker
    speculator = Speculator(recognizer, after_ms=200, end_min_ms=200, max_pause_ms=1200, quick_window_s=10.0,
                            **options)
    try:
        endpointer = Endpointer(VadConfig(hangover_ms=5000))
        for frame in frames_of(np.concatenate([silence(0.3), lamp, silence(0.3)])):
            endpointer.feed(frame)
            speculator.observe(frame, endpointer)
        assert speculator.current is not None
        yield speculator, speculator.current
    finally:
        recognizer.release.set()
        speculator.close()


def test_a_doubtful_guess_is_never_the_transcript_but_its_trailing_off_holds_the_turn(lamp: np.ndarray) -> None:
    for recognizer, held in ((Doubtful("Seven"), True), (Doubtful("Turn on the lamp."), False)):
        # not even a whole command is taken on doubt
        with paused_after(lamp, recognizer, is_request=lambda text: text.endswith("lamp.")) as (speculator, current):
            assert not current.done.wait(0.5)  # the full pass runs: no guess taken
            assert current.verdict is (Verdict.MORE if held else Verdict.UNSURE)
            assert speculator.stats.quick == 0
            assert speculator.end_of_turn(600) is (False if held else None)


def test_a_trailing_verdict_holds_the_turn_while_the_full_pass_runs(lamp: np.ndarray) -> None:
    """MORE from the first guess keeps the turn open past the hangover (up to max_pause_ms) while the full
    pass that may revise it runs; a pass still running with no verdict yet leaves it to the hangover."""
    for recognizer, expected in ((TrailingOff(), False), (Busy(), None)):
        with paused_after(lamp, recognizer) as (speculator, current):
            assert not current.done.wait(0.5)  # the full pass is still running
            assert speculator.end_of_turn(600) is expected
            assert speculator.end_of_turn(1200) is (True if expected is False else None)
            recognizer.release.set()
            assert current.done.wait(10) and current.verdict is Verdict.UNSURE  # "busy": no punctuation
            assert speculator.end_of_turn(600) is None


def test_a_language_model_that_fails_leaves_the_verdict_to_the_words(lamp: np.ndarray) -> None:
    calls: list[str] = []

    def broken(text: str) -> float:
        calls.append(text)
        raise RuntimeError("llama.cpp went away")

    recognizer = Doubtful("the pencils have", logprob=-0.1)
    with paused_after(lamp, recognizer, is_request=lambda text: False, sentence_end=broken) as (speculator, current):
        assert current.done.wait(10)  # the guess is taken: no full pass
        assert calls == ["the pencils have"] and current.error is None
        assert current.verdict is Verdict.UNSURE and speculator.end_of_turn(600) is None  # as without a model
        assert speculator.stats.quick == 1 and recognizer.calls == 0  # the guess is the transcript


def test_a_phrase_whose_end_the_language_model_finds_unlikely_waits_longer_than_the_hangover(lamp: np.ndarray) -> None:
    recognizer = Doubtful("the horizon", logprob=-0.1)
    with paused_after(lamp, recognizer, is_request=lambda text: False, maybe_pause_ms=900,
                      sentence_end=lambda text: -2.0) as (speculator, current):
        assert current.done.wait(10) and current.verdict is Verdict.MAYBE
        assert speculator.end_of_turn(600) is False  # past the 500 ms hangover: held
        assert speculator.end_of_turn(900) is True


def test_a_phrase_the_language_model_finds_unfinished_is_held(lamp: np.ndarray) -> None:
    recognizer = Doubtful("the pencils have", logprob=-0.1)  # sure of it, but no sentence mark: unsure
    with paused_after(lamp, recognizer, is_request=lambda text: False,
                      sentence_end=lambda text: -4.0) as (speculator, current):
        assert not current.done.wait(0.5)  # the full pass runs: the guess trails off
        assert current.verdict is Verdict.MORE and speculator.end_of_turn(600) is False
