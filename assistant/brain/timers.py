"""Timers and alarms that survive a restart: kept in a JSON file, announced by one background thread.

Due times are wall-clock epoch seconds (a monotonic clock doesn't survive a restart). A timer that fell
due while the daemon was down is announced as soon as it starts again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)
ANYONE = "*"  # pending()/cancel() of every owner's timers (no enrolled name can be "*")


def default_timers_file() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "assistant" / "timers.json"


@dataclass(frozen=True)
class Timer:
    id: str
    kind: str  # "timer" | "alarm"
    due: float  # epoch seconds
    label: str  # what to announce: "5 minutes", "7:30"
    owner: str | None = None  # the enrolled person who set it (None: set by an unknown voice or typed)


class TimerStore:
    """Pending timers, persisted on every change; ``announce`` is called from the timer thread when one is due."""

    def __init__(self, path: Path, announce: Callable[[Timer], None], clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._announce = announce
        self._clock = clock
        self._lock = threading.Condition()
        self._timers: list[Timer] = self._load()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def _load(self) -> list[Timer]:
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
            return [Timer(str(t["id"]), str(t["kind"]), float(t["due"]), str(t["label"]),
                          None if t.get("owner") is None else str(t["owner"])) for t in raw]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable timers file %s: %s", self._path, exc)
            return []

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_suffix(".tmp")
        partial.write_text(json.dumps([asdict(t) for t in self._timers]), encoding="utf-8")
        os.replace(partial, self._path)  # atomic: a crash never leaves half a file

    def start(self) -> None:
        """Announce due timers from now on. The file is read again: a store this one replaces (a reload)
        may have changed it since this one was made."""
        with self._lock:
            if self._thread is None:
                self._timers = self._load()
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="timers", daemon=True)
                self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def add(self, kind: str, due: float, label: str, owner: str | None = None) -> Timer:
        timer = Timer(uuid.uuid4().hex[:12], kind, due, label, owner)
        with self._lock:
            self._timers.append(timer)
            self._timers.sort(key=lambda t: t.due)
            self._save()
            self._lock.notify_all()
        return timer

    def pending(self, kind: str | None = None, owner: str | None = ANYONE) -> list[Timer]:
        """Timers of a kind (or all), of one owner (None: nobody's) or of anyone's."""
        with self._lock:
            return [t for t in self._timers if (kind is None or t.kind == kind) and owner in (ANYONE, t.owner)]

    def cancel(self, kind: str | None = None, owner: str | None = ANYONE) -> list[Timer]:
        """Cancel all timers of a kind (or all) of one owner (or anyone's); returns what was cancelled."""
        with self._lock:
            gone = [t for t in self._timers if (kind is None or t.kind == kind) and owner in (ANYONE, t.owner)]
            self._timers = [t for t in self._timers if t not in gone]
            self._save()
            return gone

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                now = self._clock()
                due = [t for t in self._timers if t.due <= now]
                if not due:
                    wait = min((t.due - now for t in self._timers), default=60.0)
                    self._lock.wait(min(wait, 60.0))
                    continue
                self._timers = [t for t in self._timers if t not in due]
                self._save()
            for timer in due:
                try:
                    self._announce(timer)
                except Exception:  # one failing announcement must not stop later timers
                    log.exception("announcing timer %s failed", timer.id)
