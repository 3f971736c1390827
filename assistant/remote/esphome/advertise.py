"""Zeroconf: advertise the API as ``_esphomelib._tcp`` so Home Assistant discovers the satellite."""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

SERVICE = "_esphomelib._tcp.local."


def local_addresses(host: str) -> list[str]:
    """The addresses to advertise: the configured one, or (0.0.0.0) the one a route out would use."""
    if host not in ("0.0.0.0", "", "::"):
        return [host]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            return [probe.getsockname()[0]]
        except OSError:
            return ["127.0.0.1"]


class Advertiser:
    def __init__(self, name: str, mac: str, port: int, host: str, encrypted: bool) -> None:
        self.name, self.mac, self.port, self.host, self.encrypted = name, mac, port, host, encrypted
        self._zeroconf: Any = None
        self.info: Any = None

    async def start(self) -> None:
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        properties = {"version": "2025.5.0", "mac": self.mac.replace(":", "").lower(), "platform": "host",
                      "board": "assistant", "network": "ethernet", "friendly_name": self.name,
                      "project_name": "assistant.voice-satellite", "project_version": "1.0"}
        if self.encrypted:
            properties["api_encryption"] = "Noise_NNpsk0_25519_ChaChaPoly_SHA256"
        addresses = local_addresses(self.host)
        self.info = AsyncServiceInfo(SERVICE, f"{self.name}.{SERVICE}", port=self.port, properties=properties,
                                     server=f"{self.name}.local.",
                                     addresses=[socket.inet_aton(a) for a in addresses])
        interfaces = addresses if self.host not in ("0.0.0.0", "", "::") else "all"
        self._zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        await self._zeroconf.async_register_service(self.info, allow_name_change=True)
        log.info("zeroconf: %s on %s:%d", self.info.name, ", ".join(addresses), self.port)

    async def stop(self) -> None:
        if self._zeroconf is not None:
            try:
                await self._zeroconf.async_unregister_service(self.info)
            finally:
                await self._zeroconf.async_close()
            self._zeroconf = None
