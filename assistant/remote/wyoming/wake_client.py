"""``listen.wake_word.engine: wyoming``: wake-word detection on a Wyoming server (wyoming-openwakeword, ours).

The listen loop feeds every frame and must never wait on the network: frames go to a background thread that
keeps one audio stream open to the server and hands detections back. A server that goes away is logged once
per outage and reconnected with backoff (1 s doubling to 60 s); meanwhile the assistant simply does not wake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Sequence
from pathlib import Path

from wyoming.audio import AudioChunk, AudioStart
from wyoming.client import AsyncTcpClient
from wyoming.wake import Detect
from wyoming.wake import Detection as WyomingDetection

from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH
from assistant.hearing.wake_word import Detection, WakeModelInfo, phrase_from_name
from assistant.remote.wyoming.framing import Address, BadEvent, parse_tcp_uri, read_event
from assistant.remote.wyoming.link import FIRST_BACKOFF_S, MAX_BACKOFF_S

log = logging.getLogger(__name__)

MAX_BACKLOG_S = 2.0  # audio waiting for a slow link; older frames are dropped (a late wake is no wake)


class WyomingWakeWords:
    def __init__(self, uri: str, models: Sequence[str], *, refractory_s: float = 2.0) -> None:
        self.address: Address = parse_tcp_uri(uri)
        self.engine = "wyoming"
        self.refractory_s = refractory_s
        self.names = [Path(m).stem for m in models]
        self._models = [WakeModelInfo(n, phrase_from_name(n), "wyoming", str(self.address), 0.0) for n in self.names]
        self._samples = 0
        self._quiet_until_s = 0.0
        self._found: queue.Queue[str] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._audio: asyncio.Queue[bytes] | None = None
        self._backlog = 0
        self._stopping = False
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._main, name="wyoming-wake", daemon=True)
        self._thread.start()

    @property
    def models(self) -> list[WakeModelInfo]:
        return list(self._models)

    @property
    def audio_s(self) -> float:
        return self._samples / SAMPLE_RATE

    def feed(self, pcm: bytes) -> Detection | None:
        """Send a frame on (never blocks); a detection the server reported since the last frame, if any."""
        self._samples += len(pcm) // SAMPLE_WIDTH
        if self.connected.is_set() and self._backlog < MAX_BACKLOG_S * SAMPLE_RATE * SAMPLE_WIDTH:
            self._backlog += len(pcm)
            self._loop.call_soon_threadsafe(self._put, pcm)
        try:
            name = self._found.get_nowait()
        except queue.Empty:
            return None
        if self.audio_s < self._quiet_until_s:
            return None
        self._quiet_until_s = self.audio_s + self.refractory_s
        model = next((m for m in self._models if m.name == name), None)
        log.info("wake word %r from the Wyoming server at %s at %.2f s", name, self.address, self.audio_s)
        return Detection(name, model.phrase if model else phrase_from_name(name), 1.0, self.audio_s)

    def _put(self, pcm: bytes) -> None:
        if self._audio is not None:
            self._audio.put_nowait(pcm)

    def reset(self) -> None:
        """The server keeps its own state; nothing here to forget."""

    def close(self) -> None:
        self._stopping = True
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    # ---- the background thread ---------------------------------------------------------------------------

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.create_task(self._keep_connected())
        self._loop.run_forever()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(BaseException):
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.close()

    async def _keep_connected(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                await self._stream()
                reason = "closed the connection"
            except (OSError, BadEvent, asyncio.IncompleteReadError) as exc:
                reason = f"failed ({getattr(exc, 'strerror', None) or exc or type(exc).__name__})"
            except Exception as exc:  # whatever it was, the link is retried: wake words must come back
                log.debug("wyoming wake link", exc_info=True)
                reason = f"failed ({type(exc).__name__}: {exc})"
            finally:
                if self.connected.is_set():
                    failures = 0  # it had been working: a new outage
                self.connected.clear()
                self._audio, self._backlog = None, 0
            if self._stopping:
                return
            failures += 1
            backoff = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (failures - 1))
            if failures == 1 or backoff == MAX_BACKOFF_S:
                log.warning("wyoming: the wake-word server at %s %s: no wake word is heard until it is back; "
                            "trying again in %.0f s", self.address, reason, backoff)
            await asyncio.sleep(backoff)

    async def _stream(self) -> None:
        client = AsyncTcpClient(self.address.host, self.address.port)
        await client.connect()
        try:
            await client.write_event(Detect(names=self.names).event())
            await client.write_event(AudioStart(rate=SAMPLE_RATE, width=SAMPLE_WIDTH, channels=1).event())
            self._audio = asyncio.Queue()
            self.connected.set()
            log.info("wyoming: listening for %s on the wake-word server at %s", ", ".join(self.names), self.address)
            reader = asyncio.ensure_future(self._read(client))
            try:
                while not reader.done():
                    getter = asyncio.ensure_future(self._audio.get())
                    done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                    if getter not in done:
                        getter.cancel()
                        break
                    pcm = getter.result()
                    self._backlog -= len(pcm)
                    await client.write_event(AudioChunk(rate=SAMPLE_RATE, width=SAMPLE_WIDTH, channels=1,
                                                        audio=pcm).event())
                reader.result() if reader.done() else reader.cancel()
            finally:
                if not reader.done():
                    reader.cancel()
        finally:
            await client.disconnect()

    async def _read(self, client: AsyncTcpClient) -> None:
        assert client._reader is not None
        while True:
            event = await read_event(client._reader)
            if event is None:
                return
            if WyomingDetection.is_type(event.type):
                self._found.put(WyomingDetection.from_event(event).name or self.names[0])
