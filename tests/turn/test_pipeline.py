"""Where the pipeline plays its earcons, and that each plays behind the half-duplex gate (a frame captured
while one plays is kept from the endpointer), on a sink that records what it is given. No audio devices."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from assistant.app.build import build_turn_taking
from assistant.audio.sources import Capture, WavSource
from assistant.config.hearing import ListenConfig
from assistant.config.schema import VadConfig, validate
from assistant.config.speech import EarconsConfig
from assistant.events import AudioFrame, TurnReport, Utterance
from assistant.hearing.listen import Listener
from assistant.hearing.vad import Endpointer
from assistant.speech.earcons import Earcons
from assistant.speech.streaming import Speaker
from assistant.turn.items import TurnPolicy
from assistant.turn.pipeline import Pipeline
from assistant.turn.stages import Stages, TurnTaking
from support.fakes import Answers, Heard, RoomSink, Voice
from support.wav import write_silence

ECHO_TAIL_S = 30.0  # long, so the checks below never race the clock




def stages(heard: str, listen: ListenConfig, earcons: EarconsConfig, sink: RoomSink,
           turn_taking: TurnTaking | None = None, echo_tail_s: float = ECHO_TAIL_S) -> Stages:
    return Stages(endpointer=Endpointer(VadConfig()), recognizer=Heard(heard), router=Answers(),
                  speaker=Speaker(Voice(), sink), listener=Listener(listen), turn_taking=turn_taking or TurnTaking(),
                  earcons=Earcons(earcons, sink), echo_tail_s=echo_tail_s)


def make(tmp_path: Path, heard: str, listen: ListenConfig, earcons: EarconsConfig) -> tuple[Pipeline, RoomSink]:
    sink = RoomSink()
    pipeline = Pipeline(Capture(WavSource(write_silence(tmp_path / "silence.wav", 0.3))),
                        stages(heard, listen, earcons, sink))
    sink.pipeline = pipeline
    return pipeline, sink


def utterance() -> Utterance:
    now = time.monotonic()
    return Utterance(pcm=bytes(32000), start_s=0.0, end_s=1.0, voiced_s=1.0, ended_at=now, speech_end_at=now)


def what_played(pipeline: Pipeline, sink: RoomSink) -> list[str]:
    """The sounds in order, by name; every one of them played while the mic was gated."""
    earcons = pipeline.stages.earcons
    assert earcons is not None
    names = {earcons.pcm(kind): kind for kind in ("listening", "thinking", "error")}
    assert all(gated for _, gated in sink.played), "a sound played while the mic was listening"
    return [names.get(pcm, "speech") for pcm, _ in sink.played]


WAKE = ListenConfig(mode="wake_phrase", wake_phrases=["hey computer"])
ALL = EarconsConfig(listening=True, thinking=True, error=True)
NONE = EarconsConfig(listening=False, thinking=False, error=False)


def test_a_wake_phrase_alone_is_answered_with_the_listening_earcon(tmp_path: Path) -> None:
    pipeline, sink = make(tmp_path, "Hey computer.", WAKE, ALL)
    report = pipeline.handle(utterance())
    assert report.dropped is not None and report.dropped.startswith("wake phrase only")
    assert what_played(pipeline, sink) == ["thinking", "listening"]
    # the gate stays closed for the echo tail after the tone, then the user is heard again
    assert pipeline.deaf_at(time.monotonic())
    assert not pipeline.deaf_at(time.monotonic() + ECHO_TAIL_S + 1)


def test_a_request_with_the_wake_phrase_gets_no_listening_earcon(tmp_path: Path) -> None:
    pipeline, sink = make(tmp_path, "Hey computer, what time is it?", WAKE, ALL)
    report = pipeline.handle(utterance())
    assert report.reply == "It's noon."
    assert what_played(pipeline, sink) == ["thinking", "speech"]


def test_the_follow_up_window_opens_with_the_listening_earcon(tmp_path: Path) -> None:
    follow_up = ListenConfig(mode="wake_phrase", wake_phrases=["hey computer"], follow_up_s=5.0)
    pipeline, sink = make(tmp_path, "Hey computer, what time is it?", follow_up, ALL)
    pipeline.handle(utterance())
    assert what_played(pipeline, sink) == ["thinking", "speech", "listening"]


def test_push_to_talk_plays_the_listening_earcon_from_the_turn_worker(tmp_path: Path) -> None:
    pipeline, sink = make(tmp_path, "", ListenConfig(mode="push_to_talk"), ALL)
    pipeline.push_to_talk()
    pipeline.run()  # the silent recording ends at once; the queued cue is played before the worker exits
    assert what_played(pipeline, sink) == ["listening"]
    assert pipeline.stats.turns == 0  # a cue is not a turn


@pytest.mark.parametrize("listening", [False, True])
def test_the_listening_earcon_is_optional(tmp_path: Path, listening: bool) -> None:
    pipeline, sink = make(tmp_path, "Hey computer.", WAKE, EarconsConfig(listening=listening, thinking=False))
    pipeline.handle(utterance())
    assert what_played(pipeline, sink) == (["listening"] if listening else [])


def test_a_reload_changes_turn_taking_before_the_next_turn_never_during_one(tmp_path: Path) -> None:
    """``turn:``, ``barge_in:`` and ``earcons:`` from a reload come in a new set of stages, taken up between
    turns: a gate swapped in mid-reply would miss the start of our voice and take it for a user."""
    sink = RoomSink()
    # not before our echo has died away either: the new gate must not take the end of ours for a user
    first = stages("", ListenConfig(), ALL, sink, echo_tail_s=0.2)
    # silence in real time: the listen loop runs while the replies play, and between them
    pipeline = Pipeline(Capture(WavSource(write_silence(tmp_path / "silence.wav", 3.0), realtime=True)), first)
    sink.pipeline = pipeline
    assert first.turn_taking.policy == TurnPolicy.HALF_DUPLEX and first.turn_taking.echo_gate is None
    taking = build_turn_taking(validate({"turn": {"policy": "barge_in"}}))
    gate = taking.echo_gate
    assert gate is not None and taking.stop_phrase is None
    second = stages("", ListenConfig(), NONE, sink, taking)
    running = threading.Thread(target=pipeline.run)
    running.start()
    try:
        taken = pipeline.swap(second)
        assert pipeline.stages is first and not taken.is_set()  # waiting, not yet taken up
        news = pipeline.submit_text("Here is the news.", route=False)
        assert news.done.wait(5) and taken.wait(5) and pipeline.stages is second
        assert gate._ref_end == 0.0  # the reply belonged to the first set: this gate never heard it
        weather = pipeline.submit_text("Here is the weather.", route=False)
        assert weather.done.wait(5)
    finally:
        pipeline.stop()
        running.join(10)
    assert second.speaker.on_audio == gate.add_reference and second.earcons is not None
    assert second.earcons.on_audio == gate.add_reference
    assert what_played(pipeline, sink) == ["speech", "speech"]
    # it heard the second reply played (a frame from the reply's end may hold its echo)
    assert gate.echo_may_arrive(AudioFrame(bytes(960), 0.0, gate._ref_end))
    # a reload that keeps the devices and the barge_in settings keeps the gate, and what it learnt of the room
    assert build_turn_taking(validate({"turn": {"policy": "barge_in"}}), gate).echo_gate is gate


def test_a_failing_turn_listener_does_not_stop_the_turns(tmp_path: Path) -> None:
    """The daemon logs, records and saves the learnt room after each turn: none of that may end the worker."""
    pipeline, _ = make(tmp_path, "", ListenConfig(), NONE)
    seen: list[str] = []

    def broken(report: TurnReport) -> None:
        seen.append(report.reply)
        raise OSError("disk full")

    pipeline.on_turn = broken
    jobs = [pipeline.submit_text(text, route=False) for text in ("One.", "Two.")]
    pipeline.run()
    assert all(job.done.is_set() for job in jobs) and seen == ["One.", "Two."]


def test_a_typed_request_is_answered_after_the_turn_is_recorded(tmp_path: Path) -> None:
    """`assistant ask` gets its answer only once the daemon has recorded the turn: a SIGKILL right after the
    answer (CI did exactly that) must find it in the history."""
    pipeline, _ = make(tmp_path, "", ListenConfig(), NONE)
    recorded: list[str] = []
    seen_by_asker: list[list[str]] = []

    def slow_record(report: TurnReport) -> None:
        time.sleep(0.3)  # a slow disk under the history database
        recorded.append(report.reply)

    pipeline.on_turn = slow_record
    job = pipeline.submit_text("Noted.", route=False)
    asker = threading.Thread(target=lambda: job.done.wait(30) and seen_by_asker.append(list(recorded)))
    asker.start()
    pipeline.run()
    asker.join(30)
    assert seen_by_asker == [["Noted."]]
