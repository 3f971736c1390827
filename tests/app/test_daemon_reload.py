"""The daemon's reload with a deadline: a reload stuck building its stages is abandoned, the running config
and stages stay, the next reload works, and the stuck one, when it ends at last, changes nothing."""

from __future__ import annotations

import argparse
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import assistant.app.daemon as daemon_module
from assistant.app.daemon import Daemon
from support.paths import DATA

CONFIG = """\
audio: {{source: wav, input_wav: {wav}, sink: 'null'}}
llm: {{backend: none}}
tts: {{engine: 'null'}}
vad: {{hangover_ms: {hangover}}}
service: {{control: {{enabled: false}}, history: {{enabled: false}}, room: {{enabled: false}}, reload_timeout_s: 1}}
"""


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    config = tmp_path / "assistant.yaml"
    config.write_text(CONFIG.format(wav=DATA / "what_time_is_it_espeak.wav", hangover=300))
    daemon = Daemon(argparse.Namespace(config=str(config)))
    daemon.build()
    stop = threading.Event()
    threading.Thread(target=daemon.reloads.run, args=(stop,), daemon=True).start()
    yield daemon
    stop.set()
    assert daemon.pipeline is not None
    daemon.pipeline.close()


def test_a_stuck_reload_is_abandoned_and_changes_nothing_when_it_ends(
        daemon: Daemon, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert daemon.pipeline is not None and daemon.config_path is not None
    running_stages, hung = daemon.pipeline.stages, threading.Event()
    real_build = daemon_module.build_stages

    def build_on_a_hung_share(*args: Any, **kwargs: Any) -> Any:
        hung.wait(30)  # a model file on a network share that stopped answering
        return real_build(*args, **kwargs)

    monkeypatch.setattr(daemon_module, "build_stages", build_on_a_hung_share)
    monkeypatch.setattr(daemon_module, "SWAP_WAIT_S", 0.1)  # no audio runs here to take the new stages up
    daemon.config_path.write_text(CONFIG.format(wav=DATA / "what_time_is_it_espeak.wav", hangover=450))
    started = time.monotonic()
    result = daemon.reloads.request()
    assert result["reloaded"] is False and "did not finish within 1 s and was abandoned" in result["problems"][0]
    assert time.monotonic() - started < 10
    assert daemon.pipeline.stages is running_stages and daemon.config.vad.hangover_ms == 300

    hung.set()  # the share answers again: the abandoned reload finishes its build...
    deadline = time.monotonic() + 60
    while "finished late; it changed nothing" not in caplog.text:
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)
    assert daemon.pipeline.stages is running_stages and daemon.config.vad.hangover_ms == 300  # ...in vain

    monkeypatch.setattr(daemon_module, "build_stages", real_build)
    assert daemon.reloads.request() == {"reloaded": True, "changed": ["vad"]}  # the next reload is not blocked
    assert daemon.config.vad.hangover_ms == 450


def test_a_file_caught_empty_mid_write_is_refused_and_an_explicit_empty_mapping_is_not(daemon: Daemon) -> None:
    # An editor or script that truncates, then writes: a reload between the two must not swap in all the
    # defaults (the default microphone in place of the configured one, no commands).
    assert daemon.pipeline is not None and daemon.config_path is not None
    running_stages = daemon.pipeline.stages
    daemon.config_path.write_text("")
    result = daemon.reloads.request()
    assert result["reloaded"] is False and "empty" in result["problems"][0]
    assert daemon.pipeline.stages is running_stages and daemon.config.audio.source == "wav"
    daemon.config_path.write_text(CONFIG.format(wav=DATA / "what_time_is_it_espeak.wav", hangover=450))
    assert daemon.reloads.request() == {"reloaded": True, "changed": ["vad"]}
