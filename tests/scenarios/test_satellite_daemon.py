"""`assistant run` as a Home Assistant satellite: the daemon serves the ESPHome API once it is listening,
Home Assistant's client finds the device, SIGTERM stops both cleanly; a taken port is one line and exit 1."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
from aioesphomeapi import APIClient

from support.daemon import DaemonLog
from support.esphome import free_port
from support.wav import write_wav


def config_file(tmp_path: Path, port: int) -> Path:
    silence = write_wav(tmp_path / "silence.wav", np.zeros(16000 * 120, dtype=np.int16))
    config = {
        "audio": {"source": "wav", "input_wav": str(silence), "sink": "null"},
        "tts": {"engine": "null"}, "llm": {"backend": "none"},
        "listen": {"mode": "wake_word", "wake_word": {"models": ["hey_mycroft"]}},
        "service": {"control": {"enabled": False}, "history": {"enabled": False}, "room": {"enabled": False}},
        "satellite": {"esphome": {"enabled": True, "host": "127.0.0.1", "port": port, "name": "kitchen"}},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def start(config: Path) -> tuple[subprocess.Popen[str], DaemonLog]:
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "--config", str(config), "run"],
                            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, DaemonLog(proc)


def test_the_daemon_is_a_satellite(tmp_path: Path) -> None:
    port = free_port()
    proc, log = start(config_file(tmp_path, port))
    try:
        log.wait_for("listening on", timeout=120)
        assert f"ESPHome API: kitchen on 127.0.0.1:{port} (plaintext), brain: home_assistant" in "\n".join(log.lines)

        async def session() -> str:
            client = APIClient("127.0.0.1", port, None)
            await client.connect(login=True)
            name = (await client.device_info()).name
            await client.disconnect()
            return name

        assert asyncio.run(session()) == "kitchen"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    log.finish()
    with socket.socket() as probe:  # nobody listens there any more (a restarted daemon, like this, reuses it)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()


def test_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc, log = start(config_file(tmp_path, port))
        try:
            assert proc.wait(180) == 1
        finally:
            if proc.poll() is None:
                proc.kill()
        lines = log.finish()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, lines
    assert errors[0].startswith(f"error: cannot serve the ESPHome API on 127.0.0.1:{port}: ")
    assert "address already in use" in errors[0] and errors[0].endswith("set satellite.esphome.port)")
    assert not any("Traceback" in line for line in lines)
