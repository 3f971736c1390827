"""``listen.wake_word.engine: wyoming``: the listen loop's detector is a Wyoming wake-word server (ours here,
with the bundled micro models: wyoming-openwakeword is not in the test install); the server going away and
coming back; the daemon's config building it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config.schema import ConfigError, validate
from assistant.hearing.wake_word import Detection, WakeWords
from assistant.remote.wyoming.backends import Backends
from assistant.remote.wyoming.framing import Address
from assistant.remote.wyoming.server import ServerThread, WyomingServer
from assistant.remote.wyoming.wake_client import WyomingWakeWords
from support.paths import DATA
from support.wyoming_peer import free_port, wav_pcm

FRAME = 960  # 30 ms of 16 kHz int16
WAIT_S = 60.0  # an upper bound for the server's answers, not a timing assertion


def _wake() -> WakeWords:
    return WakeWords("micro", ["hey_mycroft", "okay_nabu"])


def _server(port: int = 0) -> ServerThread:
    return ServerThread(WyomingServer(Backends(wake=_wake), Address("127.0.0.1", port), zeroconf=False)).start()


@pytest.fixture
def server() -> Iterator[ServerThread]:
    thread = _server()
    try:
        yield thread
    finally:
        thread.stop()


def _connected(detector: WyomingWakeWords) -> None:
    assert detector.connected.wait(WAIT_S), "never connected"


def _listen(detector: WyomingWakeWords, wav: Path, silence_s: float = 1.5) -> list[Detection]:
    """Feed a recording frame by frame, then silence until the server has answered for all of it."""
    pcm, _, _, _ = wav_pcm(wav)
    pcm += bytes(int(silence_s * 32000))
    found = []
    for at in range(0, len(pcm), FRAME):
        detection = detector.feed(pcm[at:at + FRAME])
        if detection is not None:
            found.append(detection)
        time.sleep(0.002)  # the listen loop's pace is the mic's; this only lets the link keep up
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and not found:  # a detection still on its way back
        detection = detector.feed(bytes(FRAME))
        if detection is not None:
            found.append(detection)
        time.sleep(0.03)
    return found


def test_a_remote_wake_word_wakes_and_speech_does_not(server: ServerThread) -> None:
    detector = WyomingWakeWords(f"tcp://127.0.0.1:{server.server.port}", ["hey_mycroft", "okay_nabu"])
    try:
        _connected(detector)
        assert [(d.model, d.phrase, d.sure) for d in _listen(detector, DATA / "hey_mycroft_test.wav")] == [
            ("hey_mycroft", "Hey Mycroft", True)]
        assert _listen(detector, DATA / "negative_reference.wav") == []
    finally:
        detector.close()


def test_the_wake_server_going_away_and_coming_back(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    first = _server(port)
    detector = WyomingWakeWords(f"tcp://127.0.0.1:{port}", ["hey_mycroft"])
    try:
        _connected(detector)
        first.stop()  # the server goes away mid-stream
        deadline = time.monotonic() + WAIT_S
        while detector.connected.is_set() and time.monotonic() < deadline:
            detector.feed(bytes(FRAME))  # the listen loop goes on feeding; nothing raises
            time.sleep(0.03)
        assert not detector.connected.is_set()
        while "no wake word is heard until it is back" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)  # the client says so just after it lets go of the connection
        assert "no wake word is heard until it is back" in caplog.text
        second = _server(port)  # back: reconnected (after the backoff), and it wakes again
        try:
            _connected(detector)
            assert [d.model for d in _listen(detector, DATA / "hey_mycroft_test.wav")] == ["hey_mycroft"]
        finally:
            second.stop()
    finally:
        detector.close()


def test_the_config_builds_a_wyoming_wake_word_detector(server: ServerThread) -> None:
    from assistant.app.build import build_wake_listening

    config = validate({"listen": {"mode": "wake_word", "wake_word": {
        "engine": "wyoming", "uri": f"tcp://127.0.0.1:{server.server.port}", "models": ["hey_mycroft"]}}})
    wake = build_wake_listening(config, recognizer=None)  # type: ignore[arg-type]  # no confirmation asked for
    assert wake is not None and isinstance(wake.detector, WyomingWakeWords)
    wake.close()
    bad = validate({"listen": {"mode": "wake_word", "wake_word": {"engine": "wyoming", "uri": "10.0.0.2:10400"}}})
    with pytest.raises(ConfigError, match=r"listen\.wake_word\.uri"):
        build_wake_listening(bad, recognizer=None)  # type: ignore[arg-type]
