"""Peers that do not behave cost only their own connection: malformed frames, oversize lengths, protobuf
that does not parse, a client that never reads, 50 idle connections, a client gone mid-stream. After each,
Home Assistant's client still connects and is answered."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from pathlib import Path

import pytest
from aioesphomeapi import APIClient

from assistant.remote.esphome.frames import Plaintext, varint
from assistant.remote.esphome.messages import message_type, pb
from support.esphome import KEY, running

FRAMING = Plaintext()


def frame(message: object) -> bytes:
    return FRAMING.encode(message_type(message), message.SerializeToString())  # type: ignore[attr-defined]


def still_answers(port: int, key: str | None = None) -> str:
    async def session() -> str:
        client = APIClient("127.0.0.1", port, None, noise_psk=key)
        await client.connect(login=True)
        name = (await client.device_info()).name
        await client.disconnect()
        return name

    return asyncio.run(session())


def closed_by_server(peer: socket.socket, timeout: float = 10.0) -> bool:
    """Reads (and discards) until the server closes the connection."""
    peer.settimeout(timeout)
    try:
        while peer.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


@pytest.mark.parametrize("garbage", [
    b"\x07hello, world",  # not a frame marker
    b"\x00" + varint(10 * 1024 * 1024) + varint(1),  # a 10 MiB frame announced
    b"\x00\xff\xff\xff\xff\xff\xff\x01",  # a varint that never ends
    b"\x00" + varint(6) + varint(1) + b"\xff\xff\xff\xff\xff\xff",  # a HelloRequest that does not parse
])
def test_malformed_frames_drop_only_that_connection(tmp_path: Path, garbage: bytes,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="assistant.remote.esphome")
    with running(tmp_path) as sat, socket.create_connection(("127.0.0.1", sat.port)) as peer:
        peer.sendall(garbage)
        assert closed_by_server(peer)
        assert "dropped" in caplog.text
        assert sat.satellite.server.dropped == 1
        assert still_answers(sat.port) == "kitchen"


def test_garbage_on_an_encrypted_api(tmp_path: Path) -> None:
    with running(tmp_path, key=KEY) as sat:
        for garbage in (b"\x01\x00\x00\x01\x00\x05\x00abcd", b"\x01\xff\xff" + bytes(100), b"\x00\x03\x01abc"):
            with socket.create_connection(("127.0.0.1", sat.port)) as peer:
                peer.sendall(garbage)
                assert closed_by_server(peer)
        assert sat.satellite.server.dropped == 3
        assert still_answers(sat.port, KEY) == "kitchen"


def test_a_client_that_never_reads_is_dropped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="assistant.remote.esphome")
    with running(tmp_path) as sat, socket.socket() as peer:
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.connect(("127.0.0.1", sat.port))
        peer.sendall(frame(pb.HelloRequest(client_info="never reads")))
        request = frame(pb.DeviceInfoRequest())
        peer.settimeout(30)
        deadline = time.monotonic() + 60
        try:
            while "does not read" not in caplog.text and time.monotonic() < deadline:
                peer.sendall(request * 2000)  # each answer is ~150 bytes: megabytes wait for us to read
        except (BrokenPipeError, ConnectionResetError):
            pass  # dropped while we were still sending
        assert "does not read what we send: dropping it" in caplog.text
        assert still_answers(sat.port) == "kitchen"


def test_fifty_idle_connections_do_not_stop_service(tmp_path: Path) -> None:
    with running(tmp_path) as sat:
        idle = [socket.create_connection(("127.0.0.1", sat.port)) for _ in range(50)]
        try:
            deadline = time.monotonic() + 10
            while len(sat.satellite.server.connections) < 50 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(sat.satellite.server.connections) == 50  # all held open, none refused
            assert still_answers(sat.port) == "kitchen"
        finally:
            for peer in idle:
                peer.close()


def test_a_client_gone_mid_message(tmp_path: Path) -> None:
    with running(tmp_path) as sat:
        with socket.create_connection(("127.0.0.1", sat.port)) as peer:
            half = frame(pb.HelloRequest(client_info="leaving"))
            peer.sendall(half[: len(half) // 2])
        assert still_answers(sat.port) == "kitchen"
