"""Zeroconf (mDNS) advertising of our Wyoming server as ``_wyoming._tcp.local.``, so Home Assistant finds it.

Best effort: a box (or a test sandbox) without a multicast network still serves; it logs why it is not
advertised and goes on.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

SERVICE_TYPE = "_wyoming._tcp.local."
MDNS_GROUP = "224.0.0.251"


def own_address() -> str:
    """The address other machines reach us at: the one the route to the mDNS group leaves from."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((MDNS_GROUP, 1))  # UDP: no packet is sent
        return str(probe.getsockname()[0])


class Advertisement:
    def __init__(self, name: str, port: int, host: str | None = None) -> None:
        self.name = name
        self.port = port
        self.host = host
        self._zeroconf: Any = None
        self._info: Any = None

    async def start(self) -> bool:
        """Register the service; False (and a log line) when it cannot be advertised."""
        try:
            from zeroconf import IPVersion
            from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

            host = self.host if self.host and self.host not in ("0.0.0.0", "::") else own_address()
            interfaces = [host] if self.host and self.host not in ("0.0.0.0", "::") else None
            self._zeroconf = (AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
                              if interfaces else AsyncZeroconf(ip_version=IPVersion.V4Only))
            self._info = AsyncServiceInfo(SERVICE_TYPE, f"{self.name}.{SERVICE_TYPE}",
                                          addresses=[socket.inet_aton(host)], port=self.port,
                                          server=f"{socket.gethostname()}.local.")
            await self._zeroconf.async_register_service(self._info)
        except Exception as exc:  # no network, no multicast route, a name clash: serving goes on
            log.warning("wyoming: not advertised over zeroconf (%s: %s); add the server in Home Assistant by "
                        "its address instead", type(exc).__name__, exc)
            await self.stop()
            return False
        log.info("wyoming: advertised as %r (%s) at %s:%d", self.name, SERVICE_TYPE, host, self.port)
        return True

    async def stop(self) -> None:
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is None:
            return
        try:
            if self._info is not None:
                await zeroconf.async_unregister_service(self._info)
            await zeroconf.async_close()
        except Exception as exc:
            log.debug("wyoming: zeroconf close: %s", exc)
