"""Live barge-in through a private PulseAudio server: the scene of tests/scenarios/test_barge_in_pipeline.py, repeated.

The assistant reads an announcement into the virtual speaker, which a 60 ms loopback returns into the
virtual mic at full level (a room); 2 s in, a real recording is played into the mic over it. Per run: when
the pipeline cut the reply, measured from the moment ``paplay`` starts the recording (its speech starts
~0.28 s in, plus the sound server's latency), and what Whisper heard afterwards.

    .venv/bin/python benchmarks/barge_in_live.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--recording", type=Path, default=ROOT / "tests" / "data" / "turn_on_the_living_room_lamp.wav")
    args = parser.parse_args()

    from assistant.app.build import build_recognizer
    from assistant.config.schema import validate
    from support.vaudio import VirtualAudio

    config = validate({"turn": {"policy": "barge_in"}, "llm": {"backend": "none"}})
    recognizer = build_recognizer(config)  # once: every run builds a new pipeline around it
    server = VirtualAudio().start()
    os.environ["PULSE_SERVER"] = server.server  # before PortAudio is loaded
    try:
        server.loop_speaker_into_mic()
        cuts = [run_once(server, config, recognizer, args.recording, run) for run in range(args.runs)]
    finally:
        server.stop()
    made = [c for c in cuts if c is not None]
    if made:
        print(f"cut after the recording started: median {statistics.median(made):.0f} ms, "
              f"{min(made):.0f}-{max(made):.0f} ms; not cut in {len(cuts) - len(made)} of {len(cuts)}")
    return 0


def run_once(server: Any, config: Any, recognizer: Any, recording: Path, run: int) -> float | None:
    from assistant.app.build import Kept, build_pipeline
    from assistant.audio.sinks import PyAudioSink
    from assistant.audio.sources import PyAudioSource
    from support.barge_in_scene import talk_over_the_reply

    sink = PyAudioSink(None)
    pipeline = build_pipeline(config, PyAudioSource(None), sink, kept=Kept(recognizer=recognizer))
    cut: list[float] = []
    cut_reply = pipeline._barge_in  # timed, not changed

    def timed_cut() -> None:
        cut.append(time.monotonic())
        cut_reply()

    pipeline._barge_in = timed_cut  # type: ignore[method-assign]
    turns: list[str] = []
    pipeline.on_turn = lambda report: turns.append(report.transcript)
    runner = threading.Thread(target=pipeline.run, daemon=True)
    runner.start()
    try:
        _, started = talk_over_the_reply(pipeline, lambda: server.play(recording).wait(30), lambda: any(turns),
                                         wait_s=20)
    finally:
        pipeline.stop()
        runner.join(10)
        sink.close()
    after = (cut[0] - started) * 1000 if cut else None
    print(f"run {run}: cut {'-' if after is None else f'{after:.0f} ms'} after play; heard "
          f"{[t for t in turns if t]}", flush=True)
    return after


if __name__ == "__main__":
    raise SystemExit(main())
