"""Zeroconf: Home Assistant finds the satellite as ``_esphomelib._tcp`` (on loopback here), with the port,
the MAC it keys the device on and whether the API is encrypted, and connects to what it found."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from aioesphomeapi import APIClient
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from assistant.remote.esphome.advertise import SERVICE
from support.esphome import KEY, running


def test_home_assistant_discovers_and_connects(tmp_path: Path) -> None:
    name = f"test-{os.getpid()}"  # unique on a shared loopback

    async def discover() -> tuple[str, int, dict[bytes, bytes | None], str]:
        zeroconf = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
        try:
            info = AsyncServiceInfo(SERVICE, f"{name}.{SERVICE}")
            assert await info.async_request(zeroconf.zeroconf, 5000)
            address, port = info.parsed_addresses()[0], info.port
            assert port is not None
        finally:
            await zeroconf.async_close()
        client = APIClient(address, port, None, noise_psk=KEY)
        await client.connect(login=True)
        device = await client.device_info()
        await client.disconnect()
        return address, port, info.properties, device.mac_address

    with running(tmp_path, key=KEY, name=name, advertise=True) as sat:
        address, port, properties, mac = asyncio.run(discover())
    assert (address, port) == ("127.0.0.1", sat.port)
    assert properties[b"mac"] == mac.replace(":", "").lower().encode()
    assert properties[b"api_encryption"] == b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
