"""Running a matched command's action: ``exec`` (argv, no shell), ``http`` (JSON request) or ``say``.

Slot values reach programs only inside the argv element that names them (``{room}`` or ``{level}%``: one
element in, one element out, never split or joined), as URL-encoded URL parts, or as JSON values; never
through a shell or a command line assembled from strings. Programs run in their own process group,
which is killed on timeout; output beyond a cap is read and discarded so the program never blocks on a pipe.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.config.commands import ExecAction, HttpAction, SayAction

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_WHOLE = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")
_JSON_PATH = re.compile(r"\{json((?:\.[A-Za-z0-9_-]+)*)\}")
_STRAY_GRACE_S = 0.5  # how long to wait for output still held open by a program's background children


def render(template: str, values: Mapping[str, Any]) -> str:
    """Replace ``{name}`` with its value; unknown names stay as written (config check reports them)."""
    return _PLACEHOLDER.sub(lambda m: _text(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


def render_json(template: str, body: str) -> str:
    """Replace ``{json.a.b}`` / ``{json.items.0.name}`` with that value of a JSON response body ("unknown"
    when the body is not JSON or has no such value), so a reply can say one field of an API's answer."""
    if "{json" not in template:
        return template
    try:
        data = json.loads(body)
    except ValueError:
        data = None

    def value(match: re.Match[str]) -> str:
        node: Any = data
        for key in match.group(1).split(".")[1:]:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return "unknown"
        return json.dumps(node) if isinstance(node, dict | list) else _text(node)

    return _JSON_PATH.sub(value, template)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


@dataclass
class Outcome:
    reply: str
    action: dict[str, Any] = field(default_factory=dict)
    ok: bool = True


def build_argv(action: ExecAction, slots: Mapping[str, Any]) -> list[str]:
    """One output argument per configured argument, its '{slot}' placeholders filled with validated values."""
    return [render(arg, slots) for arg in action.argv]


def _drain(stream: Any, limit: int, sink: bytearray) -> None:
    while chunk := stream.read(65536):
        room = limit - len(sink)
        if room > 0:
            sink.extend(chunk[:room])
    stream.close()


def run_exec(action: ExecAction, slots: Mapping[str, Any]) -> Outcome:
    argv = build_argv(action, slots)
    env = {**os.environ, **action.env}
    described: dict[str, Any] = {"type": "exec", "argv": argv}
    try:
        process = subprocess.Popen(
            argv, cwd=action.cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True, shell=False,
        )
    except OSError as exc:
        described.update(exit_status=None, error=str(exc))
        return Outcome(render(action.error_reply, {**slots, "stdout": "", "exit_status": ""}), described, ok=False)
    output = bytearray()
    reader = threading.Thread(target=_drain, args=(process.stdout, action.max_output_bytes, output), daemon=True)
    reader.start()
    timed_out = False
    try:
        status: int | None = process.wait(timeout=action.timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process.pid)
        status = process.wait()
    reader.join(_STRAY_GRACE_S)
    stdout = bytes(output).decode("utf-8", "replace").strip()
    described.update(exit_status=status, timed_out=timed_out, stdout=stdout)
    values = {**slots, "stdout": stdout, "exit_status": "" if status is None else status}
    ok = status == 0 and not timed_out
    return Outcome(render(action.reply if ok else action.error_reply, values), described, ok=ok)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(pgid, signal.SIGKILL)


def _fill_json(body: Any, slots: Mapping[str, Any]) -> Any:
    """A string that is exactly '{slot}' becomes the typed value; other strings are rendered as text."""
    if isinstance(body, dict):
        return {k: _fill_json(v, slots) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill_json(v, slots) for v in body]
    if isinstance(body, str):
        whole = _WHOLE.match(body)
        if whole and whole.group(1) in slots:
            return slots[whole.group(1)]
        return render(body, slots)
    return body


def build_request(action: HttpAction, slots: Mapping[str, Any]) -> urllib.request.Request:
    url = _PLACEHOLDER.sub(
        lambda m: urllib.parse.quote(_text(slots[m.group(1)]), safe="") if m.group(1) in slots else m.group(0),
        action.url,
    )
    data = None
    headers = dict(action.headers)
    if action.json_body is not None:
        data = json.dumps(_fill_json(action.json_body, slots)).encode()
        headers.setdefault("Content-Type", "application/json")
    return urllib.request.Request(url, data=data, headers=headers, method=action.method)


def run_http(action: HttpAction, slots: Mapping[str, Any]) -> Outcome:
    request = build_request(action, slots)
    described: dict[str, Any] = {"type": "http", "method": action.method, "url": request.full_url}
    status: int | str = ""
    body = ""
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=action.timeout_s) as response:
            status = response.status
            body = response.read(action.max_response_bytes).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status, error = exc.code, str(exc.reason)
        body = exc.read(action.max_response_bytes).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))
    ok = isinstance(status, int) and 200 <= status < 300
    described.update(status=status or None, error=error or None)
    values = {**slots, "status": status, "body": body.strip(), "error": error}
    return Outcome(render(render_json(action.reply if ok else action.error_reply, body), values), described, ok=ok)


def run_action(action: ExecAction | HttpAction | SayAction, slots: Mapping[str, Any]) -> Outcome:
    if isinstance(action, ExecAction):
        return run_exec(action, slots)
    if isinstance(action, HttpAction):
        return run_http(action, slots)
    return Outcome(render(action.reply, slots), {"type": "say"})


def describe(action: ExecAction | HttpAction | SayAction, slots: Mapping[str, Any]) -> dict[str, Any]:
    """What the action would do, without doing it (for --dry-run)."""
    if isinstance(action, ExecAction):
        return {"type": "exec", "argv": build_argv(action, slots), "dry_run": True}
    if isinstance(action, HttpAction):
        request = build_request(action, slots)
        return {"type": "http", "method": action.method, "url": request.full_url, "dry_run": True}
    return {"type": "say", "dry_run": True}
