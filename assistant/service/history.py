"""The turn history: every turn appended to an SQLite database (WAL mode, one commit per turn).

Durability: each ``append`` commits before returning, with ``synchronous=FULL``, so a turn survives the
process being SIGKILLed (and a power cut) the moment ``append`` returns. One fsync per spoken turn costs
nothing next to a turn's own latency.

Retention is by age and/or row count. Pruning is two indexed DELETEs, run on open and then at most every
``PRUNE_EVERY`` appends, so it stays cheap however large the table grows.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config.service import HistoryConfig, history_candidates
from assistant.events import TurnReport, valid_text

SCHEMA_VERSION = 1
PRUNE_EVERY = 100
KEEP_UNRECORDED = 1000  # turns held in memory while the database refuses writes (a few hundred KiB)

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,              -- Unix time when the turn was recorded
    transcript TEXT NOT NULL,
    reply TEXT NOT NULL,
    handled_by TEXT NOT NULL,
    intent TEXT,
    dropped TEXT,
    error TEXT,
    speech_start REAL NOT NULL,    -- monotonic seconds (only differences within one run mean anything)
    speech_end REAL NOT NULL,
    latency_ms TEXT NOT NULL       -- JSON object: stage -> milliseconds
);
CREATE INDEX IF NOT EXISTS turns_ts ON turns (ts);
"""


class HistoryError(Exception):
    """The database can't be opened or read (path, permissions, corruption): one plain sentence."""


