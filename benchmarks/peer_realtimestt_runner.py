"""The RealtimeSTT side of benchmarks/peer_realtimestt.py, run by the PEER venv's python (never the assistant's).

    /work/peer-venv/bin/python benchmarks/peer_realtimestt_runner.py JOB.json

JOB.json (written by peer_realtimestt.py): {"model": tiny.en folder, "sample_rate": 16000, "chunk_samples": 512,
"settle_s": 2.0, "max_wait_s": 15.0, "warm_up_pcm": path, "variants": [{"name", "options"}]}. A PCM file is a
recording as our pipeline hears it (16 kHz mono int16, raw), so both sides get the same samples.

For each variant one AudioToTextRecorder(use_microphone=False) is built and warmed up; then the runner answers,
one JSON line on stdout for each line {"variant", "pcm"} on stdin, so the caller can interleave its own turns
with the peer's (the machine's load drifts; both sides should see the same). The recording is fed at
wall-clock pace, one 512-sample chunk as each chunk's last sample would have been spoken (as a microphone hands
it over), then digital silence until nothing has happened for ``settle_s``. A thread calls ``recorder.text()``
in a loop, as RealtimeSTT's own examples do; each return is timed. Times are written as seconds of the
recording's stream (0 = its first sample) so the caller can count them from the true end of speech. The first
line out is {"ready": {versions, load times, the Silero backend}}.

Imports nothing from ``assistant``: that package lives in another venv with other versions of everything.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, TextIO

import numpy as np

# The hub is not reachable from here; the whisper model is a local folder (faster-whisper would otherwise ask
# the hub about a name).
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# What every variant shares: RealtimeSTT at its defaults except what a CPU-only, English, file-fed run needs
# (the same model, language, device and quantisation as ours) and the terminal spinner and log file.
BASE_OPTIONS: dict[str, Any] = {"use_microphone": False, "language": "en", "device": "cpu", "compute_type": "int8",
                                "spinner": False, "no_log_file": True}


def forbid_torch_hub() -> None:
    """The offline Silero shim: make sure RealtimeSTT's VAD comes from the silero-vad package, never the hub.

    RealtimeSTT 1.1.2's default ``silero_backend="auto"`` looks for ``silero_vad_op18_ifless.onnx`` (then
    ``silero_vad.onnx``) inside the installed ``silero_vad`` package and runs it with onnxruntime; only if
    neither is found does it fall back to ``torch.hub.load("snakers4/silero-vad")``, which needs the internet.
    The package is in benchmarks/requirements-peer.lock, so the fallback should never run; if it did, it would
    hang on the network here, so it is made to fail at once with a message that says what is missing.
    """
    import torch.hub

    def no_hub(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("torch.hub.load called (no network here): install silero-vad in the peer venv "
                           "(benchmarks/requirements-peer.lock) so RealtimeSTT finds its bundled ONNX model")

    torch.hub.load = no_hub


@dataclass
class Session:
    """One recorder and the transcripts its ``text()`` loop returned, timed on the monotonic clock."""

    recorder: Any
    transcripts: list[tuple[float, str]] = field(default_factory=list)
    stops: list[float] = field(default_factory=list)  # on_recording_stop: its endpoint decided
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)

    def listen(self) -> None:
        while not self.done.is_set():
            text = self.recorder.text()
            if self.done.is_set():
                return
            with self.lock:
                self.transcripts.append((time.monotonic(), text))

    def last_event(self) -> float:
        with self.lock:
            return max([t for t, _ in self.transcripts] + self.stops, default=0.0)

    def busy(self) -> bool:
        # recording: speech is still being collected; transcribing: Whisper is running
        return bool(self.recorder.is_recording) or self.recorder.state == "transcribing"


def open_session(model: str, options: dict[str, Any]) -> Session:
    from RealtimeSTT import AudioToTextRecorder

    stops: list[float] = []
    recorder = AudioToTextRecorder(model=model, on_recording_stop=lambda: stops.append(time.monotonic()),
                                   **BASE_OPTIONS, **options)
    session = Session(recorder, stops=stops)
    threading.Thread(target=session.listen, name="text-loop", daemon=True).start()
    return session


def feed(session: Session, pcm: np.ndarray, rate: int, chunk: int, settle_s: float, max_wait_s: float) -> float:
    """Feed one recording then silence in real time; return the monotonic time of its stream's 0."""
    chunk_s = chunk / rate
    silence = np.zeros(chunk, dtype=np.int16)
    padded = np.concatenate([pcm, np.zeros(-len(pcm) % chunk, dtype=np.int16)])
    start = time.monotonic()
    fed = 0
    audio_end = start + len(padded) / rate
    while True:
        piece = padded[fed * chunk:(fed + 1) * chunk] if fed * chunk < len(padded) else silence
        fed += 1
        wait = start + fed * chunk_s - time.monotonic()  # a mic hands a chunk over once its last sample is spoken
        if wait > 0:
            time.sleep(wait)
        session.recorder.feed_audio(piece.tobytes(), rate)
        now = time.monotonic()
        if now < audio_end:
            continue
        quiet_since = max(audio_end, session.last_event())
        if (now - quiet_since >= settle_s and not session.busy()) or now - audio_end > max_wait_s:
            return start


