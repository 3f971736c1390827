"""Shared fixtures: test data, the real Whisper model (loaded once), a private PulseAudio server."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from vaudio import VirtualAudio

from assistant.config.schema import AsrConfig

DATA = Path(__file__).parent / "data"
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a model hub


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def recognizer():  # type: ignore[no-untyped-def]
    from assistant.hearing.whisper import WhisperRecognizer

    return WhisperRecognizer(AsrConfig())


@pytest.fixture(scope="session")
def vaudio() -> Iterator[VirtualAudio]:
    """A private PulseAudio server; this process's PortAudio (and its children) use it."""
    server = VirtualAudio().start()
    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = server.server
    try:
        yield server
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = previous


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return data, wav.getframerate()


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return path


def run_service_cli(argv: list[str]) -> int:
    """The service verbs (status, history, ...) in-process, so a test can catch their UserError."""
    import argparse

    from assistant.cli import service as service_cli

    parser = argparse.ArgumentParser(prog="assistant")
    parser.add_argument("-c", "--config")
    service_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m assistant ...` as a user would, capturing its output."""
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, input=input.decode() if input is not None else None)


@pytest.fixture
def room_echo(vaudio: VirtualAudio) -> Iterator[None]:
    """Everything the assistant plays comes back into its microphone at full level, as in a room."""
    module = vaudio.loop_speaker_into_mic()
    try:
        yield
    finally:
        vaudio.unload(module)
