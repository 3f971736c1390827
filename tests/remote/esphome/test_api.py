"""The API server against Home Assistant's own client (aioesphomeapi): hello, device info with the
voice-assistant features, the entities (a media player), the wake-word choice, ping, disconnect, several
clients at once and reconnects; plaintext and Noise (a wrong key, or none, refused)."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
from aioesphomeapi import APIClient, MediaPlayerInfo, VoiceAssistantFeature
from aioesphomeapi.core import APIConnectionError, InvalidEncryptionKeyAPIError

from assistant.remote.esphome.frames import Plaintext
from assistant.remote.esphome.messages import message_type, pb
from assistant.remote.esphome.satellite import EsphomeSatellite, SatelliteError
from support.esphome import KEY, OTHER_KEY, config_for, running

FEATURES = (VoiceAssistantFeature.VOICE_ASSISTANT | VoiceAssistantFeature.SPEAKER | VoiceAssistantFeature.API_AUDIO
            | VoiceAssistantFeature.TIMERS | VoiceAssistantFeature.ANNOUNCE | VoiceAssistantFeature.START_CONVERSATION)


async def connected(port: int, key: str | None = None) -> APIClient:
    client = APIClient("127.0.0.1", port, None, noise_psk=key, client_info="Home Assistant test")
    await client.connect(login=True)
    return client


def test_home_assistant_sees_a_voice_satellite_with_a_media_player(tmp_path: Path) -> None:
    async def session(port: int) -> None:
        client = await connected(port)
        info = await client.device_info()
        assert info.name == "kitchen"
        assert info.voice_assistant_feature_flags_compat(client.api_version) == FEATURES
        entities, _ = await client.list_entities_services()
        players = [e for e in entities if isinstance(e, MediaPlayerInfo)]
        assert len(players) == 1 and players[0].object_id == "media_player"
        config = await client.get_voice_assistant_configuration(5)
        assert [w.id for w in config.available_wake_words] == ["hey_mycroft"]
        assert config.available_wake_words[0].wake_word == "Hey Mycroft"
        assert config.active_wake_words == ["hey_mycroft"]
        await client.disconnect()

    with running(tmp_path) as sat:
        asyncio.run(session(sat.port))


def test_a_local_brain_offers_no_timers_nor_conversations(tmp_path: Path) -> None:
    async def session(port: int) -> int:
        client = await connected(port)
        info = await client.device_info()
        assert client.api_version is not None
        flags = info.voice_assistant_feature_flags_compat(client.api_version)
        await client.disconnect()
        return flags

    with running(tmp_path, brain="local") as sat:
        flags = asyncio.run(session(sat.port))
    assert flags & VoiceAssistantFeature.ANNOUNCE
    assert not flags & (VoiceAssistantFeature.TIMERS | VoiceAssistantFeature.START_CONVERSATION)


def test_ping_and_disconnect_on_the_wire(tmp_path: Path) -> None:
    framing = Plaintext()
    with running(tmp_path) as sat, socket.create_connection(("127.0.0.1", sat.port), timeout=5) as peer:
        for message in (pb.HelloRequest(client_info="raw"), pb.PingRequest(), pb.DisconnectRequest()):
            peer.sendall(framing.encode(message_type(message), message.SerializeToString()))
        received = b""
        while chunk := peer.recv(4096):  # the server closes after answering the disconnect
            received += chunk
    hello, ping, bye = (framing.encode(message_type(m), m.SerializeToString()) for m in (
        pb.HelloResponse(api_version_major=1, api_version_minor=10, server_info="assistant 1.0", name="kitchen"),
        pb.PingResponse(), pb.DisconnectResponse()))
    assert received == hello + ping + bye


def test_several_clients_at_once_and_reconnects(tmp_path: Path) -> None:
    async def session(port: int) -> list[str]:
        clients = await asyncio.gather(*(connected(port) for _ in range(4)))
        names = [info.name for info in await asyncio.gather(*(c.device_info() for c in clients))]
        await asyncio.gather(*(c.disconnect() for c in clients))
        for _ in range(3):  # a reconnecting Home Assistant
            client = await connected(port)
            names.append((await client.device_info()).name)
            await client.disconnect()
        return names

    with running(tmp_path) as sat:
        assert asyncio.run(session(sat.port)) == ["kitchen"] * 7
        deadline = time.monotonic() + 10
        while sat.satellite.server.connections and time.monotonic() < deadline:
            time.sleep(0.05)  # the server notices each goodbye on its own loop
        assert not sat.satellite.server.connections  # every connection let go


def test_noise_with_the_key(tmp_path: Path) -> None:
    async def session(port: int) -> str:
        client = await connected(port, KEY)
        info = await client.device_info()
        entities, _ = await client.list_entities_services()
        assert any(isinstance(e, MediaPlayerInfo) for e in entities)
        await client.disconnect()
        return info.name

    with running(tmp_path, key=KEY) as sat:
        assert asyncio.run(session(sat.port)) == "kitchen"


def test_noise_refuses_a_wrong_key_and_a_plaintext_client(tmp_path: Path) -> None:
    async def refused(port: int, key: str | None) -> None:
        client = APIClient("127.0.0.1", port, None, noise_psk=key)
        try:
            await client.connect(login=True)
        finally:
            await client.disconnect(force=True)

    async def still_serving(port: int) -> str:
        client = await connected(port, KEY)
        name = (await client.device_info()).name
        await client.disconnect()
        return name

    with running(tmp_path, key=KEY) as sat:
        with pytest.raises(InvalidEncryptionKeyAPIError):
            asyncio.run(refused(sat.port, OTHER_KEY))
        with pytest.raises(APIConnectionError):
            asyncio.run(refused(sat.port, None))
        assert asyncio.run(still_serving(sat.port)) == "kitchen"


def test_plaintext_refuses_an_encrypted_client(tmp_path: Path) -> None:
    async def refused(port: int) -> None:
        client = APIClient("127.0.0.1", port, None, noise_psk=KEY)
        try:
            await client.connect(login=True)
        finally:
            await client.disconnect(force=True)

    with running(tmp_path) as sat, pytest.raises(APIConnectionError):
        asyncio.run(refused(sat.port))


def test_a_taken_port_is_one_sentence(tmp_path: Path) -> None:
    with running(tmp_path) as sat:
        config = config_for(port=sat.port)  # the same port, still served by the first satellite
        with pytest.raises(SatelliteError, match=f"cannot serve the ESPHome API on 127.0.0.1:{sat.port}.*port"):
            EsphomeSatellite(config.satellite, sat.pipeline, [], advertise=False).start()
        assert still_named(sat.port) == "kitchen"


def still_named(port: int) -> str:
    async def session() -> str:
        client = await connected(port)
        name = (await client.device_info()).name
        await client.disconnect()
        return name

    return asyncio.run(session())
