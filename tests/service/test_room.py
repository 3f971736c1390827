"""The echo gate's learnt room on disk: kept over restarts, never a reason to fail."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from assistant.audio.echo_gate import EchoGate
from assistant.audio.room_leftover import LEAK_MIN_FRAMES
from assistant.config.schema import AudioConfig
from assistant.config.service import RoomConfig
from assistant.service.room import RoomMemory, room_key


def test_a_saved_room_loads_for_the_same_devices_only(tmp_path: Path) -> None:
    key = room_key(AudioConfig())
    path = tmp_path / "state" / "room.json"
    RoomMemory(path, key).save([(-21.234, -3.0), (-19.5, -2.555)] * 40)
    assert RoomMemory(path, key).load() == [[-21.23, -3.0], [-19.5, -2.56]] * 40
    assert RoomMemory(path, room_key(AudioConfig(input_device="USB"))).load() == []
    assert RoomMemory(path, room_key(AudioConfig(sink="null"))).load() == []
    assert [p.name for p in path.parent.iterdir()] == ["room.json"]  # no temporary file left behind


def test_an_unchanged_room_is_not_rewritten(tmp_path: Path) -> None:
    memory = RoomMemory(tmp_path / "room.json", "k")
    memory.save([(-20.0, -1.0)] * 70)
    os.utime(memory.path, (1, 1))
    memory.save([(-20.0, -1.0)] * 70)
    assert memory.path.stat().st_mtime == 1
    loaded = RoomMemory(memory.path, "k")
    loaded.save(loaded.load())  # what it just read
    assert memory.path.stat().st_mtime == 1
    memory.save([(-20.0, -1.0)] * 71)
    assert memory.path.stat().st_mtime > 1


@pytest.mark.parametrize("text", ["{not json", '{"version": 99, "key": "k", "leaks": []}', '["a list"]',
                                  '{"version": 1, "key": "k", "leaks": [-20.0, -21.0]}',  # before bands
                                  '{"version": 1, "key": "k", "leaks": "many"}', "\udcff"])
def test_a_bad_file_is_relearnt_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str) -> None:
    path = tmp_path / "room.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with caplog.at_level(logging.WARNING):
        assert RoomMemory(path, "k").load() == []
    assert "learning it again" in caplog.text


def test_values_that_are_not_decibels_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "room.json"
    frames = [[-20.0, -1.0], [-20.0, "x"], None, -18.5, [1e308, 0.0], [True, 1.0], [-18.5, -2.0], [1.0, 2.0, 3.0]]
    path.write_text(json.dumps({"version": 2, "key": "k", "leaks": frames * 40}))
    gate = EchoGate()
    assert gate.learn_room(RoomMemory(path, "k").load()) == 80
    assert gate.learnt and gate.room == [(-20.0, -1.0), (-18.5, -2.0)] * 40 and len(gate.room) >= LEAK_MIN_FRAMES


def test_an_unwritable_place_warns_once_and_costs_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    memory = RoomMemory(blocker / "room.json", "k")  # its folder cannot be made
    with caplog.at_level(logging.WARNING):
        memory.save([(-20.0, -1.0)] * 70)
        memory.save([(-21.0, -1.0)] * 70)
    assert caplog.text.count("cannot save the learnt room") == 1


def test_where_it_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    memory = RoomMemory.from_config(RoomConfig(), "k")
    assert memory is not None and memory.path == tmp_path / "xdg" / "assistant" / "room.json"
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path / 'unit'}:/elsewhere")  # systemd's StateDirectory=
    memory = RoomMemory.from_config(RoomConfig(), "k")
    assert memory is not None and memory.path == tmp_path / "unit" / "room.json"
    assert RoomMemory.from_config(RoomConfig(enabled=False), "k") is None
    memory = RoomMemory.from_config(RoomConfig(path=str(tmp_path / "mine.json")), "k")
    assert memory is not None and memory.path == tmp_path / "mine.json"

