"""The control socket over a real Unix socket: protocol, robustness, access control, CLI verbs."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.cli.main import UserError
from assistant.service.control import (
    ControlClient,
    ControlError,
    ControlServer,
    peer_allowed,
    peer_credentials,
)
from assistant.service.control_commands import encode_reply
from support.cli import run_service_cli

NOBODY = 65_534


class FakeHandler:
    """Records calls; ``ask`` can be held until released, and ``reload`` made to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.asking = threading.Event()  # set when an ask is in the handler
        self.release_ask: threading.Event | None = None  # an ask waits for this, when set
        self.fail_reload = False
        self.reject_reload = False

    def status(self) -> dict[str, Any]:
        self.calls.append(("status", None))
        return {"state": "listening", "uptime_s": 3725.0, "model": "tiny.en", "device": "cpu", "muted": False,
                "dropped_frames": 0,
                "last_turns": [{"transcript": "what time is it", "handled_by": "skill",
                                "latency_ms": {"asr": 610.0, "total": 1430.0}}]}

    def say(self, text: str) -> dict[str, Any]:
        self.calls.append(("say", text))
        return {"spoken": text}

    def ask(self, text: str) -> dict[str, Any]:
        self.calls.append(("ask", text))
        self.asking.set()
        if self.release_ask is not None:
            self.release_ask.wait(30)
        return {"reply": f"you asked: {text}", "handled_by": "fallback"}

    def mute(self, muted: bool) -> None:
        self.calls.append(("mute", muted))

    def listen(self) -> None:
        self.calls.append(("listen", None))

    def reload(self) -> dict[str, Any]:
        self.calls.append(("reload", None))
        if self.fail_reload:
            raise RuntimeError("config broke")
        if self.reject_reload:
            return {"reloaded": False, "problems": ["vad.aggressiveness: must be <= 3"]}
        return {"reloaded": True, "changed": ["vad", "tts"]}


@pytest.fixture
def sockdir() -> Iterator[Path]:
    # AF_UNIX paths are limited to 108 bytes: pytest's tmp_path can be longer.
    with tempfile.TemporaryDirectory(prefix="ctl", dir="/tmp") as tmp:
        yield Path(tmp)


@pytest.fixture
def handler() -> FakeHandler:
    return FakeHandler()


@pytest.fixture
def server(sockdir: Path, handler: FakeHandler) -> Iterator[ControlServer]:
    srv = ControlServer(sockdir / "run" / "control.sock", handler, max_request_bytes=1024, idle_timeout_s=1.0,
                        max_connections=2).start()
    yield srv
    srv.stop()


def connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(str(path))
    return sock


def read_reply(sock: socket.socket) -> dict[str, Any]:
    buffer = b""
    while not buffer.endswith(b"\n"):  # byte by byte: a second reply may follow on the same connection
        chunk = sock.recv(1)
        assert chunk, f"connection closed after {buffer!r}"
        buffer += chunk
    reply = json.loads(buffer)
    assert isinstance(reply, dict)
    return reply


def is_closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


# -- protocol -----------------------------------------------------------------------------------------
def test_every_command_reaches_the_handler(server: ControlServer, handler: FakeHandler) -> None:
    client = ControlClient(server.path)
    assert client.request("status")["state"] == "listening"
    assert client.request("say", text="hello there") == {"spoken": "hello there"}
    assert client.request("ask", text="  what time is it ")["reply"] == "you asked: what time is it"
    assert client.request("mute") == {"muted": True}
    assert client.request("mute", muted=False) == {"muted": False}
    assert client.request("unmute") == {"muted": False}
    assert client.request("listen") == {"listening": True}
    assert client.request("reload") == {"reloaded": True, "changed": ["vad", "tts"]}
    assert client.request("ping")["pid"] == os.getpid()
    assert handler.calls == [("status", None), ("say", "hello there"), ("ask", "what time is it"), ("mute", True),
                             ("mute", False), ("mute", False), ("listen", None), ("reload", None)]


def test_socket_is_private(server: ControlServer) -> None:
    assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(server.path.parent).st_mode) == 0o700


