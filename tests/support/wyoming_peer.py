"""The other side of a Wyoming connection in tests, with the ``wyoming`` library's own client."""

from __future__ import annotations

import asyncio
import socket
import wave
from dataclasses import dataclass, field
from pathlib import Path

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped
from wyoming.wake import Detect

TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wav_pcm(path: Path) -> tuple[bytes, int, int, int]:
    with wave.open(str(path), "rb") as wav:
        return wav.readframes(wav.getnframes()), wav.getframerate(), wav.getsampwidth(), wav.getnchannels()


@dataclass
class Voice:
    rate: int = 0
    pcm: bytearray = field(default_factory=bytearray)
    events: list[str] = field(default_factory=list)


async def _read(client: AsyncTcpClient) -> Event:
    event = await asyncio.wait_for(client.read_event(), TIMEOUT_S)
    assert event is not None, "the server closed the connection"
    return event


async def describe(port: int) -> dict[str, object]:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        event = await _read(client)
        assert event.type == "info"
        return dict(event.data)


async def send_audio(client: AsyncTcpClient, pcm: bytes, rate: int, width: int = 2, channels: int = 1,
                     chunk: int = 4096) -> None:
    await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
    for at in range(0, len(pcm), chunk):
        piece = pcm[at:at + chunk]
        await client.write_event(AudioChunk(rate=rate, width=width, channels=channels, audio=piece).event())
    await client.write_event(AudioStop().event())


async def transcribe(port: int, wav: Path) -> str:
    pcm, rate, width, channels = wav_pcm(wav)
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await send_audio(client, pcm, rate, width, channels)
        while True:
            event = await _read(client)
            if Transcript.is_type(event.type):
                return Transcript.from_event(event).text
            assert event.type.startswith("transcript"), event


async def _voice(client: AsyncTcpClient, voice: Voice, until: str) -> Voice:
    while True:
        event = await _read(client)
        voice.events.append(event.type)
        if AudioChunk.is_type(event.type):
            chunk = AudioChunk.from_event(event)
            voice.rate = chunk.rate
            voice.pcm += chunk.audio
        if event.type == until:
            return voice


async def synthesize(port: int, text: str) -> Voice:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Synthesize(text=text).event())
        return await _voice(client, Voice(), AudioStop().event().type)


async def synthesize_streamed(port: int, pieces: list[str]) -> tuple[Voice, list[str]]:
    """Send ``pieces`` as a synthesize stream; also what had come back before synthesize-stop was sent."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(SynthesizeStart().event())
        for piece in pieces:
            await client.write_event(SynthesizeChunk(text=piece).event())
        voice = Voice()
        # the first complete sentence is spoken before the stream ends
        while not voice.pcm:
            await _voice(client, voice, "audio-chunk")
        before_stop = list(voice.events)
        await client.write_event(Synthesize(text="".join(pieces)).event())  # sent for old servers: ignored
        await client.write_event(SynthesizeStop().event())
        await _voice(client, voice, SynthesizeStopped().event().type)
        return voice, before_stop


async def detect(port: int, wav: Path, names: list[str] | None = None) -> Event:
    pcm, rate, width, channels = wav_pcm(wav)
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Detect(names=names).event())
        await send_audio(client, pcm, rate, width, channels, chunk=2560)
        while True:
            event = await _read(client)
            if event.type in ("detection", "not-detected", "error"):
                return event
