"""CLI verbs that talk to a running daemon, plus `assistant history`.

`status`, `mute`, `unmute`, `listen`, `reload` and `ctl say|ask|ping TEXT` go over the control socket
(the local `say`/`ask` commands stay local); `history` reads the database directly, read-only.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from assistant.cli.main import UserError, print_json
from assistant.config.schema import load
from assistant.config.service import ServiceConfig, control_socket_candidates, history_candidates
from assistant.service.control import ControlClient, ControlError
from assistant.service.history import History, HistoryEntry, HistoryError

EXIT_NOT_RUNNING = 3  # as `systemctl is-active` / LSB status: the program is not running
SLOW_TIMEOUT_S = 180.0  # ask/say/reload wait for the LLM and TTS


def _service_config(args: argparse.Namespace) -> ServiceConfig:
    config, _ = load(args.config)
    return config.service


def _socket_path(args: argparse.Namespace) -> Path:
    explicit: str | None = args.socket
    candidates = control_socket_candidates(explicit or _service_config(args).control.socket)
    return next((p for p in candidates if p.exists()), candidates[0])


def _request(args: argparse.Namespace, cmd: str, timeout_s: float = 10.0, **params: Any) -> dict[str, Any]:
    try:
        return ControlClient(_socket_path(args), timeout_s).request(cmd, **params)
    except ControlError as exc:
        raise UserError(str(exc), EXIT_NOT_RUNNING if exc.code == "not_running" else 1) from None


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _latencies(latency_ms: Any) -> str:
    if not isinstance(latency_ms, dict):
        return ""
    return " ".join(f"{stage}={ms:.0f}ms" for stage, ms in latency_ms.items() if isinstance(ms, int | float))


def _print_status(status: dict[str, Any]) -> None:
    known = ("state", "uptime_s", "model", "device", "muted", "dropped_frames", "last_turns")
    if "state" in status:
        print(f"state:          {status['state']}{' (muted)' if status.get('muted') else ''}")
    if isinstance(status.get("uptime_s"), int | float):
        print(f"uptime:         {_duration(status['uptime_s'])}")
    for key in ("model", "device", "dropped_frames"):
        if key in status:
            print(f"{key.replace('_', ' ') + ':':<16}{status[key]}")
    for key, value in status.items():
        if key not in known:
            print(f"{key.replace('_', ' ') + ':':<16}{value}")
    turns = status.get("last_turns") or []
    if isinstance(turns, list) and turns:
        print("last turns:")
        for turn in turns:
            if isinstance(turn, dict):
                line = f'  "{turn.get("transcript", "")}" -> {turn.get("handled_by") or "-"}'
                print(f"{line}  {_latencies(turn.get('latency_ms'))}".rstrip())


def cmd_status(args: argparse.Namespace) -> int:
    status = _request(args, "status")
    if args.json:
        print_json(status)
    else:
        _print_status(status)
    return 0


def _simple(cmd: str, **params: Any) -> Any:
    def handler(args: argparse.Namespace) -> int:
        result = _request(args, cmd, SLOW_TIMEOUT_S if cmd == "reload" else 10.0, **params)
        if args.json:
            print_json(result)
        elif cmd == "reload":
            print(reload_outcome(result))
        return 0

    return handler


def reload_outcome(result: dict[str, Any]) -> str:
    """What a reload did, in a line; a rejected one is a UserError (the daemon keeps its running config)."""
    if result.get("reloaded"):
        changed = ", ".join(result.get("changed") or []) or "nothing"
        return f"reloaded: {changed} changed"
    problems = result.get("problems") or [result.get("message", "the daemon gave no reason")]
    raise UserError("not reloaded, the daemon keeps its running configuration: " + "; ".join(map(str, problems)))


def cmd_ctl(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {}
    if args.verb in ("say", "ask"):
        text = " ".join(args.text).strip()
        if not text:
            raise UserError(f"nothing to {args.verb}: give the text as arguments")
        params["text"] = text
    result = _request(args, args.verb, SLOW_TIMEOUT_S, **params)
    if args.json:
        print_json(result)
    elif isinstance(result.get("reply"), str):
        print(result["reply"])
    return 0


def _history_path(args: argparse.Namespace) -> Path:
    if args.db:
        return Path(args.db).expanduser()
    candidates = history_candidates(_service_config(args).history.path)
    found = next((p for p in candidates if p.exists()), None)
    if found is None:
        raise UserError(f"no history yet (looked for {', '.join(map(str, candidates))})")
    return found


def _history_line(entry: HistoryEntry) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.ts))
    outcome = f"-> {entry.reply!r}" if entry.reply else f"(dropped: {entry.dropped or entry.error or 'no reply'})"
    tags = " ".join(filter(None, [entry.handled_by, entry.intent, _latencies(entry.latency_ms)]))
    error = f" ERROR: {entry.error}" if entry.error else ""
    return f"{when}  {entry.transcript!r} {outcome}  [{tags}]{error}"


def cmd_history(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise UserError("-n must be at least 1")
    path = _history_path(args)
    try:
        with History(path, readonly=True) as history:
            entries = history.recent(args.n)
    except HistoryError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print_json([entry.as_dict() for entry in entries])
    else:
        for entry in entries:
            print(_history_line(entry))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def client(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--socket", metavar="PATH", help="control socket (default: from config, "
                            "$ASSISTANT_CONTROL_SOCKET, $XDG_RUNTIME_DIR/assistant/control.sock, /run/assistant)")
        parser.add_argument("--json", action="store_true", help="print the reply as JSON")
        return parser

    client("status", "show what the running assistant is doing").set_defaults(handler=cmd_status)
    client("mute", "stop listening to the microphone").set_defaults(handler=_simple("mute", muted=True))
    client("unmute", "listen to the microphone again").set_defaults(handler=_simple("unmute"))
    client("listen", "push-to-talk: take the next utterance as a request").set_defaults(handler=_simple("listen"))
    client("reload", "re-read the config file (like systemctl reload)").set_defaults(handler=_simple("reload"))

    ctl = client("ctl", "send say/ask/ping to the running assistant (the plain say/ask commands run locally)")
    ctl.add_argument("verb", choices=("say", "ask", "ping"), help="say: speak TEXT; ask: handle TEXT as a request")
    ctl.add_argument("text", nargs="*", help="the text for say/ask")
    ctl.set_defaults(handler=cmd_ctl)

    history = subparsers.add_parser("history", help="show recent turns from the history database",
                                    description="show recent turns from the history database")
    history.add_argument("-n", type=int, default=20, metavar="N", help="how many turns (default 20)")
    history.add_argument("--json", action="store_true", help="one JSON array of turns")
    history.add_argument("--db", metavar="PATH", help="database file (default: from config, then the XDG state dir)")
    history.set_defaults(handler=cmd_history)
