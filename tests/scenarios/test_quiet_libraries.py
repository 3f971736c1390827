"""Third-party libraries never write to the user's terminal unasked: llama.cpp, CTranslate2 and onnxruntime
(Silero, Smart Turn) are loaded for real here, and stderr holds only the assistant's own log lines."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import run_cli
from support.paths import REPO

pytestmark = pytest.mark.slow

DEMO = REPO / "assistant" / "data" / "demo.wav"
OUR_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) assistant(\.[\w.]+)?: ")


def test_ask_prints_the_answer_and_nothing_else() -> None:
    result = run_cli("ask", "What is the capital of Italy?")
    assert result.returncode == 0, result.stderr
    assert "Rome" in result.stdout
    assert result.stderr == ""


def test_simulate_prints_turns_and_nothing_else(tmp_path: Path) -> None:
    result = run_cli("simulate", str(DEMO), "--output", str(tmp_path / "reply.wav"))
    assert result.returncode == 0, result.stderr
    assert "Rome" in result.stdout
    assert result.stderr == ""


def test_run_logs_only_its_own_lines(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"audio: {{source: wav, input_wav: {DEMO}, sink: 'null'}}\n"
        f"service:\n  control: {{socket: {tmp_path / 'control.sock'}}}\n"
        f"  history: {{path: {tmp_path / 'history.db'}}}\n  room: {{path: {tmp_path / 'room.json'}}}\n"
    )
    process = subprocess.Popen([sys.executable, "-m", "assistant", "--config", str(config), "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        assert process.stderr is not None
        for line in process.stderr:  # the wav source ends after both turns
            lines.append(line.rstrip("\n"))
            if "audio source ended" in line:
                break
    finally:
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    lines += rest.splitlines()
    assert sum("handled_by=llm" in line for line in lines) == 1, lines
    strangers = [line for line in lines if not OUR_LINE.match(line)]
    assert not strangers, strangers
