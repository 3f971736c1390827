"""Live barge-in through a private PulseAudio server: the scene of tests/test_barge_in_pipeline.py, repeated.

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
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

ANNOUNCEMENT = ("Here is the news. The weather today is sunny with a light breeze. Tomorrow will bring some "
                "rain in the evening. The football match was cancelled. Traffic is light on the main roads.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--recording", type=Path, default=ROOT / "tests" / "data" / "turn_on_the_living_room_lamp.wav")
    args = parser.parse_args()

    from vaudio import VirtualAudio

    server = VirtualAudio().start()
    os.environ["PULSE_SERVER"] = server.server  # before PortAudio is loaded
    try:
        subprocess.run(["pactl", "load-module", "module-loopback", "source=vspk.monitor", "sink=vmic_in",
                        "latency_msec=60", "source_dont_move=true", "sink_dont_move=true"],
                       env=server.env, check=True, capture_output=True, timeout=10)
        cuts = [run_once(server.env, args.recording, run) for run in range(args.runs)]
    finally:
        server.stop()
    made = [c for c in cuts if c is not None]
    if made:
        print(f"cut after the recording started: median {statistics.median(made):.0f} ms, "
              f"{min(made):.0f}-{max(made):.0f} ms; not cut in {len(cuts) - len(made)} of {len(cuts)}")
    return 0


def run_once(env: dict[str, str], recording: Path, run: int) -> float | None:
    from assistant.audio.sinks import PyAudioSink
    from assistant.audio.sources import PyAudioSource
    from assistant.config import validate
    from assistant.factory import build_pipeline

    config = validate({"turn": {"policy": "barge_in"}, "llm": {"backend": "none"}})
    sink = PyAudioSink(None)
    pipeline = build_pipeline(config, PyAudioSource(None), sink)
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
        time.sleep(0.5)
        job = pipeline.submit_text(ANNOUNCEMENT, route=False)
        while not pipeline.busy:
            time.sleep(0.01)
        time.sleep(2.0)  # into the second sentence
        started = time.monotonic()
        subprocess.run(["paplay", "--device=vmic_in", str(recording)], env=env, check=True, timeout=30)
        job.done.wait(30)
        deadline = time.monotonic() + 20
        while not any(turns) and time.monotonic() < deadline:
            time.sleep(0.1)
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
