"""Shared fixtures: test data, the real Whisper model (loaded once), a private PulseAudio server.

Helpers that tests import live in support/ (on the path through pyproject's pytest `pythonpath`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config.schema import AsrConfig
from support.paths import DATA
from support.vaudio import VirtualAudio

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


@pytest.fixture
def room_echo(vaudio: VirtualAudio) -> Iterator[None]:
    """Everything the assistant plays comes back into its microphone at full level, as in a room."""
    module = vaudio.loop_speaker_into_mic()
    try:
        yield
    finally:
        vaudio.unload(module)
