"""sd_notify(3) without libsystemd: one datagram of ``KEY=value`` lines sent to ``$NOTIFY_SOCKET``.

Outside systemd (no ``$NOTIFY_SOCKET``) every call is a cheap no-op that returns False, so the daemon
calls the same methods whether or not it runs under a ``Type=notify`` unit.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


def _address(value: str) -> str | None:
    """The socket address from $NOTIFY_SOCKET: a path, or '@name' for the abstract namespace."""
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None  # vsock ("vsock:CID:PORT") and relative paths are not for a local service


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    """$WATCHDOG_USEC, if it is meant for this process ($WATCHDOG_PID, when set, must be our pid)."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None  # meant for a parent or sibling: pinging would be ignored anyway
        except ValueError:
            return None
    return usec


def _one_line(text: str) -> str:
    # A newline would start a new KEY=value assignment in the datagram.
    return " ".join(text.splitlines())


class Notifier:
    """Talks to the service manager. Thread-safe; failures are logged once and never raised."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self._address = address
        self.watchdog_usec = watchdog_usec
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._warned = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, unset: bool = False) -> Notifier:
        """Read $NOTIFY_SOCKET and $WATCHDOG_USEC/$WATCHDOG_PID.

        ``unset=True`` removes them from ``os.environ`` so child processes (commands run by skills)
        don't notify systemd in our name.
        """
        source = os.environ if env is None else env
        raw = source.get("NOTIFY_SOCKET", "")
        notifier = cls(_address(raw) if raw else None, _watchdog_usec(source))
        if unset and env is None:
            for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
                os.environ.pop(name, None)
        return notifier

    @property
    def enabled(self) -> bool:
        return self._address is not None

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often to send WATCHDOG=1: half the timeout, as sd_watchdog_enabled(3) recommends. None: off."""
        return None if self.watchdog_usec is None else self.watchdog_usec / 2e6

    def send(self, **fields: str | int) -> bool:
        """Send ``KEY=value`` lines in one datagram (keys upper-cased). True if the manager got it."""
        if self._address is None:
            return False
        payload = "\n".join(f"{key.upper()}={_one_line(str(value))}" for key, value in fields.items())
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.sendto(payload.encode("utf-8"), self._address)
            except OSError as exc:
                if not self._warned:  # the watchdog path would otherwise log every few seconds
                    log.warning("cannot notify the service manager at %r: %s", self._address, exc)
                    self._warned = True
                return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """Startup (or a reload) is finished: models loaded, mic open."""
        fields: dict[str, str | int] = {"READY": 1, "MAINPID": os.getpid()}
        if status is not None:
            fields["STATUS"] = status
        return self.send(**fields)

    def status(self, text: str) -> bool:
        """A one-line state shown by `systemctl status` ("listening", "thinking…", "last turn 820 ms")."""
        return self.send(STATUS=text)

    def watchdog(self) -> bool:
        """Keep-alive: call it from the main loop only while every stage is healthy."""
        if self.watchdog_usec is None:
            return False
        return self.send(WATCHDOG=1)

    def watchdog_trigger(self) -> bool:
        """Tell systemd the service is unhealthy now (it acts as if the watchdog timed out)."""
        return self.send(WATCHDOG="trigger")

    def reloading(self, status: str | None = None) -> bool:
        """A reload began; send ready() when it is done. MONOTONIC_USEC is what Type=notify-reload requires."""
        fields: dict[str, str | int] = {"RELOADING": 1, "MONOTONIC_USEC": time.clock_gettime_ns(time.CLOCK_MONOTONIC)
                                         // 1000}
        if status is not None:
            fields["STATUS"] = status
        return self.send(**fields)

    def stopping(self, status: str | None = None) -> bool:
        fields: dict[str, str | int] = {"STOPPING": 1}
        if status is not None:
            fields["STATUS"] = status
        return self.send(**fields)

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more time during a slow start/stop (e.g. a first-run model download)."""
        return self.send(EXTEND_TIMEOUT_USEC=int(seconds * 1e6))

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
