"""The satellite: the ESPHome API server on a thread of its own, joined to the pipeline.

The pipeline's side is ``takes`` (listen thread): with ``brain: home_assistant`` and Home Assistant
subscribed, our wake word starts a run and the frames after it stream to HA until it has heard the request;
the local pipeline hears nothing meanwhile. Without a subscriber (or with ``brain: local``) every frame stays
local. Audio HA sends us (replies, announcements, media, a timer's ring) plays through the pipeline's
worker, in turn with our own replies, cut by barge-in and by the media player's stop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from assistant.config.satellite import SatelliteConfig
from assistant.events import AudioFrame
from assistant.hearing.wake_word import WakeModelInfo
from assistant.remote.esphome import media
from assistant.remote.esphome.advertise import Advertiser
from assistant.remote.esphome.device import Device, WakeWordInfo
from assistant.remote.esphome.errors import SatelliteError
from assistant.remote.esphome.frames import Framing, Noise, Plaintext, decode_key
from assistant.remote.esphome.messages import pb
from assistant.remote.esphome.server import ApiServer, Connection
from assistant.remote.esphome.voice import VoiceAssistant
from assistant.speech.earcons import Kind, Tone, render
from assistant.turn.items import Cue, Playback
from assistant.turn.pipeline import Pipeline
from assistant.turn.wake import WakeListening

__all__ = ["EsphomeSatellite", "SatelliteError"]

log = logging.getLogger(__name__)

RING = Tone(((880.0, 0.15), (0.0, 0.1), (880.0, 0.15), (0.0, 0.1), (880.0, 0.15), (0.0, 0.4)) * 2)
START_S = 10.0


class EsphomeSatellite:
    def __init__(self, config: SatelliteConfig, pipeline: Pipeline, wake_words: list[WakeModelInfo], *,
                 advertise: bool = True) -> None:
        esphome = config.esphome
        self.config = config
        self.pipeline = pipeline
        self.remote_brain = config.brain == "home_assistant"
        self.device = Device(esphome.name, encrypted=esphome.encryption_key is not None,
                             remote_brain=self.remote_brain,
                             wake_words=[WakeWordInfo(w.name, w.phrase) for w in wake_words])
        key = esphome.encryption_key
        framing: Callable[[], Framing] = (
            (lambda: Noise(decode_key(key), self.device.name, self.device.mac)) if key else Plaintext)
        self.server = ApiServer(esphome.host, esphome.port, framing, self)
        self.voice = VoiceAssistant(self.play_url, self._cue, self._ring)
        self.muted = False
        self.playing = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None
        self.advertiser = Advertiser(esphome.name, self.device.mac, esphome.port, esphome.host,
                                     self.device.encrypted) if advertise else None

    # ---- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> EsphomeSatellite:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.run(self._main(started, failure))

        self._thread = threading.Thread(target=run, name="esphome", daemon=True)
        self._thread.start()
        if not started.wait(START_S) or failure:
            why = failure[0] if failure else "timed out"
            raise SatelliteError(f"cannot serve the ESPHome API on {self.config.esphome.host}:"
                                 f"{self.config.esphome.port}: {why} (is the port taken? set satellite.esphome.port)")
        if self.remote_brain and not self.device.wake_words:
            log.warning("satellite.brain is home_assistant but there is no wake word (listen.mode is not "
                        "wake_word): our own pipeline answers")
        log.info("ESPHome API: %s on %s:%d (%s), brain: %s", self.device.name, self.server.host, self.server.port,
                 "encrypted" if self.device.encrypted else "plaintext", self.config.brain)
        return self

    async def _main(self, started: threading.Event, failure: list[BaseException]) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        try:
            await self.server.start()
        except OSError as exc:
            failure.append(exc)
            started.set()
            return
        if self.advertiser is not None:
            self.advertiser.port = self.server.port
            try:
                await self.advertiser.start()
            except Exception as exc:  # without zeroconf, HA can still be given host and port by hand
                log.warning("zeroconf: not advertised: %s: %s", type(exc).__name__, exc)
                self.advertiser = None
        started.set()
        await self._stopped.wait()
        if self.advertiser is not None:
            await self.advertiser.stop()
        await self.server.stop()

    def stop(self) -> None:
        loop, stopped = self.loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None:
            self._thread.join(5.0)

    # ---- the pipeline's side (listen thread) ---------------------------------------------------------

    def takes(self, frame: AudioFrame, wake: WakeListening | None) -> bool:
        loop = self.loop
        if not self.remote_brain or self.voice.subscriber is None or loop is None:
            return False
        if self.voice.streaming.is_set():
            loop.call_soon_threadsafe(self.voice.audio, frame.pcm, frame.end_s, frame.captured_at)
            return True
        if wake is None:
            return False  # no wake word to start a run with: the local pipeline answers
        wake.hear(frame)
        detection = wake.take()  # this frame's, or one heard over our reply (which it cut): a new run
        if detection is not None and detection.sure and detection.model in self.device.active_wake_words:
            self.voice.streaming.set()  # the next frames go to HA (buffered until it accepts)
            loop.call_soon_threadsafe(self.voice.start, detection.phrase)
        return True

    # ---- playing what HA sends (loop thread) -----------------------------------------------------------

    async def play_url(self, url: str) -> float | None:
        loop = asyncio.get_running_loop()
        try:
            pcm, rate = await loop.run_in_executor(None, media.load, url)
        except media.MediaError as exc:
            log.warning("ESPHome: %s", exc)
            return None
        return await self.play_pcm(pcm, rate)

    async def play_pcm(self, pcm: bytes, rate: int) -> float | None:
        if self.muted:
            return None
        item = Playback(pcm, rate)
        self.playing += 1
        self._send_state()
        try:
            self.pipeline.submit(item)
            duration = len(pcm) / (2 * rate)
            await asyncio.get_running_loop().run_in_executor(None, item.done.wait, duration + 60.0)
        finally:
            self.playing -= 1
            self._send_state()
        return item.first_sample

    def _cue(self, kind: Kind) -> None:
        self.pipeline.submit(Cue(kind))

    async def _ring(self, name: str) -> None:
        await self.play_pcm(render(RING, 0.6), 22050)

    def _send_state(self) -> None:
        state = self.device.player_state(playing=self.playing > 0, volume=self.pipeline.volume, muted=self.muted)
        for connection in list(self.server.connections):
            connection.send(state)

    # ---- the API's messages (loop thread) -------------------------------------------------------------

    def on_message(self, connection: Connection, message: Any) -> None:
        device, voice = self.device, self.voice
        if isinstance(message, pb.HelloRequest):
            connection.client_info = message.client_info[:64]
            connection.send(device.hello())
        elif isinstance(message, pb.AuthenticationRequest):  # no password: accepted (as linux-voice-assistant)
            connection.send(pb.AuthenticationResponse(invalid_password=False))
        elif isinstance(message, pb.DeviceInfoRequest):
            connection.send(device.info())
        elif isinstance(message, pb.ListEntitiesRequest):
            connection.send(*device.entities())
        elif isinstance(message, pb.SubscribeStatesRequest):
            connection.send(device.player_state(playing=self.playing > 0, volume=self.pipeline.volume,
                                                muted=self.muted))
        elif isinstance(message, pb.MediaPlayerCommandRequest):
            self._media_command(message)
        elif isinstance(message, pb.SubscribeVoiceAssistantRequest):
            voice.subscribe(connection, message)
        elif isinstance(message, pb.VoiceAssistantConfigurationRequest):
            connection.send(device.configuration())
        elif isinstance(message, pb.VoiceAssistantSetConfiguration):
            log.info("ESPHome: wake words %s", device.set_active(list(message.active_wake_words)))
        elif isinstance(message, pb.VoiceAssistantResponse):
            voice.response(message)
        elif isinstance(message, pb.VoiceAssistantEventResponse):
            voice.event(message)
        elif isinstance(message, pb.VoiceAssistantAnnounceRequest):
            voice.announce(connection, message)
        elif isinstance(message, pb.VoiceAssistantTimerEventResponse):
            voice.timer(message)
        else:
            log.debug("%r: %s ignored", connection, type(message).__name__)

    def on_closed(self, connection: Connection) -> None:
        self.voice.closed(connection)

    def _media_command(self, message: Any) -> None:
        if message.has_volume:
            self.pipeline.volume = min(1.0, max(0.0, float(message.volume)))
        if message.has_command:
            command = message.command
            if command in (pb.MEDIA_PLAYER_COMMAND_STOP, pb.MEDIA_PLAYER_COMMAND_PAUSE):
                self.pipeline.stages.speaker.cancel()
            elif command in (pb.MEDIA_PLAYER_COMMAND_MUTE, pb.MEDIA_PLAYER_COMMAND_UNMUTE):
                self.muted = command == pb.MEDIA_PLAYER_COMMAND_MUTE
                if self.muted:
                    self.pipeline.stages.speaker.cancel()
        if message.has_media_url and message.media_url:
            self.voice.spawn(self.play_url(message.media_url))
        self._send_state()
