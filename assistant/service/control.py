"""The local control socket: a Unix stream socket speaking line-delimited JSON; this is the server (the
requests are in ``control_commands``, the client in ``control_client``).

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
import logging
import os
import queue
import selectors
import socket
import stat
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config.service import ControlConfig, control_socket_path
from assistant.service.control_client import ControlClient
from assistant.service.control_commands import (
    COMMANDS,
    MAX_TEXT_CHARS,
    ControlError,
    ControlHandler,
    commands_for,
    dispatch,
    encode_reply,
    error_reply,
)

# The client and the requests are their own modules; they are named here too, where users look for them.
__all__ = ["COMMANDS", "MAX_TEXT_CHARS", "ControlClient", "ControlError", "ControlHandler", "ControlServer",
           "peer_allowed", "peer_credentials"]

log = logging.getLogger(__name__)

DEFAULT_MAX_REQUEST_BYTES = 65_536
_SLOT_GRACE_S = 0.5  # how long a connection accepted while all slots are taken waits for one
_UCRED = struct.Struct("3i")  # struct ucred {pid_t pid; uid_t uid; gid_t gid;}


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


class ControlServer:
    """Serves the control socket from its own threads; ``start()`` binds, ``stop()`` closes and unlinks."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        handler: ControlHandler,
        *,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        idle_timeout_s: float = 10.0,
        max_connections: int = 256,
    ) -> None:
        self.path = Path(path)
        self._commands = commands_for(handler)
        self.max_request_bytes = max_request_bytes
        self.idle_timeout_s = idle_timeout_s
        self.max_connections = max_connections
        self._uid = os.geteuid()
        self._selector: selectors.BaseSelector | None = None
        self._reading: set[_Connection] = set()  # waiting for a request line (the loop's)
        self._answering: set[_Connection] = set()  # a request being answered on its own thread
        self._waiting: list[_Connection] = []  # accepted while full: a slot may be freeing
        self._answered: queue.Queue[_Connection] = queue.Queue()  # handed back to the loop
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
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
            sock.listen(1024)  # a burst of clients waits for accept() instead of failing to connect (EAGAIN)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise ControlError(f"cannot serve the control socket at {self.path}: {exc.strerror or exc}") from exc
        st = os.stat(self.path)
        self._inode = (st.st_dev, st.st_ino)
        self._sock = sock
        self._stopping.clear()
        self._selector = selectors.DefaultSelector()
        self._thread = threading.Thread(target=self._loop, name="control", daemon=True)
        self._thread.start()
        log.debug("control socket listening at %s", self.path)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        if self._selector is not None:
            self._selector.close()
            self._selector = None
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
    # One thread (``_loop``) accepts, checks peers and reads request lines for every connection, with a
    # deadline per line that trickled bytes do not extend; a complete line is answered on a thread of its
    # own (``ask`` may take minutes; ``status`` must not wait behind it), after which the connection comes
    # back to the loop for its next request. Idle and slow clients cost a file descriptor, not a thread.

    def _loop(self) -> None:
        sock, selector = self._sock, self._selector
        assert sock is not None and selector is not None
        selector.register(sock, selectors.EVENT_READ, None)
        selector.register(self._wake_r, selectors.EVENT_READ, None)
        while not self._stopping.is_set():
            now = time.monotonic()
            deadline = min((c.deadline for c in (*self._reading, *self._waiting)), default=now + 1.0)
            for key, _ in selector.select(max(0.0, min(deadline - now, 1.0))):
                if key.fileobj is sock:
                    self._accept(sock)
                elif key.fileobj is self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        self._wake_r.recv(4096)
                else:
                    self._read(key.data)
            self._take_back_answered()
            now = time.monotonic()
            self._expire(now)
            self._admit_waiting(now)
        for conn in [*self._reading, *self._answering, *self._waiting]:
            conn.close()

    def _accept(self, sock: socket.socket) -> None:
        try:
            raw, _ = sock.accept()
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                log.warning("control socket: accept failed: %s", exc)
                self._stopping.wait(0.1)  # don't spin while out of descriptors
            return
        try:
            peer = peer_credentials(raw)
        except OSError as exc:
            log.warning("control socket: cannot read peer credentials: %s", exc)
            raw.close()
            return
        if not peer_allowed(peer.uid, self._uid):
            log.warning("control socket: refused pid %d uid %d (only uid %d and root may connect)",
                        peer.pid, peer.uid, self._uid)
            _refuse(raw, error_reply("forbidden", f"permission denied: uid {peer.uid} may not control this assistant"))
            return
        conn = _Connection(raw, peer.pid, time.monotonic() + _SLOT_GRACE_S)
        if self._full:
            # A client that has its answer hangs up at once, but the loop may not have seen that hang-up
            # yet: wait a moment for its slot before calling the server busy.
            if len(self._waiting) >= self.max_connections:
                _refuse(raw, error_reply("busy", "too many control connections; try again"))
            else:
                self._waiting.append(conn)
            return
        self._open(conn)

    @property
    def _full(self) -> bool:
        return len(self._reading) + len(self._answering) >= self.max_connections

    def _open(self, conn: _Connection) -> None:
        conn.sock.setblocking(False)
        conn.deadline = time.monotonic() + self.idle_timeout_s
        self._reading.add(conn)
        assert self._selector is not None
        self._selector.register(conn.sock, selectors.EVENT_READ, conn)

    def _admit_waiting(self, now: float) -> None:
        while self._waiting and not self._full:
            self._open(self._waiting.pop(0))
        for conn in [c for c in self._waiting if c.deadline <= now]:
            self._waiting.remove(conn)
            _refuse(conn.sock, error_reply("busy", "too many control connections; try again"))

    def _read(self, conn: _Connection) -> None:
        try:
            chunk = conn.sock.recv(65_536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(conn)
            return
        conn.buffer += chunk
        self._next_request(conn)

    def _next_request(self, conn: _Connection) -> None:
        """Answer the next complete line in ``conn``'s buffer, if there is one."""
        while True:
            newline = conn.buffer.find(b"\n")
            if newline < 0:
                if len(conn.buffer) > self.max_request_bytes:  # the rest can't be parsed in step: hang up
                    self._drop(conn, error_reply("too_large", f"request longer than {self.max_request_bytes} bytes"))
                return
            line, conn.buffer = conn.buffer[:newline], conn.buffer[newline + 1 :]
            if len(line) > self.max_request_bytes:
                self._drop(conn, error_reply("too_large", f"request longer than {self.max_request_bytes} bytes"))
                return
            if line.strip():
                break
        assert self._selector is not None
        self._selector.unregister(conn.sock)
        self._reading.discard(conn)
        self._answering.add(conn)
        threading.Thread(target=self._answer, args=(conn, line), name=f"control-{conn.pid}", daemon=True).start()

    def _answer(self, conn: _Connection, line: bytes) -> None:
        try:
            reply = encode_reply(self.dispatch(line))
            conn.sock.settimeout(self.idle_timeout_s)  # a client that never reads its reply is let go
            conn.sock.sendall(reply)
            conn.sock.setblocking(False)
        except OSError as exc:
            log.debug("control connection closed: %s", exc)
            conn.failed = True
        except Exception:  # dispatch never raises; should it ever, the connection still goes back
            log.exception("control request failed")
            conn.failed = True
        finally:
            self._answered.put(conn)
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")

    def _take_back_answered(self) -> None:
        while True:
            try:
                conn = self._answered.get_nowait()
            except queue.Empty:
                return
            self._answering.discard(conn)
            if conn.failed or self._stopping.is_set():
                conn.close()
                continue
            conn.deadline = time.monotonic() + self.idle_timeout_s  # the next request's own deadline
            self._reading.add(conn)
            assert self._selector is not None
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
            self._next_request(conn)  # a pipelined request may be waiting in the buffer already

    def _expire(self, now: float) -> None:
        for conn in [c for c in self._reading if c.deadline <= now]:
            message = "no request" if not conn.buffer else "request not finished"
            self._drop(conn, error_reply("timeout", f"{message} within {self.idle_timeout_s:g} s"))

    def dispatch(self, line: bytes) -> dict[str, Any]:
        """One request line in, one reply object out. Never raises."""
        return dispatch(self._commands, line)

    def _drop(self, conn: _Connection, reply: dict[str, Any] | None = None) -> None:
        assert self._selector is not None
        self._selector.unregister(conn.sock)
        self._reading.discard(conn)
        if reply is not None:
            _refuse(conn.sock, reply)
        else:
            conn.close()

def _refuse(sock: socket.socket, reply: dict[str, Any]) -> None:
    """Send a one-line error without waiting on the client, and hang up."""
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        sock.send(encode_reply(reply))
    sock.close()


@dataclass(eq=False)
class _Connection:
    sock: socket.socket
    pid: int
    deadline: float  # the request line being read must be whole by then
    buffer: bytes = b""
    failed: bool = False

    def close(self) -> None:
        self.sock.close()
