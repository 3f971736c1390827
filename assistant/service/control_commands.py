"""The control socket's requests: what each command does with the daemon, and how a request line is answered.

See :mod:`assistant.service.control` for the protocol and the server.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any, Protocol

from assistant.events import valid_text

log = logging.getLogger("assistant.service.control")

MAX_TEXT_CHARS = 4000  # longest text `say`/`ask` take (the speaker cuts replies at speech_out.max_chars)

Command = Callable[[dict[str, Any]], dict[str, Any]]


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


def _text_param(request: dict[str, Any]) -> str:
    """The request's text, made valid (JSON may carry lone surrogates, which nothing after us can store)."""
    text = request.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ControlError("'text' must be a non-empty string", "bad_request")
    if len(text) > MAX_TEXT_CHARS:
        raise ControlError(f"'text' is longer than {MAX_TEXT_CHARS} characters", "bad_request")
    return valid_text(text).strip()


def commands_for(handler: ControlHandler) -> dict[str, Command]:
    """The requests the socket answers, each calling ``handler``."""

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


def error_reply(code: str, message: str, request_id: Any = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"ok": False, "code": code, "error": message}
    if request_id is not None:
        reply["id"] = request_id
    return reply


def dispatch(commands: dict[str, Command], line: bytes) -> dict[str, Any]:
    """One request line in, one reply object out. Never raises."""
    try:
        request = json.loads(line)
    except (UnicodeDecodeError, ValueError) as exc:
        return error_reply("bad_request", f"not a JSON object: {exc}")
    except RecursionError:  # '[[[[...' nested deeper than the JSON decoder recurses
        return error_reply("bad_request", "not a JSON object: nested too deeply")
    if not isinstance(request, dict):
        return error_reply("bad_request", "a request must be a JSON object like {\"cmd\": \"status\"}")
    request_id = request.get("id")
    cmd = request.get("cmd")
    command = commands.get(cmd) if isinstance(cmd, str) else None
    if command is None:
        return error_reply("unknown_command", f"unknown cmd {cmd!r}; one of: {', '.join(COMMANDS)}", request_id)
    try:
        result = command(request)
    except ControlError as exc:
        return error_reply(exc.code, str(exc), request_id)
    except Exception as exc:  # the daemon must survive a failing handler; the client sees why
        log.exception("control command %r failed", cmd)
        return error_reply("internal", f"{cmd} failed: {exc}", request_id)
    reply: dict[str, Any] = {"ok": True, "result": result if result is not None else {}}
    if request_id is not None:
        reply["id"] = request_id
    return reply


def encode_reply(reply: dict[str, Any]) -> bytes:
    # valid_text: a lone surrogate anywhere in a reply (a transcript, a handler's result) must not cost it
    return (valid_text(json.dumps(reply, ensure_ascii=False, default=str)) + "\n").encode("utf-8")
