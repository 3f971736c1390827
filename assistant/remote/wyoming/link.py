"""What every Wyoming client shares: one request on a fresh connection with a deadline, errors in plain words,
and backoff: after a failure the server is left alone for a while (1 s, doubling to 60 s), so a dead server
costs one clear log line and one timeout, not one per utterance."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event

from assistant.remote.wyoming.framing import Address, BadEvent, parse_tcp_uri, read_event

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0


class RemoteError(Exception):
    """The Wyoming server could not be reached, answered too slowly, or answered with an error."""


class Connection:
    """One open connection: write events, read them back (capped as the server caps them)."""

    def __init__(self, client: AsyncTcpClient) -> None:
        self._client = client

    async def write(self, event: Event) -> None:
        await self._client.write_event(event)

    async def read(self) -> Event:
        reader = self._client._reader  # the library's client reads without caps: read through ours
        if reader is None:
            raise RemoteError("not connected")
        try:
            event = await read_event(reader)
        except BadEvent as exc:
            raise RemoteError(f"sent a malformed event ({exc})") from None
        if event is None:
            raise RemoteError("closed the connection")
        if Error.is_type(event.type):
            raise RemoteError(f"answered with an error: {Error.from_event(event).text}")
        return event


class Link:
    def __init__(self, what: str, uri: str, timeout_s: float) -> None:
        self.what = what  # "speech recognizer", "voice", ... for log lines
        try:
            self.address: Address = parse_tcp_uri(uri)
        except ValueError as exc:
            raise RemoteError(str(exc)) from None
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._failures = 0
        self._down_until = 0.0

    def available(self) -> bool:
        """False while backing off after a failure."""
        with self._lock:
            return time.monotonic() >= self._down_until

    def call(self, request: Callable[[Connection], Awaitable[T]]) -> T:
        """Run ``request`` on a fresh connection within the timeout; RemoteError in plain words otherwise."""
        if not self.available():
            raise RemoteError(f"the Wyoming {self.what} at {self.address} is down (retrying in "
                              f"{max(0.0, self._down_until - time.monotonic()):.0f} s)")
        try:
            result = asyncio.run(asyncio.wait_for(self._session(request), self.timeout_s))
        except RemoteError as exc:
            self._failed(str(exc))
            raise RemoteError(f"the Wyoming {self.what} at {self.address} {exc}") from None
        except TimeoutError:
            self._failed(f"did not answer within {self.timeout_s:g} s")
            raise RemoteError(f"the Wyoming {self.what} at {self.address} did not answer within "
                              f"{self.timeout_s:g} s") from None
        except (OSError, asyncio.IncompleteReadError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            self._failed(f"cannot be reached ({reason})")
            raise RemoteError(f"the Wyoming {self.what} at {self.address} cannot be reached ({reason})") from None
        with self._lock:
            if self._failures:
                log.info("wyoming: the %s at %s is back", self.what, self.address)
            self._failures, self._down_until = 0, 0.0
        return result

    async def _session(self, request: Callable[[Connection], Awaitable[T]]) -> T:
        client = AsyncTcpClient(self.address.host, self.address.port)
        await client.connect()
        try:
            return await request(Connection(client))
        finally:
            await client.disconnect()

    def _failed(self, reason: str) -> None:
        with self._lock:
            self._failures += 1
            backoff = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (self._failures - 1))
            self._down_until = time.monotonic() + backoff
        log.warning("wyoming: the %s at %s %s; trying again in %.0f s", self.what, self.address, reason, backoff)
