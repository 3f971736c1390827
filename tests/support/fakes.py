"""Stand-ins for the pipeline's parts (recognizer, router, voice, loudspeaker) that need no model or device."""

from __future__ import annotations

import threading
import time

from assistant.events import Reply, Transcript, TranscriptSegment
from assistant.turn.pipeline import Pipeline

BEEP = bytes(range(256)) * 40  # a stand-in for synthesized speech: any non-empty PCM


class Heard:
    """A recognizer that hears the same text in every utterance."""

    model_name = "fake"

    def __init__(self, text: str) -> None:
        self.text = text

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        return Transcript(self.text, (TranscriptSegment(0.0, 1.0, self.text),), "fake", 0.01)


class Answers:
    def route(self, text: str, scorer: object = None, context: object = None) -> Reply:
        return Reply("It's noon.", "skill", "time")

    def is_complete_request(self, text: str) -> bool:
        return False

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


class Voice:
    name = "fake"

    def synthesize(self, text: str) -> tuple[bytes, int]:
        return BEEP, 16000

    def voices(self) -> list[dict[str, str]]:
        return []


class RoomSink:
    """An audible sink (as a loudspeaker is) that notes what it played and whether the mic was gated then."""

    name = "room"
    audible = True

    def __init__(self) -> None:
        self.pipeline: Pipeline | None = None
        self.played: list[tuple[bytes, bool]] = []

    def play(self, pcm: bytes, rate: int, cancelled: threading.Event | None = None) -> float | None:
        assert self.pipeline is not None
        now = time.monotonic()
        self.played.append((pcm, self.pipeline.deaf_at(now)))
        return now

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass
