"""The barge-in scene of tests/scenarios/test_barge_in_pipeline.py, also run by benchmarks/barge_in_live.py: the
assistant reads an announcement (its voice comes back into the mic through the room), and 2 s in, the user
talks over it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from assistant.audio.sinks import AudioSink
from assistant.turn.items import TextJob
from assistant.turn.pipeline import Pipeline

ANNOUNCEMENT = ("Here is the news. The weather today is sunny with a light breeze. Tomorrow will bring some "
                "rain in the evening. The football match was cancelled. Traffic is light on the main roads.")


def talk_over_the_reply(pipeline: Pipeline, play_user: Callable[[], None], answered: Callable[[], bool],
                        wait_s: float = 30) -> tuple[TextJob, float]:
    """On a running pipeline: announce, ``play_user`` into the mic 2 s in (it returns when played), then
    wait for the announcement to end and until ``answered()`` (at most ``wait_s`` each). The announcement's
    job, and the monotonic time the user's recording started playing."""
    time.sleep(0.5)
    playing = when_playing(pipeline.stages.sink)
    job = pipeline.submit_text(ANNOUNCEMENT, route=False)
    playing.wait(wait_s)
    time.sleep(2.0)  # into the second sentence
    started = time.monotonic()
    play_user()
    job.done.wait(wait_s)
    deadline = time.monotonic() + wait_s
    while not answered() and time.monotonic() < deadline:
        time.sleep(0.1)
    return job, started


def when_playing(sink: AudioSink) -> threading.Event:
    """An event set when ``sink`` is next handed a sound: "2 s into our reply" counts from our first sample,
    not from when the reply was queued (a loaded machine may take a while to pick it up and synthesize it)."""
    playing = threading.Event()
    real_play = sink.play

    def play(pcm: bytes, rate: int, cancelled: threading.Event | None = None) -> float | None:
        playing.set()
        return real_play(pcm, rate, cancelled)

    sink.play = play  # type: ignore[method-assign]
    return playing