def test_several_requests_on_one_connection_with_ids(server: ControlServer) -> None:
    with connect(server.path) as sock:
        sock.sendall(b'{"cmd": "ping", "id": 1}\n\n{"cmd": "mute", "muted": true, "id": "b"}\n')
        first, second = read_reply(sock), read_reply(sock)
    assert first["ok"] and first["id"] == 1
    assert second == {"ok": True, "result": {"muted": True}, "id": "b"}


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"this is not json", "bad_request"),
        (b"[1, 2, 3]", "bad_request"),
        (b'"status"', "bad_request"),
        (b"\xff\xfe{}", "bad_request"),
        (b"{}", "unknown_command"),
        (b'{"cmd": "rm -rf /"}', "unknown_command"),
        (b'{"cmd": 42}', "unknown_command"),
        (b'{"cmd": "say"}', "bad_request"),
        (b'{"cmd": "say", "text": "   "}', "bad_request"),
        (b'{"cmd": "ask", "text": ["a"]}', "bad_request"),
        (b'{"cmd": "mute", "muted": "yes"}', "bad_request"),
    ],
)
def test_malformed_requests_get_errors_and_the_connection_survives(server: ControlServer, line: bytes,
                                                                    code: str) -> None:
    with connect(server.path) as sock:
        sock.sendall(line + b"\n")
        reply = read_reply(sock)
        assert reply["ok"] is False and reply["code"] == code and reply["error"]
        sock.sendall(b'{"cmd": "ping"}\n')
        assert read_reply(sock)["ok"] is True


def test_oversized_request_is_refused_and_closed(server: ControlServer, handler: FakeHandler) -> None:
    with connect(server.path) as sock:
        sock.sendall(b'{"cmd": "say", "text": "' + b"a" * 5000)  # no newline: the server must not wait forever
        reply = read_reply(sock)
        assert reply["code"] == "too_large"
        assert is_closed(sock)
    with connect(server.path) as sock:  # a whole oversized line too
        sock.sendall(b'{"cmd": "say", "text": "' + b"b" * 2000 + b'"}\n')
        assert read_reply(sock)["code"] == "too_large"
    assert handler.calls == []
    assert ControlClient(server.path).request("ping")["pong"] is True


def test_idle_connection_times_out(server: ControlServer) -> None:
    with connect(server.path) as sock:
        started = time.monotonic()
        reply = read_reply(sock)
        assert reply["code"] == "timeout"
        assert 0.8 < time.monotonic() - started < 4
        assert is_closed(sock)


def test_failing_handler_is_an_error_reply(server: ControlServer, handler: FakeHandler) -> None:
    handler.fail_reload = True
    with pytest.raises(ControlError) as info:
        ControlClient(server.path).request("reload")
    assert info.value.code == "internal" and "config broke" in str(info.value)
    assert ControlClient(server.path).request("status")["state"] == "listening"


def test_connection_limit(sockdir: Path, handler: FakeHandler) -> None:
    # idle connections are not timed out during the test: a slow machine would free a held slot
    server = ControlServer(sockdir / "control.sock", handler, idle_timeout_s=60, max_connections=2).start()
    try:
        check_connection_limit(server)
    finally:
        server.stop()


def check_connection_limit(server: ControlServer) -> None:
    held = [connect(server.path), connect(server.path)]
    try:
        for sock in held:  # make sure both are admitted before the third arrives
            sock.sendall(b'{"cmd": "ping"}\n')
            assert read_reply(sock)["ok"]
        with connect(server.path) as third:
            assert read_reply(third)["code"] == "busy"
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while True:  # the slots come back once the server sees the hang-ups
        try:
            assert ControlClient(server.path).request("ping")["pong"]
            break
        except ControlError as exc:
            assert exc.code == "busy" and time.monotonic() < deadline
            time.sleep(0.05)


def test_slow_ask_does_not_block_status(server: ControlServer, handler: FakeHandler) -> None:
    handler.release_ask = threading.Event()
    result: dict[str, Any] = {}
    asker = threading.Thread(target=lambda: result.update(ControlClient(server.path).request("ask", text="hm")))
    asker.start()
    assert handler.asking.wait(10)
    # answered while the ask is still held in its handler (a status stuck behind it would never come back)
    assert ControlClient(server.path, timeout_s=10).request("status")["state"] == "listening"
    assert asker.is_alive() and not result
    handler.release_ask.set()
    asker.join(10)
    assert result["reply"] == "you asked: hm"


