"""Enrolled voices on disk: embeddings only, never audio, in one file only its owner can read (0600).

The file is ``voices.json`` in the state directory ($STATE_DIRECTORY, else $XDG_STATE_HOME/assistant):
``{"version": 1, "encoder": "resemblyzer-0.1.4", "voices": {"alice": {"embeddings": [[256 floats],
...], "enrolled_at": epoch_s}}}``, one embedding per enrolment utterance. It is written whole to a
temporary file created 0600, then renamed over the old one, so a crash never leaves half a file and the
embeddings are never readable by others, even for a moment.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.config.service import state_path
from assistant.config.speakers import speaker_name
from assistant.hearing.speakers.encoder import EMBEDDING_SIZE
from assistant.hearing.speakers.frontend import Floats

VOICES_NAME = "voices.json"
ENCODER = "resemblyzer-0.1.4"


class VoiceStoreError(Exception):
    """The voices file can't be read or written, or a name is not allowed: one plain sentence."""


def valid_name(name: str) -> str:
    """A person's name as stored and compared (config.speakers.speaker_name: lower case, a letter first)."""
    try:
        return speaker_name(name)
    except ValueError as exc:
        raise VoiceStoreError(str(exc)) from None


@dataclass(frozen=True)
class Voice:
    name: str
    embeddings: tuple[Floats, ...]  # one per enrolment utterance, each of unit length
    enrolled_at: float


class VoiceStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_path(VOICES_NAME)

    def load(self) -> dict[str, Voice]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise VoiceStoreError(f"cannot read the enrolled voices in {self.path}: {exc}") from None
        try:
            voices = {}
            for name, entry in data["voices"].items():
                embeddings = tuple(np.asarray(e, dtype=np.float32) for e in entry["embeddings"])
                if not embeddings or any(e.shape != (EMBEDDING_SIZE,) for e in embeddings):
                    raise ValueError(f"{name}: embeddings of the wrong size")
                voices[name] = Voice(name, embeddings, float(entry["enrolled_at"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise VoiceStoreError(f"{self.path} is not a voices file ({exc}): remove it and enrol again") from None
        return voices

    def _save(self, voices: dict[str, Voice]) -> None:
        payload = {"version": 1, "encoder": ENCODER, "voices": {
            v.name: {"embeddings": [[round(float(x), 6) for x in e] for e in v.embeddings],
                     "enrolled_at": v.enrolled_at} for v in voices.values()}}
        partial = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(payload, out)
            os.chmod(partial, 0o600)  # whatever the umask
            os.replace(partial, self.path)
        except OSError as exc:
            raise VoiceStoreError(f"cannot write the enrolled voices to {self.path}: {exc}") from None

    def enroll(self, name: str, embeddings: list[Floats], *, add: bool = False) -> Voice:
        """Store ``name``'s voice (replacing it, or with ``add`` adding to what was enrolled before)."""
        key = valid_name(name)
        voices = self.load()
        before = voices[key].embeddings if add and key in voices else ()
        voice = Voice(key, (*before, *(np.asarray(e, dtype=np.float32) for e in embeddings)), time.time())
        voices[key] = voice
        self._save(voices)
        return voice

    def remove(self, name: str) -> bool:
        voices = self.load()
        if voices.pop(valid_name(name), None) is None:
            return False
        self._save(voices)
        return True