@dataclass(frozen=True, slots=True)
class Retention:
    keep_days: float | None = None
    keep_rows: int | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One stored turn."""

    id: int
    ts: float
    transcript: str
    reply: str
    handled_by: str
    intent: str | None
    dropped: str | None
    error: str | None
    speech_start: float
    speech_end: float
    latency_ms: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": round(self.ts, 3),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.ts)),
            "transcript": self.transcript,
            "reply": self.reply,
            "handled_by": self.handled_by,
            "intent": self.intent,
            "dropped": self.dropped,
            "error": self.error,
            "latency_ms": self.latency_ms,
        }


_COLUMNS = "id, ts, transcript, reply, handled_by, intent, dropped, error, speech_start, speech_end, latency_ms"


def _entry(row: tuple[Any, ...]) -> HistoryEntry:
    try:
        latency = json.loads(row[10])
    except ValueError:
        latency = {}
    return HistoryEntry(
        id=row[0], ts=row[1], transcript=row[2], reply=row[3], handled_by=row[4], intent=row[5], dropped=row[6],
        error=row[7], speech_start=row[8], speech_end=row[9], latency_ms=latency if isinstance(latency, dict) else {},
    )


class History:
    """Appends turns and reads recent ones. Thread-safe (one connection behind a lock).

    ``readonly=True`` is for the CLI: it never creates, prunes or changes the file, so `assistant history`
    run as root can't leave root-owned files in the daemon user's state folder.
    """

    def __init__(self, path: str | Path, retention: Retention | None = None, *, readonly: bool = False,
                 busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.retention = retention or Retention()
        self.readonly = readonly
        self._lock = threading.Lock()
        self._appends = 0
        try:
            if readonly:
                if not self.path.exists():
                    raise HistoryError(f"no history yet at {self.path}")
                # With no -wal file the database is complete and nobody is writing: open it immutable,
                # because even a mode=ro connection would create -wal/-shm files, owned by whoever reads
                # (root!), which the daemon's user then can't open.
                wal = self.path.with_name(self.path.name + "-wal")
                flags = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?{flags}", uri=True,
                                           check_same_thread=False)
            else:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                self._setup()
                self.prune()
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the history database {self.path}: {exc}") from exc
        except OSError as exc:
            raise HistoryError(f"cannot create {self.path.parent}: {exc.strerror or exc}") from exc

    @classmethod
    def from_config(cls, config: HistoryConfig) -> History:
        """The daemon's database: the configured path, else $STATE_DIRECTORY, else the XDG state folder."""
        return cls(history_candidates(config.path)[0], Retention(config.keep_days, config.keep_rows))

    def _setup(self) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")  # another program may hold the lock
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise HistoryError(f"{self.path}: cannot switch to WAL mode (got {mode}); is it on a network filesystem?")
        db.execute("PRAGMA synchronous = FULL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{self.path} was written by a newer assistant (schema {version}); move it aside")
        db.executescript("BEGIN;" + _SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    def append(self, report: TurnReport, ts: float | None = None) -> int:
        """Store one turn (committed when this returns); returns its row id."""
        if self.readonly:
            raise HistoryError("this history was opened read-only")
        def text(value: str | None) -> str | None:  # SQLite stores UTF-8: a lone surrogate can't be
            return None if value is None else valid_text(value)

        row = (
            time.time() if ts is None else ts,
            text(report.transcript),
            text(report.reply),
            text(report.handled_by),
            text(report.intent),
            text(report.dropped),
            text(report.error),
            report.speech_start,
            report.speech_end,
            json.dumps({k: round(v, 1) for k, v in report.latency_ms.items()}),
        )
        try:
            with self._lock:
                cursor = self._db.execute(f"INSERT INTO turns ({_COLUMNS.split(', ', 1)[1]}) VALUES "
                                          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                self._appends += 1
                due = self._appends % PRUNE_EVERY == 0
        except sqlite3.Error as exc:  # disk full, locked by another program, file gone bad
            raise HistoryError(f"cannot write to {self.path}: {exc}") from exc
        if due:
            try:
                self.prune()
            except sqlite3.Error as exc:  # the turn is stored; pruning is tried again later
                log.warning("could not prune %s: %s", self.path, exc)
        return int(cursor.lastrowid or 0)

    def prune(self, now: float | None = None) -> int:
        """Apply the retention policy; returns how many turns were deleted."""
        if self.readonly:
            return 0
        deleted = 0
        with self._lock:
            if self.retention.keep_days is not None:
                cutoff = (time.time() if now is None else now) - self.retention.keep_days * 86_400
                deleted += self._db.execute("DELETE FROM turns WHERE ts < ?", (cutoff,)).rowcount
            if self.retention.keep_rows is not None:
                # Ids only grow, so "all but the newest N" is one indexed range delete.
                deleted += self._db.execute(
                    "DELETE FROM turns WHERE id <= (SELECT id FROM turns ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (self.retention.keep_rows,),
                ).rowcount
        return deleted

    def recent(self, n: int = 20) -> list[HistoryEntry]:
        """The newest ``n`` turns, oldest first."""
        try:
            with self._lock:
                rows = self._db.execute(f"SELECT {_COLUMNS} FROM turns ORDER BY id DESC LIMIT ?", (n,)).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot read {self.path}: {exc}") from exc
        return [_entry(row) for row in reversed(rows)]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM turns").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Recorder:
    """Records each turn in a History without ever losing one to a passing failure.

    A turn whose write fails (disk full, the database locked by another program) is kept in memory, with
    the time it happened, and written before the next turn, oldest first; the failure is logged once, and
    again when writing works again. Only past ``keep`` waiting turns are the oldest dropped, and counted.
    """

    def __init__(self, history: History, keep: int = KEEP_UNRECORDED) -> None:
        self.history = history
        self.lost = 0  # turns dropped because too many were waiting
        self._waiting: deque[tuple[float, TurnReport]] = deque()
        self._keep = keep
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """Turns not yet written."""
        return len(self._waiting)

    def record(self, report: TurnReport) -> bool:
        """Write this turn and any still waiting; False when some are left waiting."""
        with self._lock:
            self._waiting.append((time.time(), report))
            if len(self._waiting) > self._keep:
                self._waiting.popleft()
                self.lost += 1
                log.error("turn history: %d turns waited too long for the database and are lost", self.lost)
            return self._write_waiting()

    def flush(self) -> bool:
        """Try once more to write what waits (at shutdown); False when some are still waiting."""
        with self._lock:
            return self._write_waiting() if self._waiting else True

    def _write_waiting(self) -> bool:
        failing = len(self._waiting) > 1  # turns waited: the last write failed
        while self._waiting:
            ts, report = self._waiting[0]
            try:
                self.history.append(report, ts=ts)
            except HistoryError as exc:
                if not failing:
                    log.warning("could not record the turn, keeping it to write with the next one: %s", exc)
                return False
            self._waiting.popleft()
        if failing:
            log.info("turn history: writing works again; every waiting turn is recorded")
        return True