# -- lifecycle ------------------------------------------------------------------------------------------
def test_stop_removes_the_socket_and_clients_see_not_running(sockdir: Path, handler: FakeHandler) -> None:
    srv = ControlServer(sockdir / "c.sock", handler).start()
    srv.stop()
    assert not (sockdir / "c.sock").exists()
    with pytest.raises(ControlError) as info:
        ControlClient(sockdir / "c.sock").request("status")
    assert info.value.code == "not_running"


def test_stale_socket_is_replaced(sockdir: Path, handler: FakeHandler) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sockdir / "c.sock"))
    stale.close()  # the file stays, nobody listens: what a SIGKILLed daemon leaves
    with ControlServer(sockdir / "c.sock", handler) as srv:
        assert ControlClient(srv.path).request("ping")["pong"]


def test_a_live_socket_is_not_stolen(server: ControlServer, handler: FakeHandler) -> None:
    with pytest.raises(ControlError, match="already serving"):
        ControlServer(server.path, handler).start()
    assert ControlClient(server.path).request("ping")["pong"]


def test_a_regular_file_is_not_deleted(sockdir: Path, handler: FakeHandler) -> None:
    (sockdir / "c.sock").write_text("precious")
    with pytest.raises(ControlError, match="not a socket"):
        ControlServer(sockdir / "c.sock", handler).start()
    assert (sockdir / "c.sock").read_text() == "precious"


def test_folder_owned_by_someone_else_is_refused(sockdir: Path, handler: FakeHandler) -> None:
    foreign = sockdir / "foreign"
    foreign.mkdir()
    os.chown(foreign, NOBODY, NOBODY)
    with pytest.raises(ControlError, match="belongs to uid"):
        ControlServer(foreign / "c.sock", handler).start()


# -- access control -------------------------------------------------------------------------------------
def test_peer_allowed_rule() -> None:
    assert peer_allowed(1000, 1000)
    assert peer_allowed(0, 1000)
    assert not peer_allowed(1001, 1000)
    assert not peer_allowed(NOBODY, 0)


def test_peer_credentials_of_a_real_connection(server: ControlServer) -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        creds = peer_credentials(a)
    assert (creds.pid, creds.uid, creds.gid) == (os.getpid(), os.geteuid(), os.getegid())


