"""A running satellite for the ESPHome tests: our pipeline (fed by a WavSource, playing into a recording sink)
with the ESPHome API server, and the real aioesphomeapi client acting as Home Assistant."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.app.build import Kept, build_pipeline, build_satellite
from assistant.audio.sinks import NullSink
from assistant.audio.sources import WavSource
from assistant.config.schema import Config
from assistant.remote.esphome.satellite import EsphomeSatellite
from assistant.turn.pipeline import Pipeline
from support.fakes import Heard
from support.wav import write_wav

KEY = "px7tsbK3C7bpXHr2OevEV2ZMg/FrNpw7L0Ts0tnJF4k="  # 32 bytes, base64 (a test key)
OTHER_KEY = "QRTIErOb/fcE9Ew4x3t6HOvq8PhrXL43Vu0YYa1PSxc="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RecordingSink(NullSink):
    """Keeps what it is given to play (as a loudspeaker would play it), with the time of its first sample."""

    def __init__(self) -> None:
        super().__init__()
        self.played: list[tuple[bytes, int, float]] = []
        self.changed = threading.Condition()

    def play(self, pcm: bytes, rate: int, cancelled: threading.Event | None = None) -> float | None:
        first = time.monotonic()
        with self.changed:
            self.played.append((pcm, rate, first))
            self.changed.notify_all()
        return first

    def wait_for(self, count: int, timeout: float = 20.0) -> list[tuple[bytes, int, float]]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.played) >= count, timeout)
            return list(self.played)


class RoomSpeaker(RecordingSink):
    """A loudspeaker in the room (the mic may hear it: the pipeline's half-duplex and barge-in rules apply)
    that takes as long as the sound to play it; ``cut`` lists the plays stopped before their end."""

    def __init__(self) -> None:
        super().__init__()
        self.audible = True
        self._realtime = True
        self.cut: list[bool] = []

    def play(self, pcm: bytes, rate: int, cancelled: threading.Event | None = None) -> float | None:
        first = super().play(pcm, rate, cancelled)
        NullSink.play(self, pcm, rate, cancelled)
        self.cut.append(time.monotonic() - (first or 0.0) < len(pcm) / (2 * rate) - 0.5)
        return first


class Gated:
    """Our WavSource, held back until ``open`` (Home Assistant is connected): the recording's wake word must not
    be said before anyone listens, however slowly a loaded machine connects."""

    def __init__(self, source: WavSource) -> None:
        self.source = source
        self.name = source.name
        self.gate = threading.Event()

    def read(self) -> bytes | None:
        if not self.gate.wait(60):
            return None
        return self.source.read()

    def close(self) -> None:
        self.gate.set()
        self.source.close()


@dataclass
class Running:
    pipeline: Pipeline
    satellite: EsphomeSatellite
    sink: RecordingSink
    port: int
    source: Gated

    def start_audio(self) -> None:
        """The recording starts (in real time) now."""
        self.source.gate.set()


def config_for(*, key: str | None = None, brain: str = "home_assistant", port: int | None = None,
               name: str = "kitchen") -> Config:
    return Config.model_validate({
        "tts": {"engine": "null"}, "llm": {"backend": "none"},
        "earcons": {"listening": False, "thinking": False, "error": False},
        "listen": {"mode": "wake_word", "wake_word": {"models": ["hey_mycroft"], "confirm_from": None}},
        "satellite": {"brain": brain, "esphome": {"enabled": True, "host": "127.0.0.1", "port": port or free_port(),
                                                   "name": name, "encryption_key": key}},
    })


@contextlib.contextmanager
def running(tmp_path: Path, *, audio: np.ndarray | None = None, key: str | None = None,
            brain: str = "home_assistant", realtime: bool = True, heard: str = "", name: str = "kitchen",
            advertise: bool = False, sink: RecordingSink | None = None) -> Iterator[Running]:
    """The satellite, its pipeline fed ``audio`` (16 kHz int16, from ``start_audio()`` on) then silence, in real
    time, until the end; the local pipeline's recognizer hears ``heard`` in every utterance (no Whisper)."""
    samples = audio if audio is not None else np.zeros(1600, dtype=np.int16)
    wav = write_wav(tmp_path / "room.wav", samples)
    config = config_for(key=key, brain=brain, name=name)
    sink = sink or RecordingSink()
    source = Gated(WavSource(wav, realtime=realtime, tail_silence_s=300.0))
    if audio is None:
        source.gate.set()
    pipeline = build_pipeline(config, source, sink, kept=Kept(recognizer=Heard(heard)))
    satellite = build_satellite(config, pipeline, advertise=advertise)
    assert satellite is not None
    thread = threading.Thread(target=pipeline.run, name="pipeline", daemon=True)
    thread.start()
    try:
        yield Running(pipeline, satellite, sink, config.satellite.esphome.port, source)
    finally:
        satellite.stop()
        pipeline.stop()
        thread.join(10.0)
        pipeline.close()
        pipeline.capture.source.close()


@dataclass
class Web:
    url: str  # base URL
    requests: list[str]  # the paths asked for, in order


@contextlib.contextmanager
def serving(files: dict[str, bytes]) -> Iterator[Web]:
    """A local HTTP server standing in for Home Assistant's media URLs (``files``: path -> body)."""
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            served.append(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav" if self.path.endswith(".wav") else "audio/flac")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Web(f"http://127.0.0.1:{server.server_address[1]}", served)
    finally:
        server.shutdown()
        server.server_close()
