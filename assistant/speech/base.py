"""The synthesizer interface the pipeline speaks through."""

from __future__ import annotations

from typing import Protocol


class Synthesizer(Protocol):
    name: str

    def synthesize(self, text: str) -> tuple[bytes, int]:
        """Speak ``text`` into int16 mono PCM; return (pcm, sample_rate). Empty text gives empty PCM."""
        ...

    def voices(self) -> list[dict[str, str]]: ...


class SynthesisError(Exception):
    """The synthesizer failed or was misconfigured; the message is one plain sentence."""


class SilentSynthesizer:
    """Produces no audio (``tts.engine: null``): replies are logged and printed only."""

    name = "null"

    def synthesize(self, text: str) -> tuple[bytes, int]:
        return b"", 16000

    def voices(self) -> list[dict[str, str]]:
        return []