def utterance(session: Session, start: float, until: float) -> dict[str, Any]:
    """What the recorder produced between ``start`` and ``until``, as stream seconds of this recording."""
    with session.lock:
        events = [(t - start, text) for t, text in session.transcripts if start <= t < until]
        stops = [t - start for t in session.stops if start <= t < until]
    spoken = [(t, text) for t, text in events if text.strip()]
    return {"transcript": " ".join(text.strip() for _, text in spoken),
            "transcript_s": spoken[-1][0] if spoken else None,  # the utterance's last words are then written
            "events": [{"stream_s": round(t, 4), "text": text} for t, text in events],
            "recording_stops_s": [round(t, 4) for t in stops]}


def serve(job: dict[str, Any], protocol: TextIO) -> None:
    """Load every variant, warm each up, then play what stdin asks for, one JSON line in, one out."""
    rate, chunk = int(job["sample_rate"]), int(job["chunk_samples"])
    settle_s, max_wait_s = float(job["settle_s"]), float(job["max_wait_s"])
    sessions: dict[str, Session] = {}
    info: dict[str, Any] = {"realtimestt": version("realtimestt"), "faster_whisper": version("faster-whisper"),
                            "python": sys.version.split()[0], "load_s": {}, "silero_backend": {}}
    try:
        warm = np.fromfile(job["warm_up_pcm"], dtype="<i2")
        for variant in job["variants"]:
            loaded = time.monotonic()
            session = sessions[variant["name"]] = open_session(job["model"], variant["options"])
            info["load_s"][variant["name"]] = round(time.monotonic() - loaded, 2)
            info["silero_backend"][variant["name"]] = getattr(session.recorder.silero_vad_model, "backend", None)
            # One unmeasured pass, as ours warms its pipeline before READY: the first transcription of a fresh
            # process pays one-off set-up that a running assistant does not.
            feed(session, warm, rate, chunk, settle_s, max_wait_s)
        reply(protocol, {"ready": info})
        for line in sys.stdin:
            ask = json.loads(line)
            session = sessions[ask["variant"]]
            start = feed(session, np.fromfile(ask["pcm"], dtype="<i2"), rate, chunk, settle_s, max_wait_s)
            reply(protocol, utterance(session, start, time.monotonic()))
    finally:
        for session in sessions.values():
            session.done.set()
            session.recorder.shutdown()


def reply(protocol: TextIO, message: dict[str, Any]) -> None:
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    # RealtimeSTT prints to stdout (and its spawned Whisper worker inherits it): keep the real stdout for our
    # replies only, and send everything written to file descriptor 1 to stderr.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    forbid_torch_hub()
    serve(json.loads(Path(argv[0]).read_text(encoding="utf-8")), protocol)
    return 0


if __name__ == "__main__":  # RealtimeSTT starts its Whisper worker with "spawn": that child imports this file
    sys.exit(main(sys.argv[1:]))