def _as_nobody(path: Path) -> dict[str, Any]:
    """Fork a child that drops to uid nobody, connects, sends a request; return what it saw."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: only syscalls, then _exit
        outcome: dict[str, Any]
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(5)
            sock.connect(str(path))
            # the server may have refused and hung up before we wrote: its reply is still queued
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(b'{"cmd": "say", "text": "pwned"}\n')
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            try:
                closed = sock.recv(1) == b""
            except ConnectionResetError:  # closed with our request unread: a reset, after the reply
                closed = True
            outcome = {"reply": json.loads(data) if data else None, "closed": closed}
        except OSError as exc:
            outcome = {"errno": exc.errno}
        except BaseException as exc:
            outcome = {"exception": repr(exc)}
        os.write(write_end, json.dumps(outcome).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    result = json.loads(data)
    assert isinstance(result, dict)
    return result


def test_another_user_cannot_reach_the_socket_file(server: ControlServer, handler: FakeHandler) -> None:
    # Layer 1: the 0700 folder and the 0600 socket stop uid nobody at connect().
    outcome = _as_nobody(server.path)
    assert outcome == {"errno": 13}  # EACCES
    assert handler.calls == []


def test_another_user_is_refused_by_peer_credentials(server: ControlServer, handler: FakeHandler) -> None:
    # Layer 2: even with the permissions opened up by mistake, SO_PEERCRED refuses uid nobody.
    os.chmod(server.path.parent.parent, 0o755)  # the test's temporary folder
    os.chmod(server.path.parent, 0o755)
    os.chmod(server.path, 0o666)
    outcome = _as_nobody(server.path)
    assert "reply" in outcome, outcome
    assert outcome["reply"]["ok"] is False and outcome["reply"]["code"] == "forbidden"
    assert outcome["closed"] is True
    assert handler.calls == []
    assert ControlClient(server.path).request("ping")["pong"]  # and the server carries on


# -- CLI verbs ------------------------------------------------------------------------------------------
def test_cli_status_json_and_text(server: ControlServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_service_cli(["status", "--socket", str(server.path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "tiny.en"
    assert run_service_cli(["status", "--socket", str(server.path)]) == 0
    out = capsys.readouterr().out
    assert "state:          listening" in out
    assert "uptime:         1h 2m" in out
    assert '"what time is it" -> skill  asr=610ms total=1430ms' in out


def test_cli_verbs(server: ControlServer, handler: FakeHandler, capsys: pytest.CaptureFixture[str]) -> None:
    sock = str(server.path)
    assert run_service_cli(["mute", "--socket", sock]) == 0
    assert run_service_cli(["unmute", "--socket", sock]) == 0
    assert run_service_cli(["listen", "--socket", sock]) == 0
    assert run_service_cli(["reload", "--socket", sock]) == 0
    assert run_service_cli(["ctl", "say", "good", "morning", "--socket", sock]) == 0
    assert run_service_cli(["ctl", "--socket", sock, "ask", "is it raining"]) == 0
    out = capsys.readouterr().out
    assert "reloaded: vad, tts changed" in out and "you asked: is it raining" in out
    assert handler.calls == [("mute", True), ("mute", False), ("listen", None), ("reload", None),
                             ("say", "good morning"), ("ask", "is it raining")]


def test_cli_reload_that_the_daemon_rejects_is_an_error(server: ControlServer, handler: FakeHandler) -> None:
    """A broken config file: `assistant reload` must not print "reloaded" and exit 0 (it once did)."""
    handler.reject_reload = True
    with pytest.raises(UserError) as info:
        run_service_cli(["reload", "--socket", str(server.path)])
    assert info.value.code == 1
    assert str(info.value) == ("not reloaded, the daemon keeps its running configuration: "
                               "vad.aggressiveness: must be <= 3")


def test_cli_reports_a_daemon_that_is_not_running(sockdir: Path) -> None:
    with pytest.raises(UserError) as info:
        run_service_cli(["status", "--socket", str(sockdir / "nothing.sock")])
    assert info.value.code == 3 and "not running" in str(info.value)


def test_cli_finds_the_socket_from_the_runtime_dir(sockdir: Path, handler: FakeHandler,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ASSISTANT_CONTROL_SOCKET", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    monkeypatch.delenv("ASSISTANT_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(sockdir / "config"))  # no config file: built-in defaults
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(sockdir))
    with ControlServer(sockdir / "assistant" / "control.sock", handler):
        assert run_service_cli(["ctl", "ping", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pong"] is True


def test_back_to_back_requests_are_never_turned_away(sockdir: Path, handler: FakeHandler) -> None:
    """One client asking again the moment it has its answer: the slot its last connection held is being
    freed, not taken, so the server must not call itself busy (it did on a loaded machine)."""
    server = ControlServer(sockdir / "control.sock", handler, max_connections=1).start()
    try:
        client = ControlClient(server.path)
        for _ in range(300):
            assert client.request("ping")["pong"]
    finally:
        server.stop()


# -- hostile clients ------------------------------------------------------------------------------------
def test_a_lone_surrogate_is_replaced_at_the_boundary(server: ControlServer, handler: FakeHandler) -> None:
    """JSON can carry half of a UTF-16 pair; nothing after the socket (history, status) could store it."""
    reply = ControlClient(server.path).raw(b'{"cmd": "say", "text": "hello \\ud800 there"}')
    assert reply["ok"], reply
    assert handler.calls[-1] == ("say", "hello \ufffd there")
    too_long = ControlServer(server.path.with_name("long.sock"), handler).start()  # takes 64 KiB lines
    try:
        reply = ControlClient(too_long.path).raw(b'{"cmd": "ask", "text": "' + b"x" * 5000 + b'"}')
        assert reply["code"] == "bad_request" and "longer than 4000 characters" in reply["error"]
    finally:
        too_long.stop()


def test_status_is_answered_whatever_it_carries(sockdir: Path, handler: FakeHandler) -> None:
    handler.status = lambda: {"state": "listening", "last": "half a pair \ud83d"}  # type: ignore[method-assign]
    with ControlServer(sockdir / "control.sock", handler) as server:
        for _ in range(3):  # and again: one odd reply must not break the next
            assert ControlClient(server.path).request("status")["last"] == "half a pair \ufffd"


def test_trickling_and_idle_clients_cannot_keep_status_from_anyone(sockdir: Path, handler: FakeHandler) -> None:
    """200 clients that connect and say nothing, and 8 that send a byte every 0.2 s (each byte would once
    have restarted the idle timer): status is answered within a second throughout, and the tricklers are
    cut off once their request line has taken longer than the limit."""
    server = ControlServer(sockdir / "control.sock", handler, idle_timeout_s=2.0).start()
    idle = [connect(server.path) for _ in range(200)]
    tricklers = [connect(server.path) for _ in range(8)]
    try:
        started = time.monotonic()
        cut_off: set[int] = set()
        while time.monotonic() - started < 3.5:
            for n, sock in enumerate(tricklers):
                if n not in cut_off:
                    try:
                        sock.sendall(b" ")
                    except OSError:
                        cut_off.add(n)
            asked = time.monotonic()
            assert ControlClient(server.path, timeout_s=5).request("status")["state"] == "listening"
            assert time.monotonic() - asked < 1.0
            time.sleep(0.2)
        for sock in tricklers:  # each got a one-line reason before the hang-up
            sock.settimeout(2)
            reply = read_reply(sock)
            assert reply["code"] == "timeout" and "not finished within 2 s" in reply["error"], reply
        idle[0].settimeout(2)  # the silent ones are told and closed too
        assert read_reply(idle[0])["code"] == "timeout" and is_closed(idle[0])
    finally:
        for sock in idle + tricklers:
            sock.close()
        server.stop()


def test_another_user_gets_one_line_not_a_traceback(sockdir: Path, server: ControlServer) -> None:
    os.chmod(sockdir, 0o755)
    os.chmod(server.path.parent, 0o755)
    os.chmod(server.path, 0o777)  # a mistaken chmod: the peer-credential check still holds
    code = ("import sys; from assistant.service.control import ControlClient, ControlError\n"
            f"try: ControlClient({str(server.path)!r}).request('status')\n"
            "except ControlError as exc: print(exc.code, exc); sys.exit(1)\n")
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                             code], capture_output=True, text=True, timeout=60,
                            env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("forbidden permission denied: uid 65534"), result.stdout
    assert "Traceback" not in result.stderr


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                           max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(request=st.one_of(
    st.binary(max_size=300),
    st.integers(1, 20_000).map(lambda depth: b'{"cmd": ' + b"[" * depth + b"]" * depth + b"}"),
    st.builds(lambda cmd, params: json.dumps({"cmd": cmd, **params}).encode(),
              st.one_of(st.sampled_from(["ping", "status", "say", "ask", "mute", "unmute", "listen", "reload"]),
                        JSON_VALUES),
              st.dictionaries(st.sampled_from(["text", "muted", "id", "x"]), JSON_VALUES, max_size=3)),
    st.builds(lambda s: ('{"cmd": "say", "text": "' + s + '"}').encode("utf-8", "surrogatepass"),
              st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(),
                      max_size=20).map(lambda t: t.encode("unicode_escape").decode("ascii")))))
def test_any_request_line_gets_exactly_one_valid_reply(request: bytes) -> None:
    """The protocol's promise, for any bytes: one JSON object back, `ok` or a coded error, encodable."""
    server = ControlServer("/nonexistent/control.sock", FakeHandler())
    reply = server.dispatch(request)
    assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool)
    assert reply["ok"] or isinstance(reply.get("code"), str)
    line = encode_reply(reply)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line.decode("utf-8")) is not None


def test_a_request_nested_past_the_json_decoder_is_a_bad_request(server: ControlServer) -> None:
    """'[[[[...' 10,000 deep made the decoder raise RecursionError, which escaped the answering thread: the
    client got no reply and its connection was never handed back (found by benchmarks/soak.py)."""
    reply = server.dispatch(b'{"cmd": ' + b"[" * 10_000 + b"\n")
    assert reply == {"ok": False, "code": "bad_request", "error": "not a JSON object: nested too deeply"}
