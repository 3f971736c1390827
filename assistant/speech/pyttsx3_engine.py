"""pyttsx3 (espeak-ng) synthesis to PCM, never through pyttsx3's own playback.

pyttsx3's ``say()`` shells out to ``aplay``: it can't be interrupted and hides its timing. We ask it
to save each text to a WAV file in a private temp folder, read the samples back, and play them
through our own sink. Quirks handled here (see shared/models.md): one ``save_to_file`` per
``runAndWait``; the first ``runAndWait`` after ``init`` returns before synthesising; the driver prints
"Audio saved to ..." on stdout (which would corrupt ``--json`` output); output is 22,050 Hz mono int16.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from assistant.config.schema import TtsConfig
from assistant.speech.base import SynthesisError

# pyttsx3 hands every caller the same espeak engine, and espeak can only be set up once per process: one
# engine for the process, kept alive here (pyttsx3's teardown of a collected engine unsets espeak's synthesis
# callback, and its next caller would get a new engine), and one synthesis at a time, each with its own settings
# (a reload's new voice while the old one finishes a sentence; a cut reply's look-ahead thread still running)
_ENGINE_LOCK = threading.RLock()

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Espeak:
    engine: Any  # pyttsx3.Engine
    default_voice: str | None
    wait_idle: Callable[[], object]  # espeak_Synchronize: returns once espeak's own thread has nothing queued


@cache
def _shared_engine() -> _Espeak:
    """The process's espeak engine and the voice it starts with, made on first use (hold ``_ENGINE_LOCK``)."""
    try:
        import pyttsx3
    except ImportError as exc:
        raise SynthesisError(f"pyttsx3 is not installed ({exc}): pip install pyttsx3") from None
    try:
        engine = pyttsx3.init("espeak")
        from pyttsx3.drivers import _espeak  # loaded by init; its Synchronize is not on pyttsx3's engine
    except (RuntimeError, OSError, ImportError) as exc:
        raise SynthesisError(f"espeak-ng could not start ({exc}): install it with apt-get install espeak-ng") \
            from None
    default_voice = engine.getProperty("voice")
    with contextlib.redirect_stdout(io.StringIO()):
        engine.runAndWait()  # the first loop after init returns at once; spend it here
    _espeak.Synchronize()
    return _Espeak(engine, default_voice, _espeak.Synchronize)


class Pyttsx3Synthesizer:
    name = "pyttsx3"

    def __init__(self, config: TtsConfig) -> None:
        with _ENGINE_LOCK:
            self._espeak = _shared_engine()
            self._engine, default_voice = self._espeak.engine, self._espeak.default_voice
            voice = self.find_voice(config.voice) if config.voice else None
        # set for every synthesis: the shared engine keeps whatever the last synthesizer used; the voice first,
        # as loading a voice is done at once while rate and volume wait in espeak's queue
        self._settings: dict[str, Any] = {"voice": voice or default_voice, "rate": config.rate,
                                          "volume": config.volume}

    def _use_settings(self) -> None:
        """Put the shared engine on this synthesizer's settings (hold ``_ENGINE_LOCK``).

        pyttsx3 runs espeak-ng in its asynchronous mode: rate and volume are queued for espeak's own thread, and
        pyttsx3 calls ``espeak_Cancel`` before each synthesis whenever that thread is still busy, which drops the
        queued settings and puts back the previous synthesis's. So wait for espeak to be idle here, and again after
        each synthesis, before the next caller changes the voice under the thread's feet (CI caught a reload's
        new voice speaking at the old one's rate).
        """
        for name, value in self._settings.items():
            if value is not None:
                self._engine.setProperty(name, value)
        self._espeak.wait_idle()

    def voices(self) -> list[dict[str, str]]:
        with _ENGINE_LOCK:  # espeak rereads its voice list: not while another thread synthesizes
            found = self._engine.getProperty("voices")
        return [{"id": str(v.id), "name": str(v.name), "languages": ",".join(map(str, v.languages or []))}
                for v in found]

    def find_voice(self, wanted: str) -> str:
        voices = self.voices()
        lowered = wanted.lower()
        for key in ("id", "name"):
            for voice in voices:
                if voice[key].lower() == lowered:
                    return voice["id"]
        for voice in voices:
            if lowered in voice["id"].lower() or lowered in voice["name"].lower():
                return voice["id"]
        raise SynthesisError(f"no voice matches {wanted!r}; `assistant voices` lists them (e.g. gmw/en-US)")

    def synthesize(self, text: str) -> tuple[bytes, int]:
        text = text.strip()
        if not text:
            return b"", 22050
        with _ENGINE_LOCK:
            self._use_settings()
            # A folder per synthesis, gone when it returns: one per synthesizer outlived every synthesizer
            # nobody closed (a reload's old one, tests), 322 of them in /tmp after a day of test runs.
            with tempfile.TemporaryDirectory(prefix="assistant-tts-") as folder:
                path = Path(folder) / "reply.wav"
                with contextlib.redirect_stdout(io.StringIO()):
                    self._engine.save_to_file(text, str(path))
                    self._engine.runAndWait()
                self._espeak.wait_idle()
                try:
                    with wave.open(str(path), "rb") as wav:
                        return wav.readframes(wav.getnframes()), wav.getframerate()
                except (FileNotFoundError, wave.Error, EOFError) as exc:
                    raise SynthesisError(f"espeak-ng produced no audio for {text[:40]!r}: {exc}") from None

    def close(self) -> None:
        """Nothing to free: the engine is shared, and each synthesis cleans up after itself."""
