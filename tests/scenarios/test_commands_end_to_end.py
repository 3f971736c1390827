"""Spoken commands with real effects, end to end: a recording played into the virtual mic while
`assistant run` runs makes an exec action write a file and an http action reach a local server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from support.daemon import run_daemon, stop
from support.paths import REPO
from support.vaudio import VirtualAudio

EXAMPLES = REPO / "config" / "examples"


class Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, str, dict[str, object]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Recorder.requests.append((self.path, self.headers.get("Authorization", ""), json.loads(body or b"{}")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def home_assistant() -> Iterator[str]:
    """A stand-in for Home Assistant's REST API on loopback, recording what it receives."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_spoken_command_calls_home_assistant(vaudio: VirtualAudio, data_dir: Path, home_assistant: str,
                                            tmp_path: Path) -> None:
    env = {**vaudio.env, "HASS_URL": home_assistant, "HASS_TOKEN": "secret-token",
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_RUNTIME_DIR": str(tmp_path)}
    proc, log = run_daemon(EXAMPLES / "home-assistant.yaml", env)
    try:
        vaudio.play(data_dir / "turn_on_the_living_room_lamp.wav").wait(30)
        turn = log.wait_for("handled_by=", timeout=60)
    finally:
        stop(proc)
    assert "intent=light_power" in turn and "handled_by=command" in turn, turn
    assert Recorder.requests == [("/api/services/light/turn_on", "Bearer secret-token",
                                  {"entity_id": "light.living_room"})]


def test_spoken_command_runs_a_program(vaudio: VirtualAudio, data_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "weather-was-asked"
    config = tmp_path / "config.yaml"
    config.write_text(f"""
commands:
  commands:
    - name: weather
      templates: ["what's the weather like", "how is the weather"]
      action:
        type: exec
        argv: ["/usr/bin/touch", "{marker}"]
        timeout_s: 5
        reply: "I wrote it down."
""")
    env = {**vaudio.env, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_RUNTIME_DIR": str(tmp_path)}
    proc, log = run_daemon(config, env)
    try:
        assert not marker.exists()
        time.sleep(0.5)
        vaudio.play(data_dir / "whatstheweatherlike.wav").wait(30)
        turn = log.wait_for("handled_by=", timeout=60)
    finally:
        stop(proc)
    assert "intent=weather" in turn and 'reply="I wrote it down."' in turn, turn
    assert marker.exists()
