"""`assistant run` as systemd would run it: a real process, a notify socket owned by the test, the
virtual PulseAudio devices, signals, the control socket, the history database."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.service.control import ControlClient
from support.textnorm import normalise
from support.vaudio import VirtualAudio


class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET; collects every message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536).decode()
            except (TimeoutError, OSError):
                continue
            self.messages.append(dict(line.split("=", 1) for line in data.splitlines() if "=" in line))

    def wait_for(self, key: str, value: str | None = None, after: int = 0, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, message in enumerate(self.messages[after:], after):
                if key in message and (value is None or message[key] == value):
                    return index
            time.sleep(0.05)
        raise AssertionError(f"no {key}={value} after message {after}: {self.messages[after:]}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class Daemon:
    def __init__(self, vaudio: VirtualAudio, root: Path, config_text: str) -> None:
        self.root = root
        self.config = root / "config.yaml"
        self.config.write_text(config_text)
        self.notify = NotifySocket(root / "notify")
        self.env = {**vaudio.env, "NOTIFY_SOCKET": str(self.notify.path), "WATCHDOG_USEC": "1000000",
                    "XDG_RUNTIME_DIR": str(root / "run"), "XDG_STATE_HOME": str(root / "state")}
        (root / "run").mkdir(mode=0o700)
        self.stderr: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> Daemon:
        started = len(self.notify.messages)  # a restart waits for its own READY=1
        self.proc = subprocess.Popen([sys.executable, "-m", "assistant", "--config", str(self.config), "run"],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.notify.wait_for("READY", "1", after=started, timeout=120)
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    def wait_log(self, text: str, after: int = 0, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, line in enumerate(self.stderr[after:], after):
                if text in line:
                    return index
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in log:\n" + "\n".join(self.stderr))

    @property
    def socket_path(self) -> Path:
        return self.root / "run" / "assistant" / "control.sock"

    def control(self, cmd: str, **params: object) -> dict[str, object]:
        return ControlClient(self.socket_path, 120).request(cmd, **params)

    @property
    def history_db(self) -> Path:
        return self.root / "state" / "assistant" / "history.db"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()


@pytest.fixture
def daemon(vaudio: VirtualAudio, tmp_path: Path) -> Iterator[Daemon]:
    d = Daemon(vaudio, tmp_path, "logging:\n  level: INFO\n")
    try:
        yield d.start()
    finally:
        d.stop()


def test_notify_watchdog_control_reload_and_stop(daemon: Daemon, data_dir: Path, vaudio: VirtualAudio) -> None:
    notify = daemon.notify
    ready = notify.wait_for("READY", "1")
    # the watchdog pings while the pipeline is healthy (WATCHDOG_USEC=1 s -> every 0.5 s)
    first_ping = notify.wait_for("WATCHDOG", "1", after=ready, timeout=10)
    notify.wait_for("WATCHDOG", "1", after=first_ping + 1, timeout=10)

    # control socket: status, a typed request, a spoken announcement, mute
    status = daemon.control("status")
    assert status["state"] == "listening" and status["model"] == "tiny.en"
    assert status["dropped_frames"] == 0
    assert oct(daemon.socket_path.stat().st_mode & 0o777) == "0o600"
    asked = daemon.control("ask", text="what time is it")
    assert asked["handled_by"] == "skill" and str(asked["reply"]).startswith("It's ")
    notify.wait_for("STATUS", after=ready + 1)
    said = daemon.control("say", text="Hello from the control socket.")
    assert said["reply"] == "Hello from the control socket."
    assert daemon.control("mute")["muted"] is True
    assert daemon.control("status")["state"] == "muted"
    daemon.control("unmute")

    # a spoken turn through the virtual mic lands in the history database
    time.sleep(1.0)  # past the echo tail of the announcement above (half-duplex)
    mark = len(daemon.stderr)
    vaudio.play(data_dir / "what_time_is_it_espeak.wav").wait(30)
    daemon.wait_log("handled_by=", after=mark)  # an answered turn, not a dropped fragment
    with sqlite3.connect(daemon.history_db) as db:
        transcripts = [row[0] for row in db.execute("SELECT transcript FROM turns")]
    spoken = [t for t in transcripts if normalise(t) == ["what", "time", "is", "it"] and t != "what time is it"]
    assert spoken and "what time is it" in transcripts, transcripts  # the spoken turn and the typed one
    result = subprocess.run([sys.executable, "-m", "assistant", "history", "--json", "-n", "5"], env=daemon.env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert any(t["transcript"] == spoken[0] for t in json.loads(result.stdout))

    # SIGHUP with an invalid config: rejected, old config kept, still serving
    before = len(notify.messages)
    daemon.config.write_text("vad:\n  hangover_ms: -3\n")
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGHUP)
    reloading = notify.wait_for("RELOADING", "1", after=before)
    assert int(notify.messages[reloading]["MONOTONIC_USEC"]) > 0
    notify.wait_for("READY", "1", after=reloading)
    daemon.wait_log("reload rejected")
    assert daemon.control("status")["state"] == "listening"
    # SIGHUP with a valid config: applied without reopening the mic
    before = len(notify.messages)
    daemon.config.write_text("logging:\n  level: INFO\nvad:\n  hangover_ms: 600\nlatency:\n  max_pause_ms: 1200\n"
                             "turn:\n  policy: barge_in\n")
    daemon.proc.send_signal(signal.SIGHUP)
    notify.wait_for("READY", "1", after=notify.wait_for("RELOADING", "1", after=before))
    daemon.wait_log("reloaded")
    assert any("reloaded" in line and "vad" in line and "latency" in line and "turn" in line
               for line in daemon.stderr)
    assert daemon.control("status")["mic_reopened"] == 0
    # and it still hears (a new speculator and endpointer took over; the turn is taken with barge-in on)
    mark = len(daemon.stderr)
    vaudio.play(data_dir / "what_time_is_it_espeak.wav").wait(30)
    daemon.wait_log("handled_by=", after=mark)  # an answered turn, not a dropped fragment
    # reload over the control socket reports the same
    assert daemon.control("reload")["reloaded"] is True

    # SIGTERM: STOPPING=1 at once, exit 0 well within systemd's stop timeout
    started = time.monotonic()
    before = len(notify.messages)
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=20) == 0
    assert time.monotonic() - started < 10  # systemd allows 20 s (TimeoutStopSec)
    notify.wait_for("STOPPING", "1", after=before, timeout=5)
    assert not daemon.socket_path.exists()


def test_history_survives_sigkill_after_a_turn(daemon: Daemon) -> None:
    asked = daemon.control("ask", text="what is the date")
    assert asked["intent"] == "date"
    assert daemon.proc is not None
    os.kill(daemon.proc.pid, signal.SIGKILL)
    daemon.proc.wait(10)
    with sqlite3.connect(daemon.history_db) as db:
        rows = list(db.execute("SELECT transcript, reply FROM turns"))
    assert ("what is the date", asked["reply"]) in rows


def test_daemon_keeps_hearing_after_the_sound_server_restarts(tmp_path: Path, data_dir: Path) -> None:
    server = VirtualAudio(tmp_path / "pa").start()  # its own server: this test kills it
    (tmp_path / "d").mkdir()
    d = Daemon(server, tmp_path / "d", "logging:\n  level: INFO\n")
    try:
        d.start()
        server.kill_server()
        d.wait_log("audio input", timeout=30)  # noticed the loss
        server.start()
        d.wait_log("audio input back", timeout=60)
        mark = len(d.stderr)
        time.sleep(1.0)
        server.play(data_dir / "what_time_is_it_espeak.wav").wait(30)
        line = d.stderr[d.wait_log("handled_by=", after=mark, timeout=60)]
        assert "intent=time" in line
        assert d.proc is not None and d.proc.poll() is None  # the same process all along
    finally:
        d.stop()
        server.stop()


def test_a_restarted_daemon_starts_with_the_room_its_echo_gate_learnt(vaudio: VirtualAudio, room_echo: None,
                                                                      tmp_path: Path) -> None:
    """Without the saved room every restart would relearn it over its first replies (hearing a user over
    them later, or not at all); another mic or speaker is another room."""
    d = Daemon(vaudio, tmp_path, "logging:\n  level: INFO\n")
    room = tmp_path / "state" / "assistant" / "room.json"
    try:
        d.start()
        assert not room.exists()
        # our voice comes back into the mic: the half-duplex gate (listening for "stop") learns the room
        d.control("say", text="The kitchen light is on, the front door is locked, and the music is playing "
                              "in the living room.")
        deadline = time.monotonic() + 10  # written once the turn is reported, just after `say` returns
        while not room.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        saved = json.loads(room.read_text())
        assert saved["version"] == 2 and len(saved["leaks"]) >= 60 and all(len(frame) == 2 for frame in saved["leaks"])
        assert json.loads(saved["key"]) == {"source": "device", "input": None, "sink": "device", "output": None}
        assert d.proc is not None
        os.kill(d.proc.pid, signal.SIGKILL)  # saved after the turn, not only at a clean stop
        d.proc.wait(10)
        d.stderr.clear()
        d.start()
        line = d.stderr[d.wait_log("echo gate: took")]
        assert f"took {len(saved['leaks'])} frames of this room" in line, line
        # reloaded onto another microphone: another room, so a new gate that does not take this one
        mark = len(d.stderr)
        d.config.write_text("logging:\n  level: INFO\naudio:\n  input_device: pulse\n")
        assert d.proc is not None
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("learnt with another mic or speaker", after=mark)
        d.wait_log("reloaded", after=mark)
        assert not any("echo gate: took" in line for line in d.stderr[mark:])
        assert json.loads(room.read_text()) == saved  # nothing learnt there yet: the saved room stays
    finally:
        d.stop()


def test_wake_word_mode_through_the_microphone(vaudio: VirtualAudio, tmp_path: Path, data_dir: Path) -> None:
    """`assistant run` in wake_word mode: speech without the wake word is not even transcribed; the wake word
    then a request is answered, and status shows the detector. A reload to a model that does not exist is
    refused and the detector keeps running."""
    import numpy as np

    from support.wav import read_wav, write_wav

    gap = np.zeros(8000, dtype=np.int16)
    woken = write_wav(tmp_path / "woken.wav", np.concatenate(
        [gap, read_wav(data_dir / "hey_mycroft_test.wav")[0], read_wav(data_dir / "what_time_is_it_espeak.wav")[0],
         gap]))
    config = ("logging:\n  level: INFO\nlisten:\n  mode: wake_word\n  wake_word:\n    models: [hey_mycroft]\n"
              "llm:\n  backend: none\n")
    daemon = Daemon(vaudio, tmp_path, config)
    try:
        daemon.start()
        status = daemon.control("status")
        assert status["listen_mode"] == "wake_word"
        assert status["wake_words"] == {"engine": "micro", "models": ["hey_mycroft"], "detections": 0, "awake": False}
        vaudio.play(data_dir / "what_time_is_it_espeak.wav").wait(30)
        time.sleep(1.0)
        assert daemon.control("status")["turns"] == 0  # never reached the recognizer
        mark = len(daemon.stderr)
        vaudio.play(woken).wait(30)
        line = daemon.stderr[daemon.wait_log("handled_by=", after=mark)]
        assert "wake_word=hey_mycroft" in line and "intent=time" in line, line
        assert daemon.control("status")["wake_words"]["detections"] == 1

        daemon.config.write_text(config.replace("[hey_mycroft]", "[hey_computer]"))
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_log("reload failed, keeping the running config: listen.wake_word.models: no bundled micro "
                        "wake word 'hey_computer'")
        assert daemon.control("status")["wake_words"]["models"] == ["hey_mycroft"]
    finally:
        daemon.stop()
