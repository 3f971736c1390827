"""The voice-assistant run with Home Assistant's pipeline (brain: home_assistant), on the event loop.

    our wake word -> VoiceAssistantRequest(start, wake_word_phrase) -> HA answers VoiceAssistantResponse
    -> the request's audio as VoiceAssistantAudio (16 kHz, 16-bit mono; buffered until HA answered)
    -> HA's events: RUN_START, STT_VAD_START/END (we stop streaming), STT_END, INTENT_END (a conversation
       to continue?), TTS_END (the URL: fetched, decoded and played through our sink), ERROR, RUN_END
    -> start_conversation: listen again (a new run without a wake word) once the reply has played

Also announcements (VoiceAssistantAnnounceRequest -> play -> VoiceAssistantAnnounceFinished) and timers
(HA keeps them; a finished one rings here). Playing goes through the pipeline's worker (``Play``), so it
takes turns with our own replies and is cut by barge-in like them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.remote.esphome.messages import VA_API_AUDIO, pb
from assistant.remote.esphome.server import Connection
from assistant.speech.earcons import Kind

log = logging.getLogger(__name__)

MAX_STREAM_S = 30.0  # HA's VAD ends the request long before; past this we stop streaming ourselves
MAX_BUFFERED_FRAMES = 200  # ~6 s of audio waiting for HA's answer to the start request

Play = Callable[[str], Awaitable[float | None]]  # a URL -> the first played sample's time (None: not played)
Cue = Callable[[Kind], None]  # an earcon: "thinking", "error"
Ring = Callable[[str], Awaitable[None]]  # a finished timer's name


@dataclass
class Timer:
    name: str
    total_s: int
    left_s: int
    active: bool


@dataclass
class RunTimes:
    """One run's times (monotonic), for the latency benchmark."""

    started_at: float
    sent: list[tuple[float, float]] = field(default_factory=list)  # per audio frame: (stream end_s, captured_at)
    events: list[tuple[int, float]] = field(default_factory=list)  # (event type, received at)
    tts_url_at: float | None = None
    first_sample_at: float | None = None


