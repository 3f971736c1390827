"""One client's connection to our Wyoming server: describe, transcribe, synthesize (whole or streamed), and
wake-word detection. The models run in worker threads, so one slow transcription never holds up another
client's I/O; one model call at a time per model (two cores: running two at once only slows both)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped
from wyoming.wake import Detect, Detection, NotDetected

from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH
from assistant.hearing.wake_word import Detection as WakeDetection
from assistant.hearing.wake_word import WakeWords
from assistant.remote.wyoming.backends import Backends, describe
from assistant.speech.text import split_sentences

log = logging.getLogger(__name__)

MAX_UTTERANCE_S = 60.0  # audio for one transcription; more is refused (a stuck client, not a request)
SAMPLES_PER_CHUNK = 1024  # audio-chunk size we send (wyoming-piper's default)
MAX_TEXT_CHARS = 20_000  # text for one synthesis

T = TypeVar("T")


class Locks:
    """One lock per model, shared by every connection."""

    def __init__(self) -> None:
        self.asr = asyncio.Lock()
        self.tts = asyncio.Lock()


class Session:
    def __init__(self, backends: Backends, locks: Locks, writer: asyncio.StreamWriter, peer: str) -> None:
        self.backends = backends
        self.locks = locks
        self.writer = writer
        self.peer = peer
        self._converter = AudioChunkConverter(rate=SAMPLE_RATE, width=SAMPLE_WIDTH, channels=1)
        self._audio = bytearray()
        self._in_audio = False
        self._language: str | None = None
        self._streaming_text: list[str] | None = None  # synthesize-start .. synthesize-stop
        self._voice_started = False
        self._wake: WakeWords | None = None
        self._wake_lock = threading.Lock()  # a feed still running in its worker thread when the client goes
        self._wake_wanted: bool = False
        self._wake_names: list[str] | None = None
        self._detected = False

    async def write(self, event: Event) -> None:
        await async_write_event(event, self.writer)

    async def _run(self, lock: asyncio.Lock | None, call: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        if lock is None:
            return await loop.run_in_executor(None, partial(call, *args))
        async with lock:
            return await loop.run_in_executor(None, partial(call, *args))

    async def handle(self, event: Event) -> bool:
        """Answer one event; False ends the connection."""
        if Describe.is_type(event.type):
            await self.write(describe(self.backends).event())
        elif Transcribe.is_type(event.type):
            self._language = Transcribe.from_event(event).language
        elif Detect.is_type(event.type):
            self._wake_wanted, self._wake_names = True, Detect.from_event(event).names
        elif AudioStart.is_type(event.type):
            await self._audio_start()
        elif AudioChunk.is_type(event.type):
            return await self._audio_chunk(AudioChunk.from_event(event))
        elif AudioStop.is_type(event.type):
            await self._audio_stop()
        elif Synthesize.is_type(event.type):
            if self._streaming_text is None:  # in a stream it repeats the whole text for old servers: ignore
                await self._speak(Synthesize.from_event(event).text, whole=True)
        elif SynthesizeStart.is_type(event.type):
            self._streaming_text, self._voice_started = [], False
        elif SynthesizeChunk.is_type(event.type):
            await self._stream_chunk(SynthesizeChunk.from_event(event).text)
        elif SynthesizeStop.is_type(event.type):
            await self._stream_stop()
        else:
            log.debug("wyoming %s: %s ignored", self.peer, event.type)
        return True

    # ---- audio in: transcription or wake-word detection --------------------------------------------------

    async def _audio_start(self) -> None:
        self._audio.clear()
        self._in_audio, self._detected = True, False
        if self._wake_wanted:
            if self.backends.wake is None:
                await self.write(Error(text="this server offers no wake-word detection", code="no-wake").event())
                self._wake_wanted = False
            elif self._wake is None:
                self._wake = await self._run(None, self.backends.wake)

    async def _audio_chunk(self, chunk: AudioChunk) -> bool:
        if not self._in_audio:
            return True  # chunks before audio-start (or after a refusal): nothing to do with them
        audio = self._converter.convert(chunk).audio
        if self._wake_wanted and self._wake is not None:
            found = await self._run(None, self._feed_wake, audio)  # its refractory time spaces detections
            if found is not None and (not self._wake_names or found.model in self._wake_names):
                self._detected = True
                await self.write(Detection(name=found.model, timestamp=int(found.end_s * 1000)).event())
            return True
        if len(self._audio) + len(audio) > MAX_UTTERANCE_S * SAMPLE_RATE * SAMPLE_WIDTH:
            log.warning("wyoming %s: more than %.0f s of audio for one transcription: dropped", self.peer,
                        MAX_UTTERANCE_S)
            await self.write(Error(text=f"more than {MAX_UTTERANCE_S:.0f} s of audio", code="too-long").event())
            return False
        self._audio += audio
        return True

    async def _audio_stop(self) -> None:
        if not self._in_audio:
            return
        self._in_audio = False
        if self._wake_wanted:
            if not self._detected:
                await self.write(NotDetected().event())
            with self._wake_lock:
                if self._wake is not None:
                    self._wake.reset()
            self._wake_wanted = False
            return
        await self._transcribe(bytes(self._audio))
        self._audio.clear()

    async def _transcribe(self, pcm: bytes) -> None:
        recognizer = self.backends.recognizer
        if recognizer is None:
            await self.write(Error(text="this server offers no speech recognition", code="no-asr").event())
            return
        started = time.monotonic()
        transcript = await self._run(self.locks.asr, partial(recognizer.transcribe,
                                                             initial_prompt=self.backends.initial_prompt), pcm)
        text = transcript.text.strip()
        if self.backends.guards is not None:
            verdict = self.backends.guards.check(transcript)
            if verdict.reason is not None:
                log.info("wyoming %s: %r dropped: %s", self.peer, text[:80], verdict.reason)
            text = verdict.text
        log.info("wyoming %s: transcribed %.1f s in %.2f s: %r", self.peer, len(pcm) / SAMPLE_RATE / SAMPLE_WIDTH,
                 time.monotonic() - started, text)
        await self.write(Transcript(text=text, language=self._language or self.backends.language).event())

    # ---- text in, audio out -------------------------------------------------------------------------------

    async def _speak(self, text: str, *, whole: bool) -> None:
        """Synthesize ``text`` sentence by sentence, sending each sentence's audio as soon as it is made; with
        ``whole`` the reply is framed by its own audio-start/stop."""
        synthesizer = self.backends.synthesizer
        if synthesizer is None:
            await self.write(Error(text="this server offers no speech synthesis", code="no-tts").event())
            return
        for sentence in split_sentences(text[:MAX_TEXT_CHARS]):
            pcm, rate = await self._run(self.locks.tts, synthesizer.synthesize, sentence)
            if not self._voice_started:
                await self.write(AudioStart(rate=rate, width=SAMPLE_WIDTH, channels=1).event())
                self._voice_started = True
            step = SAMPLES_PER_CHUNK * SAMPLE_WIDTH
            for at in range(0, len(pcm), step):
                await self.write(AudioChunk(rate=rate, width=SAMPLE_WIDTH, channels=1,
                                            audio=pcm[at:at + step]).event())
        if whole:
            await self._end_voice()

    async def _end_voice(self) -> None:
        if not self._voice_started:  # nothing speakable: still a well-formed (empty) answer
            await self.write(AudioStart(rate=SAMPLE_RATE, width=SAMPLE_WIDTH, channels=1).event())
        await self.write(AudioStop().event())
        self._voice_started = False

    async def _stream_chunk(self, text: str) -> None:
        if self._streaming_text is None:
            return  # a chunk outside a stream
        self._streaming_text.append(text)
        pending = "".join(self._streaming_text)
        if len(pending) > MAX_TEXT_CHARS:
            pending = pending[:MAX_TEXT_CHARS]
        sentences = split_sentences(pending)
        # the last piece may still be growing; every piece before it ended with punctuation and a space
        if len(sentences) > 1:
            done = sentences[:-1]
            await self._speak(" ".join(done), whole=False)
            self._streaming_text = [sentences[-1]]

    async def _stream_stop(self) -> None:
        if self._streaming_text is None:
            return
        rest, self._streaming_text = "".join(self._streaming_text), None
        if rest.strip():
            await self._speak(rest, whole=False)
        await self._end_voice()
        await self.write(SynthesizeStopped().event())

    def _feed_wake(self, audio: bytes) -> WakeDetection | None:
        with self._wake_lock:
            return self._wake.feed(audio) if self._wake is not None else None

    def close(self) -> None:
        with self._wake_lock:  # never free the models under a feed that is still running
            if self._wake is not None:
                self._wake.close()
                self._wake = None
