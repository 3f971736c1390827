"""sd_notify over a real Unix datagram socket, as systemd would receive it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.service.sdnotify import Notifier


class Receiver:
    def __init__(self, sock: socket.socket, env_value: str) -> None:
        self.sock = sock
        self.env_value = env_value

    def fields(self) -> list[tuple[str, str]]:
        data = self.sock.recv(65_536).decode("utf-8")
        return [tuple(line.split("=", 1)) for line in data.split("\n")]  # type: ignore[misc]

    def nothing_pending(self) -> bool:
        self.sock.settimeout(0.2)
        try:
            self.sock.recv(65_536)
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(5)
        return False


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with tempfile.TemporaryDirectory(prefix="sdn") as tmp:
        path = str(Path(tmp) / "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(5)
        yield Receiver(sock, path)
        sock.close()


@pytest.fixture
def abstract_receiver() -> Iterator[Receiver]:
    name = f"assistant-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    yield Receiver(sock, "@" + name)
    sock.close()


def test_ready_carries_mainpid_and_status(receiver: Receiver) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": receiver.env_value})
    assert notifier.enabled
    assert notifier.ready("listening")
    assert receiver.fields() == [("READY", "1"), ("MAINPID", str(os.getpid())), ("STATUS", "listening")]


def test_abstract_socket_address(abstract_receiver: Receiver) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": abstract_receiver.env_value})
    assert notifier.status("thinking…")
    assert abstract_receiver.fields() == [("STATUS", "thinking…")]


def test_status_is_kept_on_one_line(receiver: Receiver) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": receiver.env_value})
    notifier.status("last turn 820 ms\nREADY=1")
    assert receiver.fields() == [("STATUS", "last turn 820 ms READY=1")]


def test_reloading_sends_monotonic_usec(receiver: Receiver) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": receiver.env_value})
    before = time.monotonic()
    assert notifier.reloading()
    after = time.monotonic()
    fields = dict(receiver.fields())
    assert fields["RELOADING"] == "1"
    usec = int(fields["MONOTONIC_USEC"])
    assert before * 1e6 - 1 <= usec <= after * 1e6 + 1  # CLOCK_MONOTONIC, as systemd compares it


def test_stopping(receiver: Receiver) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": receiver.env_value})
    assert notifier.stopping("shutting down")
    assert receiver.fields() == [("STOPPING", "1"), ("STATUS", "shutting down")]


def test_watchdog_interval_is_half_the_timeout(receiver: Receiver) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": receiver.env_value, "WATCHDOG_USEC": "30000000",
                                  "WATCHDOG_PID": str(os.getpid())})
    assert notifier.watchdog_interval_s == 15.0
    assert notifier.watchdog()
    assert receiver.fields() == [("WATCHDOG", "1")]
    assert notifier.watchdog_trigger()
    assert receiver.fields() == [("WATCHDOG", "trigger")]


def test_watchdog_meant_for_another_pid_is_off(receiver: Receiver) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": receiver.env_value, "WATCHDOG_USEC": "30000000",
                                  "WATCHDOG_PID": str(os.getpid() + 1)})
    assert notifier.watchdog_interval_s is None
    assert not notifier.watchdog()
    assert receiver.nothing_pending()


@pytest.mark.parametrize("usec", ["", "0", "-5", "soon"])
def test_no_or_bad_watchdog_usec_is_off(receiver: Receiver, usec: str) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": receiver.env_value, "WATCHDOG_USEC": usec})
    assert notifier.watchdog_interval_s is None
    assert not notifier.watchdog()
    assert receiver.nothing_pending()


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notifier = Notifier.from_env({})
    assert not notifier.enabled
    assert not notifier.ready()
    assert not notifier.status("x")
    assert not notifier.reloading()
    assert not notifier.stopping()


def test_vanished_socket_is_reported_not_raised(tmp_path: Path) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert notifier.enabled
    assert not notifier.ready()
    assert not notifier.status("still alive")


def test_unset_removes_the_variables(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", receiver.env_value)
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    notifier = Notifier.from_env(unset=True)
    assert "NOTIFY_SOCKET" not in os.environ and "WATCHDOG_USEC" not in os.environ
    assert notifier.watchdog_interval_s == 2.0
    assert notifier.watchdog()  # the notifier kept what it read
    assert receiver.fields() == [("WATCHDOG", "1")]


def test_a_separate_process_notifies_from_its_environment(receiver: Receiver) -> None:
    code = (
        "from assistant.service.sdnotify import Notifier\n"
        "n = Notifier.from_env()\n"
        "assert n.watchdog_interval_s == 1.0, n.watchdog_interval_s\n"
        "n.ready('listening'); n.watchdog(); n.stopping()\n"
    )
    env = {**os.environ, "NOTIFY_SOCKET": receiver.env_value, "WATCHDOG_USEC": "2000000"}
    env.pop("WATCHDOG_PID", None)
    child = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr
    assert receiver.fields() == [("READY", "1"), ("MAINPID", str(child.pid)), ("STATUS", "listening")]
    assert receiver.fields() == [("WATCHDOG", "1")]
    assert receiver.fields() == [("STOPPING", "1")]
