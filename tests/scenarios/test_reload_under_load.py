"""100 reloads (SIGHUP) while audio streams in real time, a good config and a broken one taking turns: the
daemon never fails, drops no audio frame, rejects every broken file, and answers every utterance whole
with one config or the other. Real Whisper, a real recording, the real daemon process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.service.control import ControlClient, ControlError
from support.daemon import DaemonLog
from support.paths import DATA
from support.wav import read_wav, write_wav

pytestmark = pytest.mark.slow

UTTERANCES = 8
RELOADS = 100


def config_text(name: str, base: Path) -> str:
    """A good config whose lamp command answers with its own name."""
    return f"""
audio: {{source: wav, input_wav: {base / "mic.wav"}, sink: "null"}}
llm: {{backend: none}}
service:
  control: {{socket: {base / "control.sock"}}}
  history: {{path: {base / "history.db"}}}
  room: {{path: {base / "room.json"}}}
commands:
  commands:
    - name: lamp
      templates: ["turn on the living room lamp"]
      action: {{type: say, reply: "Lamp on, config {name}."}}
"""


BROKEN = "vad: {aggressiveness: 9}\n"  # a value out of range: rejected, the running config kept


def test_a_hundred_reloads_while_audio_streams(tmp_path: Path) -> None:
    pcm, rate = read_wav(DATA / "turn_on_the_living_room_lamp.wav")
    gap = np.zeros(int(rate * 1.5), dtype=np.int16)
    # 20 s of silence at the end: the daemon (which stops with its recording) must still be there to answer
    # "status" after the reloads, however long a loaded machine takes over them (CI once took > 30 s)
    tail = np.zeros(int(rate * 20), dtype=np.int16)
    write_wav(tmp_path / "mic.wav",
              np.concatenate([gap, *[np.concatenate([pcm, gap]) for _ in range(UTTERANCES)], tail]), rate)
    config = tmp_path / "config.yaml"
    config.write_text(config_text("A", tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "--config", str(config), "run"],
                            env=os.environ | {"XDG_STATE_HOME": str(tmp_path / "state")},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = DaemonLog(proc)
    try:
        log.wait_for("listening on", timeout=120)
        started = time.monotonic()
        sent = 0
        for n in range(RELOADS):
            config.write_text(config_text("AB"[n // 2 % 2], tmp_path) if n % 2 == 0 else BROKEN)
            proc.send_signal(signal.SIGHUP)
            sent += 1
            time.sleep(0.2)
        log.wait_for("reloaded", timeout=30)
        try:
            status = ControlClient(tmp_path / "control.sock", 30).request("status")
        except ControlError:  # say why: the daemon's exit code and its last words (seen on CI only)
            last = "\n".join(log.lines[-40:])
            raise AssertionError(f"no status (daemon exit code {proc.poll()}):\n{last}") from None
        lines = log.finish(timeout=120)  # the recording ends, and so does the daemon
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
    assert sent == RELOADS and time.monotonic() - started < 120
    assert proc.returncode == 0, "\n".join(lines[-30:])
    assert status["dropped_frames"] == 0 and status["errors"] == 0 and status["mic_reopened"] == 0, status
    assert not [line for line in lines if "Traceback" in line or "turn failed" in line or "reload failed" in line]
    turns = [line for line in lines if " turn transcript=" in line and "handled_by=" in line]
    assert len(turns) == UTTERANCES, "\n".join(turns)
    replies = {line.split("reply=", 1)[1] for line in turns}
    assert replies <= {'"Lamp on, config A."', '"Lamp on, config B."'}, replies
    assert len(replies) == 2, "every turn kept the first config: no reload was taken up"
    rejected = [line for line in lines if "reload rejected" in line]
    reloaded = [line for line in lines if "INFO" in line and " reloaded " in line]
    assert rejected and reloaded
