"""The local control socket: a Unix stream socket speaking line-delimited JSON, server and client.

Protocol: the client sends one JSON object per line, ``{"cmd": "status"}``, ``{"cmd": "say", "text": "hi"}``,
``{"cmd": "mute", "muted": true}``; an optional ``"id"`` is echoed back. Every request gets exactly one
reply line: ``{"ok": true, "result": {...}}`` or ``{"ok": false, "code": "bad_request", "error": "..."}``.
A connection may carry several requests. Oversized lines, idle connections and peers of another uid get an
error reply and are closed; nothing a client sends can crash the server.

Access control is two layers: the socket file is mode 0600 in a 0700 folder, and every connection's
SO_PEERCRED uid must be ours or root's (so a mistaken chmod or a shared folder still doesn't let other
users in).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import stat
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assistant.config.service import ControlConfig, control_socket_path

log = logging.getLogger(__name__)

DEFAULT_MAX_REQUEST_BYTES = 65_536
_UCRED = struct.Struct("3i")  # struct ucred {pid_t pid; uid_t uid; gid_t gid;}


_SLOT_GRACE_S = 0.5  # how long a new connection waits for a slot that is being freed

class ControlHandler(Protocol):
    """What the daemon provides. Methods may be called concurrently from connection threads."""

    def status(self) -> dict[str, Any]: ...

    def say(self, text: str) -> dict[str, Any]: ...

    def ask(self, text: str) -> dict[str, Any]: ...

    def mute(self, muted: bool) -> None: ...

    def listen(self) -> None: ...

    def reload(self) -> dict[str, Any]: ...


class ControlError(Exception):
    """A request the server refused, or a server that can't be reached. ``code`` is machine-readable."""

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class PeerCredentials:
    pid: int
    uid: int
    gid: int


def peer_credentials(conn: socket.socket) -> PeerCredentials:
    pid, uid, gid = _UCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return PeerCredentials(pid, uid, gid)


def peer_allowed(peer_uid: int, own_uid: int) -> bool:
    """Only our own user and root may control the assistant."""
    return peer_uid in (own_uid, 0)


def _text_param(request: dict[str, Any]) -> str:
    text = request.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ControlError("'text' must be a non-empty string", "bad_request")
    return text.strip()


def _commands(handler: ControlHandler) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    def mute(request: dict[str, Any]) -> dict[str, Any]:
        muted = request.get("muted", True)
        if not isinstance(muted, bool):
            raise ControlError("'muted' must be true or false", "bad_request")
        handler.mute(muted)
        return {"muted": muted}

    def unmute(_: dict[str, Any]) -> dict[str, Any]:
        handler.mute(False)
        return {"muted": False}

    def listen(_: dict[str, Any]) -> dict[str, Any]:
        handler.listen()
        return {"listening": True}

    return {
        "ping": lambda _: {"pong": True, "pid": os.getpid()},
        "status": lambda _: handler.status(),
        "say": lambda r: handler.say(_text_param(r)),
        "ask": lambda r: handler.ask(_text_param(r)),
        "mute": mute,
        "unmute": unmute,
        "listen": listen,
        "reload": lambda _: handler.reload(),
    }


COMMANDS = ("ping", "status", "say", "ask", "mute", "unmute", "listen", "reload")


def _error(code: str, message: str, request_id: Any = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"ok": False, "code": code, "error": message}
    if request_id is not None:
        reply["id"] = request_id
    return reply


