"""The control socket's client: what `assistant status|say|ask|mute|reload` and the tests use."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from typing import Any

from assistant.service.control_commands import ControlError


class ControlClient:
    """Sends requests to a running daemon. Raises ControlError (code ``not_running``, ``forbidden``, ...)."""

    def __init__(self, path: str | os.PathLike[str], timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s

    def request(self, cmd: str, timeout_s: float | None = None, **params: Any) -> dict[str, Any]:
        """Send one request and return its ``result``; an error reply raises ControlError."""
        reply = self.raw(json.dumps({"cmd": cmd, **params}, ensure_ascii=False).encode("utf-8"), timeout_s)
        if not reply.get("ok"):
            raise ControlError(str(reply.get("error", "request failed")), str(reply.get("code", "error")))
        result = reply.get("result")
        return result if isinstance(result, dict) else {}

    def raw(self, line: bytes, timeout_s: float | None = None) -> dict[str, Any]:
        """Send bytes as one request line and return the decoded reply object (for tests and debugging)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.settimeout(self.timeout_s if timeout_s is None else timeout_s)
        try:
            try:
                sock.connect(str(self.path))
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                raise ControlError(f"the assistant is not running (nothing listens at {self.path})",
                                   "not_running") from exc
            except PermissionError as exc:
                raise ControlError(f"permission denied on {self.path}: run as the user the assistant runs as, "
                                   "or as root", "forbidden") from exc
            try:
                # Refused at accept (forbidden/busy): our write may fail, but the server's reply is queued for us.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(line + b"\n")
                data = _read_line(sock)
            except TimeoutError as exc:
                raise ControlError(f"no reply from the assistant within {sock.gettimeout():g} s", "timeout") from exc
            except OSError as exc:
                raise ControlError(f"control connection failed: {exc}", "connection") from exc
        finally:
            sock.close()
        try:
            reply = json.loads(data)
        except ValueError as exc:
            raise ControlError(f"garbled reply from the assistant: {data[:80]!r}", "protocol") from exc
        if not isinstance(reply, dict):
            raise ControlError(f"garbled reply from the assistant: {data[:80]!r}", "protocol")
        return reply


def _read_line(sock: socket.socket) -> bytes:
    buffer = b""
    while b"\n" not in buffer:
        chunk = sock.recv(65_536)
        if not chunk:
            if not buffer:
                raise ControlError("the assistant closed the connection without replying", "connection")
            break
        buffer += chunk
    return buffer.split(b"\n", 1)[0]
