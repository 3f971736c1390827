"""``tts.engine: wyoming``: a Synthesizer whose voice runs on a Wyoming server (wyoming-piper, ours, ...).

The Speaker hands over one sentence at a time, and plays it while the next one is made. While the server
is down, a local engine (tts.fallback) speaks, else the sentence fails in plain words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStop
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from assistant.events import SAMPLE_WIDTH
from assistant.remote.wyoming.link import Connection, Link, RemoteError
from assistant.speech.base import SynthesisError, Synthesizer

log = logging.getLogger(__name__)


class WyomingSynthesizer:
    name = "wyoming"

    def __init__(self, uri: str, *, voice: str | None = None, timeout_s: float = 15.0,
                 fallback: Callable[[], Synthesizer] | None = None) -> None:
        self.link = Link("voice", uri, timeout_s)
        self.voice = voice
        self._fallback: Synthesizer | None = fallback() if fallback is not None else None

    def voices(self) -> list[dict[str, str]]:
        try:
            info = self.link.call(self._describe)
        except RemoteError as exc:
            raise SynthesisError(str(exc)) from None
        return [{"id": v.name, "name": v.description or v.name, "languages": ",".join(v.languages)}
                for program in info.tts for v in program.voices]

    @staticmethod
    async def _describe(connection: Connection) -> Info:
        await connection.write(Describe().event())
        while True:
            event = await connection.read()
            if Info.is_type(event.type):
                return Info.from_event(event)

    def synthesize(self, text: str) -> tuple[bytes, int]:
        text = text.strip()
        if not text:
            return b"", 16000
        try:
            return self.link.call(lambda connection: self._remote(connection, text))
        except RemoteError as exc:
            if self._fallback is None:
                raise SynthesisError(str(exc)) from None
            log.warning("%s: the local %s voice speaks instead", exc, self._fallback.name)
            return self._fallback.synthesize(text)

    async def _remote(self, connection: Connection, text: str) -> tuple[bytes, int]:
        voice = SynthesizeVoice(name=self.voice) if self.voice else None
        await connection.write(Synthesize(text=text, voice=voice).event())
        pcm = bytearray()
        converter: AudioChunkConverter | None = None
        rate = 0
        while True:
            event = await connection.read()
            if AudioChunk.is_type(event.type):
                chunk = AudioChunk.from_event(event)
                if converter is None:  # the first chunk sets the rate; mono int16 for our sinks
                    rate = chunk.rate
                    converter = AudioChunkConverter(rate=rate, width=SAMPLE_WIDTH, channels=1)
                pcm += converter.convert(chunk).audio
            elif AudioStop.is_type(event.type):
                return bytes(pcm), rate or 16000
