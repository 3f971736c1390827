"""What the echo gate learnt of the room, kept over restarts.

The gate needs ~2 s of our own voice in a room before it knows how much of that voice its filter leaves
(assistant/audio/echo_gate.py). Until then it wants a user talking over a reply louder, and in a reverberant
room misses some (1-7 of 39 in the bench): without this file every restart (an update, a reboot, a watchdog
restart) would begin that way again. The file is tagged with the mic and
speaker it was learnt with; other devices start afresh. Learning goes on after a load, so a
room that changed (furniture, the speaker moved) replaces what was saved within ~30 s of replies.

Bad files (hand-edited, cut by a power loss, another version) are set aside with a warning, never fatal.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.config.schema import AudioConfig
from assistant.config.service import ROOM_NAME, RoomConfig, state_path

log = logging.getLogger(__name__)

VERSION = 2  # 1: one value per frame (before the gate also compared bands)
Frames = Sequence[Sequence[float]]  # per frame of our voice: what the gate learnt (EchoGate.room)


def room_key(audio: AudioConfig) -> str:
    """What a learnt room depends on: the mic and the speaker. Not the volume: the gate learns our voice's
    leftover relative to its echo, which scales with it; not the voice either."""
    return json.dumps({"source": audio.source, "input": audio.input_device, "sink": audio.sink,
                       "output": audio.output_device}, sort_keys=True)


def _rounded(leaks: Frames) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(round(float(x), 2) for x in frame) for frame in leaks)


class RoomMemory:
    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self._saved: tuple[tuple[float, ...], ...] = ()
        self._warned = False

    @classmethod
    def from_config(cls, config: RoomConfig, key: str) -> RoomMemory | None:
        return cls(state_path(ROOM_NAME, config.path), key) if config.enabled else None

    def load(self) -> list[Any]:
        """The learnt room saved for these devices, or [] (none yet, other devices, or a bad file)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            log.warning("echo gate: cannot read the saved room %s (%s): learning it again", self.path, exc)
            return []
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("leaks"), list):
            log.warning("echo gate: %s is not a saved room of this version: learning it again", self.path)
            return []
        if data.get("key") != self.key:
            log.info("echo gate: the saved room was learnt with another mic or speaker: learning this one")
            return []
        leaks: list[Any] = data["leaks"]
        try:
            self._saved = _rounded(leaks)
        except (TypeError, ValueError):
            self._saved = ()
        return leaks  # the gate drops what is not a frame of numbers

    def save(self, leaks: Frames) -> None:
        """Write the room if it changed since the last save or load; atomic, so a crash leaves the old one."""
        rounded = _rounded(leaks)
        if not rounded or rounded == self._saved:
            return
        data = {"version": VERSION, "key": self.key, "saved_at": time.time(), "leaks": list(rounded)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".room-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            if not self._warned:  # a read-only or full disk costs the next restart some learning, nothing more
                log.warning("echo gate: cannot save the learnt room to %s: %s", self.path, exc)
                self._warned = True
            return
        self._saved = rounded
