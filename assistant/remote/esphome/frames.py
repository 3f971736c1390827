"""The ESPHome native API's two framings, read from and written to asyncio streams.

Plaintext: ``0x00, varint(payload length), varint(message type), payload``.
Noise (``Noise_NNpsk0_25519_ChaChaPoly_SHA256``, prologue ``NoiseAPIInit\\0\\0``): frames are
``0x01, length (2 bytes, big endian), data``. The client opens with an empty frame, we answer with our hello
(``0x01, name\\0, mac\\0``), it sends ``0x00 + handshake``, we answer ``0x00 + handshake`` (or ``0x01 +
reason`` on a wrong key). After that each frame's data is encrypted ``type (2 bytes), length (2 bytes),
payload``.

Lengths are capped (MAX_PAYLOAD): a peer that announces more is dropped before anything is buffered.
"""

from __future__ import annotations

import asyncio
import binascii
from typing import Any, Protocol

MAX_PAYLOAD = 32 * 1024  # the API's messages are small; audio chunks are ~1 KB
NOISE_PROTOCOL = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
NOISE_PROLOGUE = b"NoiseAPIInit\x00\x00"
MAC_FAILURE = b"Handshake MAC failure"  # the words aioesphomeapi turns into "Invalid encryption key"


class FrameError(Exception):
    """A peer that does not speak the API as configured (or a wrong key): its connection is dropped."""


class Framing(Protocol):
    async def handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None: ...

    async def read(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        """The next message: (type, payload). Raises FrameError or asyncio.IncompleteReadError."""
        ...

    def encode(self, msg_type: int, payload: bytes) -> bytes: ...


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


async def read_varint(reader: asyncio.StreamReader) -> int:
    value = shift = 0
    for _ in range(5):  # 32 bits at most
        byte = (await reader.readexactly(1))[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
        shift += 7
    raise FrameError("a varint longer than 5 bytes")


class Plaintext:
    async def handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        return None

    async def read(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        marker = (await reader.readexactly(1))[0]
        if marker != 0x00:
            raise FrameError("an encrypted client (the API is plaintext here: remove the key in Home Assistant)"
                             if marker == 0x01 else f"bad frame marker 0x{marker:02x}")
        length = await read_varint(reader)
        msg_type = await read_varint(reader)
        if length > MAX_PAYLOAD:
            raise FrameError(f"a frame of {length} bytes (at most {MAX_PAYLOAD})")
        return msg_type, await reader.readexactly(length) if length else b""

    def encode(self, msg_type: int, payload: bytes) -> bytes:
        return b"\x00" + varint(len(payload)) + varint(msg_type) + payload


def noise_frame(data: bytes) -> bytes:
    return bytes((0x01, len(data) >> 8, len(data) & 0xFF)) + data


def decode_key(key: str) -> bytes:
    psk = binascii.a2b_base64(key)
    if len(psk) != 32:
        raise ValueError("the encryption key must be 32 bytes, base64")
    return psk


class Noise:
    """The responder's side of ESPHome's Noise transport."""

    def __init__(self, psk: bytes, name: str, mac: str) -> None:
        self._psk = psk
        self._hello = b"\x01" + name.encode() + b"\x00" + mac.encode() + b"\x00"
        self._proto: Any = None

    async def _frame(self, reader: asyncio.StreamReader) -> bytes:
        header = await reader.readexactly(3)
        if header[0] != 0x01:
            raise FrameError("a plaintext client (the API is encrypted here: add the key in Home Assistant)"
                             if header[0] == 0x00 else f"bad frame marker 0x{header[0]:02x}")
        length = header[1] << 8 | header[2]
        if length > MAX_PAYLOAD + 64:
            raise FrameError(f"a frame of {length} bytes (at most {MAX_PAYLOAD})")
        return await reader.readexactly(length) if length else b""

    async def handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from cryptography.exceptions import InvalidTag
        from noise.connection import NoiseConnection

        await self._frame(reader)  # the client's hello: an empty frame
        writer.write(noise_frame(self._hello))
        message = await self._frame(reader)
        if not message or message[0] != 0x00:
            raise FrameError("a bad Noise handshake frame")
        proto = NoiseConnection.from_name(NOISE_PROTOCOL)
        proto.set_as_responder()
        proto.set_psks(self._psk)
        proto.set_prologue(NOISE_PROLOGUE)
        proto.start_handshake()
        try:
            proto.read_message(message[1:])
        except InvalidTag:
            writer.write(noise_frame(b"\x01" + MAC_FAILURE))
            await writer.drain()
            raise FrameError("a client with the wrong encryption key") from None
        except Exception as exc:
            writer.write(noise_frame(b"\x01Handshake error"))
            raise FrameError(f"a bad Noise handshake: {type(exc).__name__}: {exc}") from None
        writer.write(noise_frame(b"\x00" + bytes(proto.write_message())))
        self._proto = proto

    async def read(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        from cryptography.exceptions import InvalidTag

        frame = await self._frame(reader)
        try:
            data = bytes(self._proto.decrypt(frame))
        except InvalidTag:
            raise FrameError("a frame that does not decrypt") from None
        if len(data) < 4:
            raise FrameError("a decrypted frame shorter than its header")
        msg_type, length = data[0] << 8 | data[1], data[2] << 8 | data[3]
        if length != len(data) - 4:
            raise FrameError("a decrypted frame whose length does not match its header")
        return msg_type, data[4:]

    def encode(self, msg_type: int, payload: bytes) -> bytes:
        header = bytes((msg_type >> 8, msg_type & 0xFF, len(payload) >> 8, len(payload) & 0xFF))
        return noise_frame(bytes(self._proto.encrypt(header + payload)))
