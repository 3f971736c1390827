"""The API's TCP server: one task per connection, framing, ping and disconnect; every other message goes
to the ``Handler`` (the satellite). Runs on one asyncio loop.

A bad peer costs only its own connection: frames that are malformed, oversize or do not decrypt, a
handshake that never comes (HANDSHAKE_S), a client that stops reading (its send buffer passes
MAX_BUFFERED), silence past IDLE_S (Home Assistant pings every 20 s), and connections past MAX_CLIENTS.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from typing import Any, Protocol

from assistant.remote.esphome.frames import FrameError, Framing
from assistant.remote.esphome.messages import TYPE_TO_MESSAGE, message_type, pb

log = logging.getLogger(__name__)

MAX_CLIENTS = 64
HANDSHAKE_S = 10.0
IDLE_S = 90.0
MAX_BUFFERED = 1024 * 1024  # bytes waiting for a peer that does not read: past this, it is dropped


class Handler(Protocol):
    def on_message(self, connection: Connection, message: Any) -> None: ...

    def on_closed(self, connection: Connection) -> None: ...


class Connection:
    _ids = itertools.count(1)

    def __init__(self, writer: asyncio.StreamWriter, framing: Framing, peer: str) -> None:
        self.id = next(self._ids)
        self.peer = peer
        self.framing = framing
        self.writer = writer
        self.closed = False
        self.client_info = ""

    def __repr__(self) -> str:
        return f"client {self.id} ({self.peer}{', ' + self.client_info if self.client_info else ''})"

    def send(self, *messages: Any) -> None:
        """Queue messages to the peer (loop thread). One that has stopped reading is dropped, not waited on."""
        if self.closed:
            return
        data = b"".join(self.framing.encode(message_type(m), m.SerializeToString()) for m in messages)
        if self.writer.transport.get_write_buffer_size() + len(data) > MAX_BUFFERED:
            log.warning("%r does not read what we send: dropping it", self)
            self.close(abort=True)
            return
        self.writer.write(data)

    def close(self, *, abort: bool = False) -> None:
        """``abort``: drop what waits to be sent (a peer that does not read would hold the socket open)."""
        if not self.closed:
            self.closed = True
            if abort:
                self.writer.transport.abort()
            else:
                self.writer.close()


class ApiServer:
    def __init__(self, host: str, port: int, framing: Callable[[], Framing], handler: Handler) -> None:
        self.host, self.port = host, port
        self.framing = framing
        self.handler = handler
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self.dropped = 0  # connections ended for misbehaving

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=64 * 1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            with contextlib.suppress(Exception):
                connection.send(pb.DisconnectRequest())
            connection.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        connection = Connection(writer, self.framing(), peer)
        if len(self.connections) >= MAX_CLIENTS:
            log.warning("%r refused: %d clients already", connection, MAX_CLIENTS)
            connection.close()
            return
        self.connections.add(connection)
        log.debug("%r connected", connection)
        try:
            await asyncio.wait_for(connection.framing.handshake(reader, writer), HANDSHAKE_S)
            while not connection.closed:
                msg_type, payload = await asyncio.wait_for(connection.framing.read(reader), IDLE_S)
                self._dispatch(connection, msg_type, payload)
        except FrameError as exc:
            self.dropped += 1
            log.warning("%r dropped: %s", connection, exc)
        except TimeoutError:
            self.dropped += 1
            log.info("%r dropped: silent for too long", connection)
        except (asyncio.IncompleteReadError, ConnectionError):
            log.info("%r went away", connection)
        except Exception:  # a bug in one message's handling must not end the server
            self.dropped += 1
            log.exception("%r dropped after an error", connection)
        finally:
            self.connections.discard(connection)
            connection.close()
            try:
                self.handler.on_closed(connection)
            except Exception:
                log.exception("closing %r", connection)

    def _dispatch(self, connection: Connection, msg_type: int, payload: bytes) -> None:
        cls = TYPE_TO_MESSAGE.get(msg_type)
        if cls is None:
            log.debug("%r: unknown message type %d ignored", connection, msg_type)
            return
        message = cls()
        try:
            message.ParseFromString(payload)
        except Exception as exc:  # google.protobuf.message.DecodeError
            raise FrameError(f"a {cls.__name__} that does not parse ({exc})") from None
        if isinstance(message, pb.PingRequest):
            connection.send(pb.PingResponse())
        elif isinstance(message, pb.DisconnectRequest):
            connection.send(pb.DisconnectResponse())
            connection.close()
        elif not isinstance(message, (pb.PingResponse, pb.DisconnectResponse)):
            self.handler.on_message(connection, message)