class VoiceAssistant:
    def __init__(self, play: Play, cue: Cue, ring: Ring) -> None:
        self._play, self._cue, self._ring = play, cue, ring
        self.subscriber: Connection | None = None
        self.streaming = threading.Event()  # read by the listen thread: frames go to HA while set
        self.conversation_id = ""
        self.timers: dict[str, Timer] = {}
        self.runs: list[RunTimes] = []
        self.announcements = 0
        self._accepted = False
        self._buffer: list[tuple[bytes, float, float]] = []
        self._continue = False
        self._reply: asyncio.Task[float | None] | None = None
        self._tts_url = ""  # RUN_START's streaming TTS URL: HA may say to start it before TTS_END
        self._reply_url = ""  # the URL the reply is playing from (TTS_END repeats a streamed one)
        self._deadline: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---- who listens ---------------------------------------------------------------------------

    def subscribe(self, connection: Connection, message: Any) -> None:
        if not message.subscribe:
            if self.subscriber is connection:
                self.subscriber = None
                self._end("Home Assistant unsubscribed")
            return
        # aioesphomeapi sends 1 << 2 (VoiceAssistantFeature.API_AUDIO), the proto's enum says 1: either will do
        if not message.flags & (pb.VOICE_ASSISTANT_SUBSCRIBE_API_AUDIO | VA_API_AUDIO):
            log.warning("%r wants the audio over UDP; only audio over the API is supported", connection)
        self.subscriber = connection
        log.info("%r runs the voice assistant", connection)

    def closed(self, connection: Connection) -> None:
        if self.subscriber is connection:
            self.subscriber = None
            self._end("Home Assistant went away")

    # ---- a run -----------------------------------------------------------------------------------

    def start(self, phrase: str | None) -> None:
        """Our wake word was heard (or a conversation continues): ask HA to run its pipeline."""
        connection = self.subscriber
        if connection is None:
            self.streaming.clear()
            return
        self.streaming.set()
        self._accepted, self._buffer, self._continue = False, [], False
        self.runs = [*self.runs[-19:], RunTimes(time.monotonic())]
        settings = pb.VoiceAssistantAudioSettings(noise_suppression_level=0, auto_gain=0, volume_multiplier=1.0)
        connection.send(pb.VoiceAssistantRequest(start=True, conversation_id=self.conversation_id, flags=0,
                                                 audio_settings=settings, wake_word_phrase=phrase or ""))
        log.info("voice assistant: run started (%s)", f"wake word {phrase!r}" if phrase else "continuing")
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = asyncio.get_running_loop().call_later(MAX_STREAM_S, self._too_long)

    def audio(self, pcm: bytes, end_s: float, captured_at: float) -> None:
        connection = self.subscriber
        if not self.streaming.is_set() or connection is None:
            return
        if not self._accepted:
            if len(self._buffer) < MAX_BUFFERED_FRAMES:
                self._buffer.append((pcm, end_s, captured_at))
            return
        self._send_audio(connection, pcm, end_s, captured_at)

    def _send_audio(self, connection: Connection, pcm: bytes, end_s: float, captured_at: float) -> None:
        connection.send(pb.VoiceAssistantAudio(data=pcm))
        if self.runs:
            self.runs[-1].sent.append((end_s, captured_at))

    def response(self, message: Any) -> None:
        """HA's answer to the start request: audio over the API (port 0), or an error."""
        if not self.streaming.is_set():
            return
        if message.error:
            log.warning("voice assistant: Home Assistant could not start its pipeline")
            self._end("refused")
            self._cue("error")
            return
        self._accepted = True
        buffered, self._buffer = self._buffer, []
        connection = self.subscriber
        if connection is not None:
            for pcm, end_s, captured_at in buffered:
                self._send_audio(connection, pcm, end_s, captured_at)

    def event(self, message: Any) -> None:
        kind = message.event_type
        data = {item.name: item.value for item in message.data}
        if self.runs:
            self.runs[-1].events.append((kind, time.monotonic()))
        log.debug("voice assistant event %d %s", kind, data)
        if kind == pb.VOICE_ASSISTANT_RUN_START:
            self._tts_url, self._reply_url = data.get("url", ""), ""
        elif kind in (pb.VOICE_ASSISTANT_STT_VAD_END, pb.VOICE_ASSISTANT_STT_END):
            if self.streaming.is_set():
                self._end("the request is heard")
                self._cue("thinking")
        elif kind == pb.VOICE_ASSISTANT_INTENT_END:
            self.conversation_id = data.get("conversation_id", self.conversation_id)
            self._continue = data.get("continue_conversation") == "1"
        elif kind == pb.VOICE_ASSISTANT_INTENT_PROGRESS and data.get("tts_start_streaming") == "1" and self._tts_url:
            self._reply_from(self._tts_url)  # the LLM is still talking: its speech starts streaming now
        elif kind == pb.VOICE_ASSISTANT_TTS_END and data.get("url"):
            self._reply_from(data["url"])
        elif kind == pb.VOICE_ASSISTANT_ERROR:
            log.warning("voice assistant: Home Assistant's pipeline failed: %s %s", data.get("code", ""),
                        data.get("message", ""))
            self._end("error")
            self._continue = False
            self._cue("error")
        elif kind == pb.VOICE_ASSISTANT_RUN_END:
            self._end("run ended")
            self.spawn(self._after_run(self._reply, self._continue))
            self._reply, self._continue = None, False

    def _reply_from(self, url: str) -> None:
        if url == self._reply_url:
            return  # already playing it (started early)
        self._reply_url = url
        if self.runs:
            self.runs[-1].tts_url_at = time.monotonic()
        self._reply = self.spawn(self._play(url))

    async def _after_run(self, reply: asyncio.Task[float | None] | None, again: bool) -> None:
        if reply is not None:
            first = await reply
            if self.runs and first is not None:
                self.runs[-1].first_sample_at = first
        if again and self.subscriber is not None:
            self.start(None)  # start_conversation / continue_conversation: listen without a wake word

    def _too_long(self) -> None:
        if self.streaming.is_set():
            log.warning("voice assistant: no end of speech from Home Assistant in %g s; stopping", MAX_STREAM_S)
            if self.subscriber is not None:
                self.subscriber.send(pb.VoiceAssistantRequest(start=False))
            self._end("too long")

    def _end(self, why: str) -> None:
        if self.streaming.is_set():
            log.info("voice assistant: streaming stopped (%s)", why)
        self.streaming.clear()
        self._buffer = []
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    # ---- announcements and timers ------------------------------------------------------------------

    def announce(self, connection: Connection, message: Any) -> None:
        self.spawn(self._announce(connection, message))

    async def _announce(self, connection: Connection, message: Any) -> None:
        success = True
        for url in (message.preannounce_media_id, message.media_id):
            if url:
                success = await self._play(url) is not None and success
        self.announcements += 1
        connection.send(pb.VoiceAssistantAnnounceFinished(success=success))
        if message.start_conversation and self.subscriber is not None:
            self.start(None)

    def timer(self, message: Any) -> None:
        kind, timer_id = message.event_type, message.timer_id
        if kind == pb.VOICE_ASSISTANT_TIMER_CANCELLED:
            self.timers.pop(timer_id, None)
        elif kind == pb.VOICE_ASSISTANT_TIMER_FINISHED:
            self.timers.pop(timer_id, None)
            log.info("timer %r finished", message.name or timer_id)
            self.spawn(self._ring(message.name))
        else:
            self.timers[timer_id] = Timer(message.name, message.total_seconds, message.seconds_left,
                                          message.is_active)

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        async def guarded() -> Any:
            try:
                return await work
            except Exception:
                log.exception("voice assistant")
                return None

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
