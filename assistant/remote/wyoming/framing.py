"""Reading Wyoming events with caps, and Wyoming URIs.

The ``wyoming`` library does the framing (a JSON header line, then optional data and payload bytes), but it
trusts the peer's lengths: a header saying ``payload_length: 10**12`` makes it wait for (and buffer) that
much. Here the library reads through a guard that refuses oversize lengths, so a bad peer costs one
connection, never the process's memory.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import urlparse

from wyoming.event import Event, async_read_event

MAX_HEADER_BYTES = 64 * 1024  # one JSON line; real headers are under 1 KiB
MAX_DATA_BYTES = 1024 * 1024  # the JSON data block (describe's info is the largest, a few KiB)
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024  # one audio chunk: 4 MiB is 2 minutes of 16 kHz mono int16


class BadEvent(Exception):
    """The peer sent something that is not a Wyoming event we accept (the connection is dropped)."""


class _CappedReader:
    """What ``async_read_event`` reads through: the stream, with every length it asks for checked."""

    def __init__(self, reader: asyncio.StreamReader, max_data: int, max_payload: int) -> None:
        self._reader = reader
        self._max = max(max_data, max_payload)
        self.refused: str | None = None

    async def readline(self) -> bytes:
        try:
            line = await self._reader.readline()
        except (ValueError, asyncio.LimitOverrunError) as exc:  # longer than the stream's limit
            self.refused = f"header line too long ({exc})"
            raise ValueError(self.refused) from None
        if line.strip():
            self._check_header(line)
        return line

    def _check_header(self, line: bytes) -> None:
        try:
            header = json.loads(line)
        except ValueError:
            self.refused = f"malformed JSON header {line[:80]!r}"
            raise ValueError(self.refused) from None
        if not isinstance(header, dict) or not isinstance(header.get("type"), str):
            self.refused = f"header without a type: {line[:80]!r}"
            raise ValueError(self.refused)
        for key in ("data_length", "payload_length"):
            value = header.get(key)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                self.refused = f"{key} {value!r} is not a byte count"
                raise ValueError(self.refused)
            if value > self._max:
                self.refused = f"{key} {value} is over the {self._max}-byte cap"
                raise ValueError(self.refused)

    async def readexactly(self, n: int) -> bytes:
        if n < 0 or n > self._max:
            self.refused = f"{n} bytes asked for, over the cap"
            raise ValueError(self.refused)
        return await self._reader.readexactly(n)


async def read_event(reader: asyncio.StreamReader, *, max_data: int = MAX_DATA_BYTES,
                     max_payload: int = MAX_PAYLOAD_BYTES) -> Event | None:
    """The next event, or None at the end of the stream; raise BadEvent for anything malformed or oversize."""
    capped = _CappedReader(reader, max_data, max_payload)
    try:
        event = await async_read_event(capped)  # type: ignore[arg-type]  # it needs readline and readexactly only
    except asyncio.IncompleteReadError:
        raise BadEvent("the peer closed the connection in the middle of an event") from None
    except (KeyError, TypeError, AttributeError) as exc:  # a data block that is not a JSON object, ...
        raise BadEvent(f"malformed event ({type(exc).__name__}: {exc})") from None
    if event is None and capped.refused is not None:
        raise BadEvent(capped.refused)
    if event is not None and not isinstance(event.data, dict):
        raise BadEvent("event data is not a JSON object")
    return event


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"tcp://{self.host}:{self.port}"


def parse_tcp_uri(uri: str) -> Address:
    """``tcp://host:port`` as an Address; raise ValueError in plain words for anything else."""
    parsed = urlparse(uri)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme != "tcp" or not parsed.hostname or port is None:
        raise ValueError(f"{uri!r} is not a Wyoming address: use tcp://host:port (e.g. tcp://0.0.0.0:10300)")
    return Address(parsed.hostname, port)