class ControlServer:
    """Serves the control socket from its own threads; ``start()`` binds, ``stop()`` closes and unlinks."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        handler: ControlHandler,
        *,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        idle_timeout_s: float = 10.0,
        max_connections: int = 8,
    ) -> None:
        self.path = Path(path)
        self._commands = _commands(handler)
        self.max_request_bytes = max_request_bytes
        self.idle_timeout_s = idle_timeout_s
        self._slots = threading.BoundedSemaphore(max_connections)
        self._uid = os.geteuid()
        self._sock: socket.socket | None = None
        self._inode: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @classmethod
    def from_config(cls, config: ControlConfig, handler: ControlHandler) -> ControlServer:
        return cls(control_socket_path(config.socket), handler, max_request_bytes=config.max_request_bytes,
                   idle_timeout_s=config.idle_timeout_s, max_connections=config.max_connections)

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> ControlServer:
        self._prepare_directory()
        self._remove_stale_socket()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            sock.bind(str(self.path))
            # connect(2) needs write permission, and the usual umask already withholds it from others
            # between bind and this chmod; the peer-credential check covers any umask anyway.
            os.chmod(self.path, 0o600)
            sock.listen(16)
        except OSError as exc:
            sock.close()
            raise ControlError(f"cannot serve the control socket at {self.path}: {exc.strerror or exc}") from exc
        st = os.stat(self.path)
        self._inode = (st.st_dev, st.st_ino)
        self._sock = sock
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept_loop, name="control-accept", daemon=True)
        self._thread.start()
        log.debug("control socket listening at %s", self.path)
        return self

    def stop(self) -> None:
        self._stopping.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes accept() in the server thread on Linux
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._unlink_if_ours()

    def __enter__(self) -> ControlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _prepare_directory(self) -> None:
        parent = self.path.parent
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = parent.stat()
        except OSError as exc:
            raise ControlError(f"cannot create {parent} for the control socket: {exc.strerror or exc}") from exc
        if st.st_uid not in (self._uid, 0):
            # e.g. a /tmp/assistant-UID pre-created by someone else to intercept our socket.
            raise ControlError(f"{parent} belongs to uid {st.st_uid}, not to us; remove it or choose another socket")

    def _remove_stale_socket(self) -> None:
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ControlError(f"{self.path} exists and is not a socket; remove it or choose another socket path")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(str(self.path))
        except (ConnectionRefusedError, FileNotFoundError):
            self.path.unlink(missing_ok=True)  # left behind by a process that died
            return
        except OSError:
            pass  # unreachable for another reason: treat as alive, refuse below
        finally:
            probe.close()
        raise ControlError(f"another assistant is already serving {self.path}")

    def _unlink_if_ours(self) -> None:
        # A newer instance may have replaced the socket after we stopped listening: leave that one alone.
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if self._inode == (st.st_dev, st.st_ino):
            self.path.unlink(missing_ok=True)
        self._inode = None

    # -- serving ----------------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            sock = self._sock
            if sock is None:
                return
            try:
                conn, _ = sock.accept()
            except OSError as exc:
                if self._stopping.is_set():
                    return
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("control socket: accept failed: %s", exc)
                    self._stopping.wait(0.1)  # don't spin while out of descriptors
                continue
            self._admit(conn)

    def _admit(self, conn: socket.socket) -> None:
        conn.settimeout(self.idle_timeout_s)
        try:
            peer = peer_credentials(conn)
        except OSError as exc:
            log.warning("control socket: cannot read peer credentials: %s", exc)
            conn.close()
            return
        if not peer_allowed(peer.uid, self._uid):
            log.warning("control socket: refused pid %d uid %d (only uid %d and root may connect)",
                        peer.pid, peer.uid, self._uid)
            self._send_and_close(conn, _error("forbidden", f"permission denied: uid {peer.uid} may not control "
                                                           "this assistant"))
            return
        # A client that has its answer hangs up at once, but the thread that served it may not have seen the
        # hang-up yet on a busy machine: wait a moment for its slot before calling the server busy.
        if not self._slots.acquire(timeout=_SLOT_GRACE_S):
            self._send_and_close(conn, _error("busy", "too many control connections; try again"))
            return
        threading.Thread(target=self._serve, args=(conn,), name=f"control-{peer.pid}", daemon=True).start()

    def _send_and_close(self, conn: socket.socket, reply: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(_encode(reply))
        conn.close()

    def _serve(self, conn: socket.socket) -> None:
        try:
            buffer = b""
            while not self._stopping.is_set():
                newline = buffer.find(b"\n")
                if newline < 0:
                    if len(buffer) > self.max_request_bytes:
                        conn.sendall(_encode(_error("too_large", f"request longer than {self.max_request_bytes} "
                                                                 "bytes")))
                        return  # the rest of the line can't be parsed in step with the client: hang up
                    try:
                        chunk = conn.recv(65_536)
                    except TimeoutError:
                        conn.sendall(_encode(_error("timeout", f"no request within {self.idle_timeout_s:g} s")))
                        return
                    if not chunk:
                        return
                    buffer += chunk
                    continue
                line, buffer = buffer[:newline], buffer[newline + 1 :]
                if len(line) > self.max_request_bytes:
                    conn.sendall(_encode(_error("too_large", f"request longer than {self.max_request_bytes} bytes")))
                    return
                if line.strip():
                    conn.sendall(_encode(self.dispatch(line)))
        except OSError as exc:
            log.debug("control connection closed: %s", exc)
        finally:
            conn.close()
            self._slots.release()

    def dispatch(self, line: bytes) -> dict[str, Any]:
        """One request line in, one reply object out. Never raises."""
        try:
            request = json.loads(line)
        except (UnicodeDecodeError, ValueError) as exc:
            return _error("bad_request", f"not a JSON object: {exc}")
        if not isinstance(request, dict):
            return _error("bad_request", "a request must be a JSON object like {\"cmd\": \"status\"}")
        request_id = request.get("id")
        cmd = request.get("cmd")
        command = self._commands.get(cmd) if isinstance(cmd, str) else None
        if command is None:
            return _error("unknown_command", f"unknown cmd {cmd!r}; one of: {', '.join(COMMANDS)}", request_id)
        try:
            result = command(request)
        except ControlError as exc:
            return _error(exc.code, str(exc), request_id)
        except Exception as exc:  # the daemon must survive a failing handler; the client sees why
            log.exception("control command %r failed", cmd)
            return _error("internal", f"{cmd} failed: {exc}", request_id)
        reply: dict[str, Any] = {"ok": True, "result": result if result is not None else {}}
        if request_id is not None:
            reply["id"] = request_id
        return reply


def _encode(reply: dict[str, Any]) -> bytes:
    return (json.dumps(reply, ensure_ascii=False, default=str) + "\n").encode("utf-8")


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
