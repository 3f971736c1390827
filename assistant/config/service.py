"""Config models for the ``service:`` section, and where its files go when the config doesn't say.

Path defaults follow systemd first (``$RUNTIME_DIRECTORY``/``$STATE_DIRECTORY`` are set by the unit's
``RuntimeDirectory=``/``StateDirectory=``), then XDG, so the daemon and the CLI agree on both the user
unit and the system unit without extra configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from assistant.config.base import StrictModel

CONTROL_SOCKET_ENV = "ASSISTANT_CONTROL_SOCKET"
SOCKET_NAME = "control.sock"
HISTORY_NAME = "history.db"
ROOM_NAME = "room.json"
SYSTEM_RUNTIME_DIR = Path("/run/assistant")  # the system unit's RuntimeDirectory=assistant
SYSTEM_STATE_DIR = Path("/var/lib/assistant")  # the system unit's StateDirectory=assistant


class HistoryConfig(StrictModel):
    enabled: bool = Field(default=True, description="record every turn in an SQLite database")
    path: str | None = Field(
        default=None, description="database file (default: $STATE_DIRECTORY or $XDG_STATE_HOME/assistant/history.db)"
    )
    keep_days: float | None = Field(
        default=90.0, gt=0, description="delete turns older than this many days; null keeps them all"
    )
    keep_rows: int | None = Field(default=100_000, ge=1, description="keep at most this many turns; null for no limit")


class RoomConfig(StrictModel):
    enabled: bool = Field(
        default=True, description="keep what the echo gate learnt of the room over restarts (no relearning replies)"
    )
    path: str | None = Field(
        default=None, description="JSON file (default: $STATE_DIRECTORY or $XDG_STATE_HOME/assistant/room.json)"
    )


class ControlConfig(StrictModel):
    enabled: bool = Field(default=True, description="serve the control socket (assistant status/mute/reload/...)")
    socket: str | None = Field(
        default=None, description="Unix socket path (default: $RUNTIME_DIRECTORY or $XDG_RUNTIME_DIR/assistant)"
    )
    max_request_bytes: int = Field(
        default=65_536, ge=256, le=16 * 1024 * 1024, description="longest accepted request line, in bytes"
    )
    idle_timeout_s: float = Field(
        default=10.0, gt=0, le=3600,
        description="a request line must arrive whole within this long, or the connection closes",
    )
    max_connections: int = Field(
        default=256, ge=1, le=1024, description="connections open at the same time (idle or busy); more are refused"
    )


class ServiceConfig(StrictModel):
    control: ControlConfig = Field(default_factory=ControlConfig, description="the local control socket")
    history: HistoryConfig = Field(default_factory=HistoryConfig, description="the turn history database")
    room: RoomConfig = Field(default_factory=RoomConfig, description="the echo gate's learnt room, over restarts")
    reload_timeout_s: float = Field(
        default=90.0, ge=1, le=120,
        description="a reload (checking the new config, loading its models) still busy after this long is "
                    "abandoned and the running config kept",
    )


def _first_dir(value: str | None) -> Path | None:
    # systemd joins several directories with ':'; ours is the first.
    if not value:
        return None
    first = value.split(":")[0]
    return Path(first) if first else None


def control_socket_path(configured: str | None = None) -> Path:
    """The socket the daemon binds."""
    if configured:
        return Path(configured).expanduser()
    if os.environ.get(CONTROL_SOCKET_ENV):
        return Path(os.environ[CONTROL_SOCKET_ENV]).expanduser()
    runtime_dir = _first_dir(os.environ.get("RUNTIME_DIRECTORY"))
    if runtime_dir is not None:
        return runtime_dir / SOCKET_NAME
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "assistant" / SOCKET_NAME
    if os.geteuid() == 0:
        return SYSTEM_RUNTIME_DIR / SOCKET_NAME
    # No runtime dir and /run isn't ours to write: a private per-uid folder (ControlServer checks its owner).
    return Path("/tmp") / f"assistant-{os.geteuid()}" / SOCKET_NAME


def control_socket_candidates(configured: str | None = None) -> list[Path]:
    """Where a client looks for the socket: where this user's daemon would bind, then the system unit's."""
    first = control_socket_path(configured)
    if configured or os.environ.get(CONTROL_SOCKET_ENV):
        return [first]
    return list(dict.fromkeys([first, SYSTEM_RUNTIME_DIR / SOCKET_NAME]))


def history_candidates(configured: str | None = None) -> list[Path]:
    """Where the history database is, most specific first. The daemon writes the first; readers try each."""
    if configured:
        return [Path(configured).expanduser()]
    # the daemon's, this user's, and the system unit's (readable by root)
    return list(dict.fromkeys([state_path(HISTORY_NAME), _xdg_state_dir() / HISTORY_NAME,
                               SYSTEM_STATE_DIR / HISTORY_NAME]))


def state_path(name: str, configured: str | None = None) -> Path:
    """Where the daemon keeps a state file: the configured path, else $STATE_DIRECTORY, else XDG's."""
    if configured:
        return Path(configured).expanduser()
    state_dir = _first_dir(os.environ.get("STATE_DIRECTORY"))
    if state_dir is not None:
        return state_dir / name
    return _xdg_state_dir() / name


def _xdg_state_dir() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")) / "assistant"
