"""wake_word mode end to end on real recordings (tests/data/LICENSES.md) with the real detector and Whisper:
the request said in one breath with the wake word or after a pause is answered, without the wake word's
own audio; a wake word alone, or speech without one, gives no turn and costs no recognition at all."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.app.build import Kept, build_pipeline
from assistant.audio.sinks import NullSink
from assistant.audio.sources import WavSource
from assistant.config.schema import Config
from assistant.events import TurnReport
from assistant.hearing.whisper import Recognizer
from assistant.speech.text import split_sentences
from support.textnorm import normalise
from support.wav import read_wav, write_wav


class Counted:
    """The real recognizer, counting how often any of its transcriptions ran."""

    def __init__(self, inner: Recognizer) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if not name.startswith("transcribe"):
            return method

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return method(*args, **kwargs)

        return counted

    def transcribe(self, pcm: bytes, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.transcribe(pcm, **kwargs)


class PlayedSink(NullSink):
    def __init__(self) -> None:
        super().__init__()
        self.played: list[bytes] = []

    def play(self, pcm: bytes, rate: int, cancelled: Any = None) -> float | None:
        self.played.append(pcm)
        return time.monotonic()


def gap(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16000), dtype=np.int16)


def run(tmp_path: Path, recognizer: Recognizer, parts: list[np.ndarray], *, models: list[str] | None = None,
        extra: dict[str, Any] | None = None) -> tuple[list[TurnReport], Counted, PlayedSink, Any]:
    wav = write_wav(tmp_path / "room.wav", np.concatenate([gap(1.0), *parts, gap(1.5)]))
    config = Config.model_validate({
        "tts": {"engine": "null"}, "llm": {"backend": "none"},
        "listen": {"mode": "wake_word", "wake_only_window_s": 3.0,
                   "wake_word": {"models": models or ["hey_mycroft"]}},
        **(extra or {})})
    counted, sink = Counted(recognizer), PlayedSink()
    pipeline = build_pipeline(config, WavSource(wav, realtime=False), sink, kept=Kept(recognizer=counted))
    pipeline.run()
    return pipeline.stats.last_turns, counted, sink, pipeline


@pytest.fixture(scope="module")
def words(data_dir: Path) -> dict[str, np.ndarray]:
    names = ["hey_mycroft_test", "alexa_test", "whatstheweatherlike", "turn_on_the_living_room_lamp",
             "negative_reference"]
    return {name: read_wav(data_dir / f"{name}.wav")[0] for name in names}


def test_wake_word_then_the_request_in_one_breath(tmp_path: Path, recognizer: Recognizer,
                                                  words: dict[str, np.ndarray]) -> None:
    turns, _, sink, pipeline = run(tmp_path, recognizer, [words["hey_mycroft_test"], words["whatstheweatherlike"]],
                                   extra={"earcons": {"listening": True}})
    assert len(turns) == 1, [t.as_dict() for t in turns]
    turn = turns[0]
    assert normalise(turn.transcript) == ["what", "is", "the", "weather", "like"]  # not a trace of "mycroft"
    assert turn.wake_word == "hey_mycroft" and turn.as_dict()["wake_word"] == "hey_mycroft"
    assert turn.intent == "live_data.weather" and turn.dropped is None
    earcons = pipeline.stages.earcons
    assert earcons.pcm("listening") not in sink.played  # no tone over a request that followed at once


def test_wake_word_then_a_pause_then_the_request(tmp_path: Path, recognizer: Recognizer,
                                                 words: dict[str, np.ndarray]) -> None:
    turns, _, sink, pipeline = run(tmp_path, recognizer, [words["hey_mycroft_test"], gap(1.5),
                                                          words["turn_on_the_living_room_lamp"]],
                                   extra={"earcons": {"listening": True}})
    assert [(normalise(t.transcript), t.wake_word) for t in turns] == [
        (["turn", "on", "the", "living", "room", "lamp"], "hey_mycroft")]
    assert sink.played.count(pipeline.stages.earcons.pcm("listening")) == 1  # "go ahead", once


def test_wake_word_alone_then_silence_gives_no_turn(tmp_path: Path, recognizer: Recognizer,
                                                    words: dict[str, np.ndarray]) -> None:
    # the request comes after the 3 s window has closed: it was not said to us
    turns, counted, _, _ = run(tmp_path, recognizer, [words["hey_mycroft_test"], gap(4.0),
                                                      words["whatstheweatherlike"]])
    assert turns == [] and counted.calls == 0


def test_speech_without_the_wake_word_is_never_transcribed(tmp_path: Path, recognizer: Recognizer,
                                                           words: dict[str, np.ndarray]) -> None:
    turns, counted, _, _ = run(tmp_path, recognizer, [words["whatstheweatherlike"], gap(1.0),
                                                      words["negative_reference"], gap(1.0), words["alexa_test"]])
    assert turns == [] and counted.calls == 0  # "alexa" is not a configured model here


def test_two_models_each_wake_with_their_own_name_and_persona(tmp_path: Path, recognizer: Recognizer,
                                                              words: dict[str, np.ndarray]) -> None:
    turns, _, _, pipeline = run(
        tmp_path, recognizer,
        [words["alexa_test"], gap(0.8), words["whatstheweatherlike"], gap(2.5),
         words["hey_mycroft_test"], words["turn_on_the_living_room_lamp"]],
        models=["hey_mycroft", "alexa"],
        extra={"listen": {"mode": "wake_word", "wake_only_window_s": 3.0, "wake_word": {
            "models": ["hey_mycroft", "alexa"], "personas": {"alexa": {"persona": "Alexa", "conversation": "a"}}}}})
    assert [(t.wake_word, normalise(t.transcript)[-1]) for t in turns] == [("alexa", "like"), ("hey_mycroft", "lamp")]
    wake = pipeline.stages.wake
    assert wake is not None and wake.detections == 2


class Loudspeaker(NullSink):
    """Plays in real time and is heard in the room (so the mic is gated while it plays); notes how long each
    piece really played."""

    def __init__(self) -> None:
        super().__init__(realtime=True)
        self.audible = True
        self.played_s: list[float] = []

    def play(self, pcm: bytes, rate: int, cancelled: Any = None) -> float | None:
        began = time.monotonic()
        first = super().play(pcm, rate, cancelled)
        self.played_s.append(time.monotonic() - began)
        return first


class LongVoice:
    """Every sentence takes 4 s to say."""

    name = "long"

    def synthesize(self, text: str) -> tuple[bytes, int]:
        return bytes(4 * 32000), 16000

    def voices(self) -> list[dict[str, str]]:
        return []


def wake_word_over_a_reply(tmp_path: Path, recognizer: Recognizer, words: dict[str, np.ndarray],
                           extra: dict[str, Any] | None = None) -> tuple[list[TurnReport], Loudspeaker, Any]:
    """The first request's reply (4 s sentences) is still playing when the wake word comes 1.6 s into it;
    a second request follows the wake word after 1 s."""
    wav = write_wav(tmp_path / "room.wav", np.concatenate([
        gap(1.0), words["hey_mycroft_test"], words["whatstheweatherlike"], gap(1.6), words["hey_mycroft_test"],
        gap(1.0), words["turn_on_the_living_room_lamp"], gap(2.0)]))
    config = Config.model_validate({
        "llm": {"backend": "none"}, "turn": {"echo_tail_ms": 100},
        "listen": {"mode": "wake_word", "wake_only_window_s": 3.0, "wake_word": {"models": ["hey_mycroft"]}},
        **(extra or {})})
    sink = Loudspeaker()
    pipeline = build_pipeline(config, WavSource(wav, realtime=True), sink,
                              kept=Kept(recognizer=recognizer, synthesizer=LongVoice()))
    pipeline.run()
    return pipeline.stats.last_turns, sink, pipeline


def test_the_wake_word_over_a_reply_cuts_it_and_is_listened_to(tmp_path: Path, recognizer: Recognizer,
                                                                 words: dict[str, np.ndarray]) -> None:
    turns, sink, _ = wake_word_over_a_reply(tmp_path, recognizer, words)
    assert [(t.wake_word, normalise(t.transcript)[-1]) for t in turns] == [
        ("hey_mycroft", "like"), ("hey_mycroft", "lamp")], [t.as_dict() for t in turns]
    # the first reply: its first sentence cut by the wake word (not played out: 4 s), the rest dropped; then the
    # second reply whole
    assert sink.played_s[0] < 3.5 and all(s > 3.9 for s in sink.played_s[1:])
    assert len(sink.played_s) == 1 + len(split_sentences(turns[1].reply))


def test_our_own_reply_saying_the_wake_word_neither_wakes_nor_cuts_us(tmp_path: Path, recognizer: Recognizer,
                                                                      words: dict[str, np.ndarray]) -> None:
    # the same room, but this time the reply itself says "Hey Mycroft": the wake word the mic hears during it
    # is taken for our own voice, so the reply plays whole and the request after it is not woken
    turns, sink, pipeline = wake_word_over_a_reply(tmp_path, recognizer, words, {"commands": {"commands": [
        {"name": "weather", "templates": ["what's the weather like"],
         "action": {"type": "say", "reply": "Say hey Mycroft when you need me."}}]}})
    assert [(t.wake_word, t.intent) for t in turns] == [("hey_mycroft", "weather")], [t.as_dict() for t in turns]
    assert sink.played_s[0] > 3.9  # not cut
    wake = pipeline.stages.wake
    assert wake is not None and wake.detections == 1  # the second one was ours


def test_a_candidate_below_the_cut_off_wakes_only_if_whisper_hears_the_phrase(
        tmp_path: Path, recognizer: Recognizer, words: dict[str, np.ndarray]) -> None:
    import pymicro_wakeword

    # nothing reaches a cut-off of 0.9999: every detection is a candidate for Whisper to confirm
    parts = [words["hey_mycroft_test"], gap(0.8), words["whatstheweatherlike"]]
    wake_word = {"models": ["hey_mycroft"], "threshold": 0.9999, "confirm_from": 0.5}
    turns, _, _, pipeline = run(tmp_path, recognizer, parts, extra={"listen": {
        "mode": "wake_word", "wake_only_window_s": 3.0, "wake_word": wake_word}})
    assert [(t.wake_word, normalise(t.transcript)[-1]) for t in turns] == [("hey_mycroft", "like")]
    assert pipeline.stages.wake.unconfirmed == 0
    # the same model under another name: it fires, but Whisper hears "Hey Mycroft", not "Okay Computer"
    models = Path(pymicro_wakeword.__file__).parent / "models"
    (tmp_path / "okay_computer.tflite").write_bytes((models / "hey_mycroft.tflite").read_bytes())
    (tmp_path / "okay_computer.json").write_text((models / "hey_mycroft.json").read_text().replace(
        '"hey_mycroft.tflite"', '"okay_computer.tflite"').replace('"Hey Mycroft"', '"Okay Computer"'))
    wake_word["models"] = [str(tmp_path / "okay_computer.json")]
    turns, counted, _, pipeline = run(tmp_path, recognizer, parts, extra={"listen": {
        "mode": "wake_word", "wake_only_window_s": 3.0, "wake_word": wake_word}})
    assert pipeline.stages.wake.detections == 1 and pipeline.stages.wake.unconfirmed == 1
    assert [t.dropped for t in turns] in ([], ["no wake word"])  # the request, if it was heard, is not answered
    # and without confirm_from a candidate does not wake at all
    wake_word["confirm_from"] = None
    turns, counted, _, pipeline = run(tmp_path, recognizer, parts, extra={"listen": {
        "mode": "wake_word", "wake_only_window_s": 3.0, "wake_word": wake_word}})
    assert turns == [] and counted.calls == 0 and pipeline.stages.wake.detections == 0
