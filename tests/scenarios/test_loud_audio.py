"""Loud noise, music and clipped speech through the whole pipeline (`assistant simulate` and `assistant run`,
default config: Silero and speculative recognition on): the process ends cleanly every time. 20 s of
full-scale noise used to crash it at exit (SIGSEGV), when Silero dropped the utterance while its speculative
transcription still ran in CTranslate2 on another thread. A crash in native code is never silent: the daemon
writes every thread's stack to its log, and the unit restarts it."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from support.cli import run_cli
from support.daemon import DaemonLog
from support.paths import DATA, REPO
from support.wav import read_wav, write_wav

pytestmark = pytest.mark.slow


def noise(path: Path, seconds: float = 20.0) -> Path:
    rng = np.random.default_rng(7)
    return write_wav(path, (rng.uniform(-1, 1, int(16000 * seconds)) * 32767).astype(np.int16))


def clipped_speech(path: Path) -> Path:
    pcm, rate = read_wav(DATA / "turn_on_the_living_room_lamp.wav")
    loud = np.clip(pcm.astype(np.int64) * 30, -32768, 32767).astype(np.int16)  # +30 dB, hard clipped
    return write_wav(path, np.concatenate([loud, np.zeros(rate, dtype=np.int16)]), rate)


LOUD = pytest.mark.parametrize("make", [noise, clipped_speech,
                                        lambda tmp: DATA / "music_song_with_vocals_lets_go_fishin.wav",
                                        lambda tmp: DATA / "speechbrain_noise4.wav"],
                               ids=["full-scale noise", "clipped speech", "song", "whistle and noise"])


@LOUD
def test_the_pipeline_survives_loud_audio(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    recording = make(tmp_path / "input.wav")
    for _ in range(2):  # the crash came at exit, not every time on every machine
        result = run_cli("simulate", str(recording), "--output", str(tmp_path / "reply.wav"), timeout=300)
        assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr and "Fatal Python error" not in result.stderr


@LOUD
def test_the_daemon_survives_loud_audio_and_records_every_turn(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    recording, history = make(tmp_path / "input.wav"), tmp_path / "history.db"
    config = tmp_path / "assistant.yaml"
    config.write_text(f"audio: {{source: wav, input_wav: {json.dumps(str(recording))}, sink: 'null'}}\n"
                      f"service: {{control: {{enabled: false}}, room: {{enabled: false}}, "
                      f"history: {{path: {json.dumps(str(history))}}}}}\n"
                      "logging: {level: INFO}\n")
    result = run_cli("--config", str(config), "run", timeout=300)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr and "Fatal Python error" not in result.stderr
    assert "audio source ended" in result.stderr  # it ran to the end of the recording, not into an error
    logged = result.stderr.count("assistant.turn: turn ")
    with sqlite3.connect(history) as db:
        recorded = db.execute("SELECT count(*) FROM turns").fetchone()[0]
    assert recorded == logged, result.stderr[-3000:]  # every turn it logged, it recorded


def test_a_native_crash_is_not_silent(tmp_path: Path) -> None:
    """What a segfault in CTranslate2 or onnxruntime leaves: the stacks of all threads, in the daemon's log."""
    config = tmp_path / "assistant.yaml"
    config.write_text("audio: {source: stdin, sink: 'null'}\nllm: {backend: none}\n"
                      "service: {control: {enabled: false}, history: {enabled: false}, room: {enabled: false}}\n")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "--config", str(config), "run"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = DaemonLog(proc)
    try:
        log.wait_for("listening on", timeout=120)
        proc.send_signal(signal.SIGSEGV)
        assert proc.wait(30) == -signal.SIGSEGV
    finally:
        if proc.poll() is None:
            proc.kill()
    text = "\n".join(log.finish())
    assert "Fatal Python error: Segmentation fault" in text
    assert text.count("Thread 0x") >= 3, text[-3000:]  # the audio, pipeline and watchdog threads at least
    unit = (REPO / "systemd" / "assistant.service").read_text()
    assert "Restart=on-failure" in unit.splitlines()
