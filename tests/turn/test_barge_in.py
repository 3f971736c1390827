"""What became of a barge-in: no words after the cut teach the echo gate that it heard our own voice."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.echo_gate import EchoGate
from assistant.audio.sources import Capture, WavSource
from assistant.config.hearing import ListenConfig
from assistant.config.schema import VadConfig
from assistant.events import SAMPLE_RATE, AudioFrame, TurnReport, Utterance
from assistant.hearing.listen import Listener
from assistant.hearing.vad import Endpointer
from assistant.speech.streaming import Speaker
from assistant.turn.barge_in import NO_SPEECH_S, BargeInWatch, echoes_reply
from assistant.turn.items import TurnPolicy
from assistant.turn.pipeline import Pipeline
from assistant.turn.stages import Stages, TurnTaking
from support.fakes import Answers, Heard, RoomSink, Voice
from support.wav import read_wav, write_wav


class GateThatTriggered:
    """Stands in for the echo gate (tests/audio/test_echo_gate_room.py covers what false_alarm learns)."""

    leak_db = -20.0

    def __init__(self) -> None:
        self.false_alarms = 0

    def false_alarm(self) -> int:
        self.false_alarms += 1
        return 5


def utterance() -> Utterance:
    return Utterance(pcm=b"\0\0" * 1600, start_s=0.0, end_s=0.1, voiced_s=0.1, ended_at=0.0, speech_end_at=0.0)


@pytest.fixture
def endpointer() -> Endpointer:
    return Endpointer(VadConfig())


def test_no_speech_after_the_cut_was_our_voice(endpointer: Endpointer, caplog: pytest.LogCaptureFixture) -> None:
    gate, watch = GateThatTriggered(), BargeInWatch()
    watch.started(gate, endpointer, now=100.0)  # type: ignore[arg-type]
    watch.observe(endpointer, None, now=100.0 + NO_SPEECH_S - 0.1)
    assert gate.false_alarms == 0  # not yet: the user may only be drawing breath
    with caplog.at_level(logging.INFO):
        watch.observe(endpointer, None, now=100.0 + NO_SPEECH_S + 0.1)
    assert gate.false_alarms == 1 and "barge-in was our own voice" in caplog.text
    watch.observe(endpointer, None, now=200.0)
    assert gate.false_alarms == 1  # once per barge-in


def test_an_utterance_too_short_for_speech_was_our_voice(endpointer: Endpointer) -> None:
    gate, watch = GateThatTriggered(), BargeInWatch()
    watch.started(gate, endpointer, now=100.0)  # type: ignore[arg-type]
    endpointer.discarded += 1  # what the endpointer does with a click or a cough
    watch.observe(endpointer, None, now=100.1)
    assert gate.false_alarms == 1


@pytest.mark.parametrize(("words", "false_alarms"), [(True, 0), (False, 1)])
def test_the_worker_judges_the_utterance_that_followed(endpointer: Endpointer, words: bool,
                                                       false_alarms: int) -> None:
    gate, watch = GateThatTriggered(), BargeInWatch()
    watch.started(gate, endpointer, now=100.0)  # type: ignore[arg-type]
    theirs = utterance()
    watch.observe(endpointer, theirs, now=100.5)
    watch.observe(endpointer, None, now=100.0 + NO_SPEECH_S + 1)  # the deadline no longer applies
    assert gate.false_alarms == 0
    watch.judged(utterance(), words=False)  # another utterance (a later turn): not the barge-in's
    assert gate.false_alarms == 0
    watch.judged(theirs, words=words)
    assert gate.false_alarms == false_alarms
    watch.judged(theirs, words=False)  # judged once
    assert gate.false_alarms == false_alarms


def test_a_user_still_talking_past_the_deadline_is_waited_for(endpointer: Endpointer, data_dir: Path) -> None:
    """A long utterance is not ended by the endpointer within NO_SPEECH_S: its start is what counts."""
    pcm, rate = read_wav(data_dir / "turn_on_the_living_room_lamp.wav")
    assert rate == SAMPLE_RATE
    silence = np.zeros(SAMPLE_RATE * 2, dtype="<i2")
    audio = np.concatenate([pcm, silence]).astype("<i2")
    gate, watch = GateThatTriggered(), BargeInWatch()
    watch.started(gate, endpointer, now=100.0)  # type: ignore[arg-type]
    frame_n = SAMPLE_RATE * 30 // 1000
    theirs, arrived = None, 0.0
    for i in range(len(audio) // frame_n):
        start_s = i * frame_n / SAMPLE_RATE
        frame = AudioFrame(audio[i * frame_n : (i + 1) * frame_n].tobytes(), start_s, 100.0 + start_s)
        heard = endpointer.feed(frame)
        if heard is not None and theirs is None:
            theirs, arrived = heard, frame.captured_at - 100.0
        watch.observe(endpointer, heard, now=frame.captured_at)
    assert theirs is not None and arrived > NO_SPEECH_S  # the endpointer ended it after the deadline
    assert gate.false_alarms == 0
    watch.judged(theirs, words=True)
    assert gate.false_alarms == 0


REPLY = ("The kitchen light is on. The front door is locked, and the music is playing in the living room "
         "until ten.")


@pytest.mark.parametrize(("heard", "ours"), [
    ("the front door is locked", True),  # our words as they were
    ("The front door is locked and the music", True),  # across a sentence end, punctuation aside
    ("front door's locked and the music is", True),  # Whisper mishearing our echo a little (1 of 6)
    ("is the front door locked", False),  # a user asking about what we said: 2 of 5 differ
    ("turn on the living room lamp", False),  # "the living room" is ours, the request is not
    ("stop it", False),  # too short to tell: never taken for ours
    ("music is playing", True),
])
def test_what_counts_as_our_own_words(heard: str, ours: bool) -> None:
    assert echoes_reply(heard, REPLY) is ours


def test_our_own_words_after_a_barge_in_are_learnt_and_not_answered(endpointer: Endpointer) -> None:
    watch, gate = BargeInWatch(), GateThatTriggered()
    watch.started(gate, endpointer, now=0.0, playing="The front door is locked.")  # type: ignore[arg-type]
    ours, theirs = utterance(), utterance()
    watch.observe(endpointer, ours, now=0.1)
    assert not watch.our_words(theirs, "the front door is locked")  # not the barge-in's utterance
    assert not watch.our_words(ours, "turn on the lamp") and gate.false_alarms == 0
    assert watch.our_words(ours, "the front door is locked") and gate.false_alarms == 1
    watch.judged(ours, words=True)  # decided already: nothing more is learnt
    assert gate.false_alarms == 1


@pytest.mark.parametrize(("heard", "learnt"), [("", "no words in what followed"),
                                               ("Turn on the living room lamp.", None),
                                               ("here is the news", "it said our own words")])
def test_the_pipeline_tells_the_gate_what_became_of_its_barge_in(tmp_path: Path, data_dir: Path,
                                                                 caplog: pytest.LogCaptureFixture, heard: str,
                                                                 learnt: str | None) -> None:
    """Through the pipeline: a real voice in the mic while we speak cuts the reply; the recogniser (a stand-in
    here) finds no words in what followed, the user's words, or ours: only the first and last were our own
    voice after all, and ours are not answered."""
    pcm, rate = read_wav(data_dir / "turn_on_the_living_room_lamp.wav")
    mic = write_wav(tmp_path / "mic.wav", np.concatenate([np.zeros(rate // 2), pcm, np.zeros(rate * 2)]),
                    rate)  # 0.5 s, the words, 2 s
    sink = RoomSink()
    gate = EchoGate()
    stages = Stages(endpointer=Endpointer(VadConfig()), recognizer=Heard(heard), router=Answers(),
                    speaker=Speaker(Voice(), sink), listener=Listener(ListenConfig()), echo_tail_s=30.0,
                    turn_taking=TurnTaking(TurnPolicy.BARGE_IN, gate))
    pipeline = Pipeline(Capture(WavSource(mic, realtime=True)), stages)
    sink.pipeline = pipeline
    reports: list[TurnReport] = []
    pipeline.on_turn = reports.append
    pipeline.submit_text("Here is the news.", route=False)  # gated for 30 s: only a barge-in opens the mic
    with caplog.at_level(logging.INFO):
        pipeline.run()
    assert "barge-in: user speech over the reply" in caplog.text
    turns = [r for r in reports if r.speech_end > 0]
    assert len(turns) == 1 and turns[0].transcript == heard  # their utterance went to the recogniser
    assert ("barge-in was our own voice" in caplog.text) is (learnt is not None)
    if learnt is not None:
        assert f"barge-in was our own voice ({learnt}" in caplog.text
    assert (turns[0].dropped == "our own words: the barge-in heard our reply, not a user") is \
        (learnt == "it said our own words")
