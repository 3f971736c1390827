"""Actions with real effects: programs that write files, a real HTTP server, timeouts, output caps, confirmation."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from assistant.app.router import build_router
from assistant.brain.router import Router
from assistant.config.schema import load
from support.config import make_config
from support.paths import REPO

ROOM_SLOTS = {"room": {"type": "list", "values": {"light.kitchen": ["kitchen"], "light.hall": ["hall", "hallway"]}},
              "level": {"type": "number", "min": 0, "max": 100}}


def router_for(tmp_path: Path, *commands: dict[str, Any]) -> Router:
    config = make_config({"commands": {"slots": ROOM_SLOTS, "commands": list(commands)},
                          "skills": {"timers_file": str(tmp_path / "timers.json")}})
    return build_router(config, config_path=tmp_path / "config.yaml")


def python_action(code: str, *args: str, **extra: Any) -> dict[str, Any]:
    return {"type": "exec", "argv": [sys.executable, "-c", code, *args], **extra}


def test_exec_writes_a_file_with_the_slot_value_as_one_argument(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(repr(sys.argv[2:])); print('written')"
    router = router_for(tmp_path, {
        "name": "mark", "templates": ["mark the {room}"],
        "action": python_action(write, str(target), "{room}", "--level={room}!", reply="{stdout} {room} {exit_status}"),
    })
    reply = router.route("Mark the hallway.")
    assert target.read_text() == repr(["light.hall", "--level=light.hall!"])
    assert (reply.handled_by, reply.intent, reply.slots) == ("command", "mark", {"room": "light.hall"})
    assert reply.text == "written light.hall 0"
    assert reply.action is not None and reply.action["exit_status"] == 0 and reply.action["timed_out"] is False


def test_exec_failure_uses_the_error_reply_with_exit_status(tmp_path: Path) -> None:
    router = router_for(tmp_path, {"name": "fail", "templates": ["fail now"],
                                   "action": python_action("import sys; print('boom'); sys.exit(3)",
                                                           error_reply="failed with {exit_status}: {stdout}")})
    reply = router.route("fail now")
    assert reply.text == "failed with 3: boom"
    assert reply.extra["ok"] is False


def test_exec_gets_its_working_directory_and_environment(tmp_path: Path) -> None:
    code = "import os; print(os.getcwd(), os.environ['GREETING'])"
    router = router_for(tmp_path, {"name": "where", "templates": ["where are you"],
                                   "action": python_action(code, cwd=str(tmp_path), env={"GREETING": "hello"},
                                                           reply="{stdout}")})
    assert router.route("where are you").text == f"{os.path.realpath(tmp_path)} hello"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of the (also killed) parent may linger as a zombie until reaped by init.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_exec_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    code = ("import os, subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', 'import time; "
            "time.sleep(60)']); open(sys.argv[1], 'w').write(f'{os.getpid()} {child.pid}'); time.sleep(60)")
    router = router_for(tmp_path, {"name": "hang", "templates": ["hang around"],
                                   "action": python_action(code, str(pids), timeout_s=5, error_reply="timed out")})
    # 5 s: two Python start-ups on a loaded machine must fit before the timeout, or no pids are written
    started = time.monotonic()
    reply = router.route("hang around")
    assert time.monotonic() - started < 15
    assert reply.text == "timed out" and reply.action is not None and reply.action["timed_out"] is True
    parent, child = (int(p) for p in pids.read_text().split())
    deadline = time.monotonic() + 5
    while (_alive(parent) or _alive(child)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(parent) and not _alive(child)


def test_exec_output_is_capped(tmp_path: Path) -> None:
    router = router_for(tmp_path, {"name": "chatty", "templates": ["talk a lot"],
                                   "action": python_action("print('x' * 5_000_000)", max_output_bytes=100,
                                                           reply="{stdout}")})
    reply = router.route("talk a lot")
    assert reply.text == "x" * 100


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []
    status = 200
    answer = b'{"result": "ok"}'

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        type(self).requests.append({"method": self.command, "path": self.path, "body": body,
                                    "auth": self.headers.get("Authorization")})
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).answer)

    do_GET = do_POST = _handle

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, type[_Recorder]]]:
    class Recorder(_Recorder):
        requests: ClassVar[list[dict[str, Any]]] = []  # a fresh log per test

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Recorder
    finally:
        server.shutdown()
        server.server_close()


def _http_command(base: str) -> dict[str, Any]:
    return {
        "name": "dim", "templates": ["(set|dim) the {room} light[s] to {level} [percent]"],
        "action": {"type": "http", "method": "POST", "url": base + "/api/services/light/turn_on?from={room}",
                   "headers": {"Authorization": "Bearer ${TEST_HASS_TOKEN}"},
                   "json_body": {"entity_id": "{room}", "brightness_pct": "{level}", "note": "dim {room}"},
                   "reply": "Status {status}.", "error_reply": "Failed: {status} {error}"},
    }


def test_http_action_reaches_a_real_server(tmp_path: Path, http_server: tuple[str, type[_Recorder]],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    base, recorder = http_server
    monkeypatch.setenv("TEST_HASS_TOKEN", "s3cret")
    router = router_for(tmp_path, _http_command(base))
    reply = router.route("Dim the kitchen lights to forty percent")
    assert reply.text == "Status 200."
    assert reply.slots == {"room": "light.kitchen", "level": 40}
    [request] = recorder.requests
    assert request["method"] == "POST" and request["auth"] == "Bearer s3cret"
    assert request["path"] == "/api/services/light/turn_on?from=light.kitchen"
    body = json.loads(request["body"])
    assert body == {"entity_id": "light.kitchen", "brightness_pct": 40, "note": "dim light.kitchen"}


def test_http_error_status_and_unreachable_server_use_the_error_reply(
        tmp_path: Path, http_server: tuple[str, type[_Recorder]], monkeypatch: pytest.MonkeyPatch) -> None:
    base, recorder = http_server
    monkeypatch.setenv("TEST_HASS_TOKEN", "x")
    recorder.status = 500
    assert router_for(tmp_path, _http_command(base)).route("dim the hall light to 5").text.startswith("Failed: 500")
    unreachable = router_for(tmp_path, _http_command("http://127.0.0.1:9"))
    assert unreachable.route("dim the hall light to 5").text.startswith("Failed:  ")


def test_confirmation_runs_only_after_yes(tmp_path: Path) -> None:
    target = tmp_path / "done"
    touch = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text('x')"
    router = router_for(tmp_path, {"name": "wipe", "templates": ["wipe the {room}"], "confirm": True,
                                   "action": python_action(touch, str(target), reply="Wiped.")})
    first = router.route("wipe the kitchen")
    assert first.text == "Are you sure?" and first.action == {"type": "await_confirmation", "timeout_s": 30.0}
    assert not target.exists()
    assert router.route("no").text == "Okay, I won't." and not target.exists()
    router.route("wipe the kitchen")
    assert router.route("what time is it").intent == "time"  # a new request drops the question
    assert router.route("yes").handled_by == "fallback" and not target.exists()
    router.route("wipe the kitchen")
    assert router.route("Yes.").text == "Wiped." and target.exists()


def test_the_weather_example_says_what_home_assistant_answers(tmp_path: Path, http_server: tuple[str, type[_Recorder]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """config/examples/weather.yaml against a server answering as Home Assistant's /api/states does; without
    it, the same question is refused honestly (no source) rather than answered by a model."""
    base, recorder = http_server
    recorder.answer = json.dumps({"entity_id": "weather.home", "state": "rainy",
                                  "attributes": {"temperature": 12.5, "humidity": 80}}).encode()
    monkeypatch.setenv("HASS_URL", base)
    monkeypatch.setenv("HASS_TOKEN", "t0ken")
    path = REPO / "config" / "examples" / "weather.yaml"
    config, _ = load(path)
    router = build_router(config, config_path=path)
    reply = router.route("What's the weather like?")
    assert reply.handled_by == "command" and reply.text == "It's rainy and 12.5 degrees outside."
    [request] = recorder.requests
    assert request["path"] == "/api/states/weather.home" and request["auth"] == "Bearer t0ken"
    recorder.answer = b"<html>not json</html>"
    assert router.route("How's the weather today?").text == "It's unknown and unknown degrees outside."

    without = build_router(make_config({"skills": {"timers_file": str(tmp_path / "timers.json")}}))
    refused = without.route("What's the weather like?")
    assert refused.intent == "live_data.weather" and "weather source" in refused.text
