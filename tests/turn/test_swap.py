"""Swapping the stages (a reload): a new set is taken up only between turns, every turn runs on one whole
set, and the old set's parts are closed unless the new one shares them. Stand-in recognizer, router and
voice; the real endpointer, listener, speaker and pipeline threads."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

from assistant.audio.sources import Capture, WavSource
from assistant.config.hearing import ListenConfig
from assistant.config.schema import VadConfig
from assistant.events import Reply, Transcript, TranscriptSegment
from assistant.hearing.listen import Listener
from assistant.hearing.vad import Endpointer
from assistant.speech.streaming import Speaker
from assistant.turn.pipeline import Pipeline
from assistant.turn.stages import Stages
from support.wav import write_silence

BEEP = bytes(range(256)) * 8


class Part:
    """Closable, and remembers which set it was made for."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Router(Part):
    def __init__(self, name: str, used: list[tuple[str, str]]) -> None:
        super().__init__(name)
        self.used = used
        self.started = False

    def route(self, text: str, scorer: object = None, context: object = None) -> Reply:
        self.used.append(("router", self.name))
        return Reply(f"answered by {self.name}", "skill", "test")

    def is_complete_request(self, text: str) -> bool:
        return False

    def start(self) -> None:
        self.started = True


class Voice:
    def __init__(self, name: str, used: list[tuple[str, str]], hold: threading.Event | None = None) -> None:
        self.name, self.used, self.hold = name, used, hold

    def synthesize(self, text: str) -> tuple[bytes, int]:
        self.used.append(("voice", self.name))
        if self.hold is not None:
            assert self.hold.wait(10)
        return BEEP, 16000

    def voices(self) -> list[dict[str, str]]:
        return []


class Sink(Part):
    audible = False  # nothing comes back through a mic: no echo tail to wait for

    def play(self, pcm: bytes, rate: int, cancelled: threading.Event | None = None) -> float | None:
        return time.monotonic()

    def stop(self) -> None:
        pass


class Heard:
    model_name = "fake"

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        return Transcript("hello", (TranscriptSegment(0.0, 1.0, "hello"),), "fake", 0.01)


def stages(name: str, used: list[tuple[str, str]], sink: Sink, hold: threading.Event | None = None,
           fallback: Part | None = None) -> Stages:
    return Stages(endpointer=Endpointer(VadConfig()), recognizer=Heard(), listener=Listener(ListenConfig()),
                  router=Router(name, used), speaker=Speaker(Voice(name, used, hold), sink),
                  fallback=fallback, on_activate=lambda previous: None)




def running(pipeline: Pipeline) -> threading.Thread:
    thread = threading.Thread(target=pipeline.run, daemon=True)
    thread.start()
    return thread


def test_a_new_set_waits_for_the_reply_in_progress(tmp_path: Path) -> None:
    used: list[tuple[str, str]] = []
    sink, hold = Sink("sink"), threading.Event()
    old_fallback, new_fallback = Part("llm a"), Part("llm b")
    a = stages("a", used, sink, hold, old_fallback)
    pipeline = Pipeline(Capture(WavSource(write_silence(tmp_path / "s.wav", 4.0), realtime=True)), a)
    thread = running(pipeline)
    first = pipeline.submit_text("one")
    deadline = time.monotonic() + 5
    while ("voice", "a") not in used:  # the reply has begun, and waits in the voice
        assert time.monotonic() < deadline
        time.sleep(0.01)
    b = stages("b", used, sink, fallback=new_fallback)
    taken = pipeline.swap(b)
    assert not taken.wait(0.5), "swapped in while a reply was being spoken"
    assert pipeline.stages is a
    hold.set()
    assert first.done.wait(5) and taken.wait(5)
    assert pipeline.stages is b
    second = pipeline.submit_text("two")
    assert second.done.wait(5)
    pipeline.stop()
    thread.join(10)
    assert first.report is not None and first.report.reply == "answered by a"
    assert second.report is not None and second.report.reply == "answered by b"
    # the old set's own parts are closed, the shared sink is not
    assert isinstance(a.router, Router) and a.router.closed and old_fallback.closed
    assert not sink.closed and not new_fallback.closed


def test_every_turn_runs_on_one_whole_set(tmp_path: Path) -> None:
    """Sets swapped in as fast as they can be built while requests keep coming: each turn's router and
    voice belong to the same set."""
    used: list[tuple[str, str]] = []
    sink = Sink("sink")
    pipeline = Pipeline(Capture(WavSource(write_silence(tmp_path / "s.wav", 6.0), realtime=True)),
                        stages("set0", used, sink))
    thread = running(pipeline)
    jobs = []
    takes = []
    for n in range(1, 101):
        takes.append(pipeline.swap(stages(f"set{n}", used, sink)))
        if n % 2:
            jobs.append(pipeline.submit_text(f"request {n}"))
        time.sleep(0.01)
    assert all(job.done.wait(10) for job in jobs)
    assert takes[-1].wait(5) and all(t.is_set() for t in takes)  # superseded sets count as taken
    pipeline.stop()
    thread.join(10)
    turns = [used[i:i + 2] for i in range(0, len(used), 2)]
    assert len(turns) == len(jobs)
    for router_use, voice_use in turns:
        assert router_use[0] == "router" and voice_use[0] == "voice"
        assert router_use[1] == voice_use[1], f"a turn mixed two sets: {router_use} and {voice_use}"
    assert len({name for _, name in used}) > 1, "no swap was taken up during the requests"


def test_sets_waiting_are_superseded_and_closed(tmp_path: Path) -> None:
    used: list[tuple[str, str]] = []
    sink = Sink("sink")
    a = stages("a", used, sink)
    pipeline = Pipeline(Capture(WavSource(write_silence(tmp_path / "s.wav", 0.1))), a)
    fallbacks = [Part(f"llm {n}") for n in range(3)]
    waiting = [stages(f"b{n}", used, sink, fallback=fallback) for n, fallback in enumerate(fallbacks)]
    for n in itertools.count():
        if n == len(waiting):
            break
        pipeline.swap(waiting[n])  # nothing runs the pipeline: none is taken up, each replaces the last
    assert [f.closed for f in fallbacks] == [True, True, False]
    pipeline.close()  # the last one waiting is dropped too, and the running set's parts closed
    assert fallbacks[2].closed and isinstance(a.router, Router) and a.router.closed and not sink.closed
