"""``asr.engine: wyoming``: a Recognizer whose Whisper (or any speech-to-text) runs on a Wyoming server.

Streaming servers answer with transcript-start/chunk/stop before the final transcript: the chunks are kept
as the transcript's segments. While the server is down, a local recognizer (asr.fallback) answers, else
the turn fails with one plain sentence (the pipeline plays the error earcon and apologises).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from wyoming.asr import Transcribe, TranscriptChunk, TranscriptStart
from wyoming.asr import Transcript as WyomingTranscript
from wyoming.audio import AudioChunk, AudioStart, AudioStop

from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH, Transcript, TranscriptSegment
from assistant.hearing.whisper import Recognizer
from assistant.remote.wyoming.link import Connection, Link, RemoteError

log = logging.getLogger(__name__)

CHUNK_BYTES = SAMPLE_RATE * SAMPLE_WIDTH // 10  # 100 ms per audio-chunk


def prompt_terms(initial_prompt: str | None) -> list[str] | None:
    """Our vocabulary prompt ("Lumière lamp, Spotify.") as the terms Wyoming's transcribe event carries."""
    terms = [t.strip() for t in (initial_prompt or "").rstrip(".").split(",") if t.strip()]
    return terms or None


class WyomingRecognizer:
    def __init__(self, uri: str, *, timeout_s: float = 15.0, language: str | None = "en",
                 fallback: Callable[[], Recognizer] | None = None) -> None:
        self.link = Link("speech recognizer", uri, timeout_s)
        self.language = language
        self.model_name = f"wyoming {self.link.address}"
        self._fallback_factory = fallback
        self._fallback: Recognizer | None = fallback() if fallback is not None else None  # loaded now, not mid-turn

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        started = time.monotonic()
        try:
            text, pieces = self.link.call(lambda connection: self._remote(connection, pcm, initial_prompt))
        except RemoteError as exc:
            if self._fallback is None:
                raise
            log.warning("%s: the local %s transcribes instead", exc, self._fallback.model_name)
            return self._fallback.transcribe(pcm, vad_filter=vad_filter, initial_prompt=initial_prompt)
        segments = tuple(TranscriptSegment(start=0.0, end=0.0, text=p) for p in pieces if p.strip())
        if not segments and text:
            duration = round(len(pcm) / (SAMPLE_RATE * SAMPLE_WIDTH), 3)
            segments = (TranscriptSegment(start=0.0, end=duration, text=text),)
        return Transcript(text=text, segments=segments, model=self.model_name, asr_s=time.monotonic() - started,
                          language=self.language or "")

    async def _remote(self, connection: Connection, pcm: bytes, initial_prompt: str | None) -> tuple[str, list[str]]:
        terms = prompt_terms(initial_prompt)
        await connection.write(Transcribe(language=self.language, transcript_terms=terms).event())
        await connection.write(AudioStart(rate=SAMPLE_RATE, width=SAMPLE_WIDTH, channels=1).event())
        for at in range(0, len(pcm), CHUNK_BYTES):
            await connection.write(AudioChunk(rate=SAMPLE_RATE, width=SAMPLE_WIDTH, channels=1,
                                              audio=pcm[at:at + CHUNK_BYTES]).event())
        await connection.write(AudioStop().event())
        pieces: list[str] = []
        while True:
            event = await connection.read()
            if WyomingTranscript.is_type(event.type):
                return WyomingTranscript.from_event(event).text.strip(), pieces
            if TranscriptChunk.is_type(event.type):
                pieces.append(TranscriptChunk.from_event(event).text)
            elif TranscriptStart.is_type(event.type):
                pieces.clear()
