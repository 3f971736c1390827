"""Our Wyoming server: many clients at once, each on its own connection (``session.Session``); a peer that
sends garbage, lies about lengths or vanishes mid-stream costs its own connection only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from wyoming.error import Error
from wyoming.event import async_write_event

from assistant.remote.wyoming.advertise import Advertisement
from assistant.remote.wyoming.backends import Backends
from assistant.remote.wyoming.framing import MAX_HEADER_BYTES, Address, BadEvent, read_event
from assistant.remote.wyoming.session import Locks, Session

log = logging.getLogger(__name__)

MAX_CLIENTS = 32  # connections served at once; more are told so and closed


class WyomingServer:
    def __init__(self, backends: Backends, address: Address, *, zeroconf: bool = True,
                 max_clients: int = MAX_CLIENTS) -> None:
        self.backends = backends
        self.address = address
        self.zeroconf = zeroconf
        self.max_clients = max_clients
        self.port = address.port  # the bound port once started (address.port 0 picks a free one)
        self.advertised = False
        self._server: asyncio.Server | None = None
        self._locks: Locks | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._advertisement: Advertisement | None = None
        self._closing = False

    async def start(self) -> None:
        self._locks = Locks()
        self._server = await asyncio.start_server(self._connection, self.address.host, self.address.port,
                                                  limit=MAX_HEADER_BYTES)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("wyoming: serving %s on tcp://%s:%d", ", ".join(self.offers()) or "nothing",
                 self.address.host, self.port)
        if self.zeroconf:
            self._advertisement = Advertisement(self.backends.name, self.port, self.address.host)
            self.advertised = await self._advertisement.start()

    def offers(self) -> list[str]:
        b = self.backends
        return [name for name, part in (("asr", b.recognizer), ("tts", b.synthesizer), ("wake", b.wake))
                if part is not None]

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        try:
            await self._server.serve_forever()
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self._advertisement is not None:
            await self._advertisement.stop()
            self._advertisement = None
        self._closing = True
        if self._server is not None:
            self._server.close()
        for _ in range(3):  # connections accepted just now start their task on the next turns of the loop
            await asyncio.sleep(0)
        while self._sessions:
            sessions = list(self._sessions)
            for task in sessions:
                task.cancel()
            await asyncio.gather(*sessions, return_exceptions=True)
            self._sessions.difference_update(sessions)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        peer = "{}:{}".format(*(writer.get_extra_info("peername") or ("?", "?"))[:2])
        if self._closing:
            writer.close()
            return
        if len(self._sessions) >= self.max_clients:
            log.warning("wyoming %s: refused, %d clients already connected", peer, len(self._sessions))
            with contextlib.suppress(Exception):
                await async_write_event(Error(text="too many clients", code="busy").event(), writer)
            writer.close()
            return
        assert task is not None and self._locks is not None
        self._sessions.add(task)
        session = Session(self.backends, self._locks, writer, peer)
        log.debug("wyoming %s: connected", peer)
        try:
            while True:
                event = await read_event(reader)
                if event is None or not await session.handle(event):
                    break
        except BadEvent as exc:
            log.warning("wyoming %s: %s: connection dropped", peer, exc)
            with contextlib.suppress(Exception):
                await async_write_event(Error(text=str(exc), code="bad-event").event(), writer)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("wyoming %s: gone (%s)", peer, type(exc).__name__)
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug or a model failure on one request: that connection ends, the server goes on
            log.exception("wyoming %s: request failed; connection dropped", peer)
            with contextlib.suppress(Exception):
                await async_write_event(Error(text="the request failed", code="failed").event(), writer)
        finally:
            self._sessions.discard(task)
            session.close()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            log.debug("wyoming %s: closed", peer)


class ServerThread:
    """The server on its own event loop in a background thread (tests, and embedding beside the daemon)."""

    def __init__(self, server: WyomingServer) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="wyoming-server", daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        return self

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._error = exc
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.server.stop())
        self._loop.close()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
