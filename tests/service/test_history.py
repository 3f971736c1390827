"""The turn history on real SQLite files: durability across SIGKILL, retention, read-only readers, CLI."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.cli.main import UserError
from assistant.config.service import HistoryConfig
from assistant.events import TurnReport
from assistant.service.history import PRUNE_EVERY, History, HistoryError, Recorder, Retention
from support.cli import run_service_cli


def report(n: int = 0, **changes: object) -> TurnReport:
    turn = TurnReport(speech_start=10.0 + n, speech_end=11.5 + n, transcript=f"what time is it {n}",
                      reply="It is five o'clock.", handled_by="skill", intent="time",
                      latency_ms={"asr": 610.04, "reply_audio": 820.0})
    for key, value in changes.items():
        setattr(turn, key, value)
    return turn


def test_append_and_read_back(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        first = history.append(report(1), ts=1_700_000_000.0)
        history.append(report(2, reply="", dropped="noise", handled_by="", intent=None))
        history.append(report(3, error="TTS failed: no voice"))
        entries = history.recent(10)
    assert [e.transcript for e in entries] == ["what time is it 1", "what time is it 2", "what time is it 3"]
    one = entries[0]
    assert (one.id, one.ts, one.reply, one.handled_by, one.intent) == (first, 1_700_000_000.0, "It is five o'clock.",
                                                                       "skill", "time")
    assert (one.speech_start, one.speech_end) == (11.0, 12.5)
    assert one.latency_ms == {"asr": 610.0, "reply_audio": 820.0}
    assert entries[1].dropped == "noise" and entries[1].intent is None
    assert entries[2].error == "TTS failed: no voice"
    assert abs(entries[2].ts - time.time()) < 60
    as_dict = one.as_dict()
    assert as_dict["transcript"] == "what time is it 1" and as_dict["time"].startswith("2023-11-")


def test_recent_returns_the_newest_oldest_first(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        for n in range(7):
            history.append(report(n))
        assert [e.transcript[-1] for e in history.recent(3)] == ["4", "5", "6"]


def test_database_is_in_wal_mode(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        history.append(report())
        other = sqlite3.connect(tmp_path / "h.db")
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        other.close()


def test_a_turn_survives_sigkill_right_after_append(tmp_path: Path) -> None:
    db = tmp_path / "state" / "history.db"
    code = (
        "import os, signal, sys\n"
        "from assistant.events import TurnReport\n"
        "from assistant.service.history import History\n"
        "h = History(sys.argv[1])\n"
        "h.append(TurnReport(speech_start=1.0, speech_end=2.0, transcript='turn on the lights', reply='Done.',"
        " handled_by='command', latency_ms={'asr': 500.0}))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    child = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert (tmp_path / "state" / "history.db-wal").exists()  # killed before any checkpoint: the turn is in the WAL
    with History(db, readonly=True) as history:
        [entry] = history.recent(5)
    assert (entry.transcript, entry.reply, entry.handled_by, entry.latency_ms) == ("turn on the lights", "Done.",
                                                                                   "command", {"asr": 500.0})


def test_keep_rows(tmp_path: Path) -> None:
    with History(tmp_path / "h.db", Retention(keep_rows=5)) as history:
        for n in range(12):
            history.append(report(n))
        assert history.count() == 12  # pruning waits for PRUNE_EVERY appends ...
        assert history.prune() == 7
        assert [e.transcript[-2:].strip() for e in history.recent(100)] == ["7", "8", "9", "10", "11"]


def test_pruning_happens_by_itself(tmp_path: Path) -> None:
    with History(tmp_path / "h.db", Retention(keep_rows=10)) as history:
        for n in range(PRUNE_EVERY + 5):
            history.append(report(n))
        assert history.count() == 15  # pruned to 10 at the PRUNE_EVERY-th append, then 5 more


def test_keep_days(tmp_path: Path) -> None:
    now = time.time()
    with History(tmp_path / "h.db", Retention(keep_days=7)) as history:
        history.append(report(1), ts=now - 8 * 86_400)
        history.append(report(2), ts=now - 6 * 86_400)
        history.append(report(3), ts=now)
        assert history.prune(now) == 1
        assert [e.transcript[-1] for e in history.recent(10)] == ["2", "3"]


def test_retention_applies_when_opened(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as history:
        for n in range(6):
            history.append(report(n), ts=time.time() - (10 - n) * 86_400)
    with History(tmp_path / "h.db", Retention(keep_days=6.5, keep_rows=2)) as history:
        assert [e.transcript[-1] for e in history.recent(10)] == ["4", "5"]


def test_from_config(tmp_path: Path) -> None:
    config = HistoryConfig(path=str(tmp_path / "x" / "turns.db"), keep_days=None, keep_rows=3)
    with History.from_config(config) as history:
        assert history.path == tmp_path / "x" / "turns.db"
        assert history.retention == Retention(None, 3)
        assert oct((tmp_path / "x").stat().st_mode & 0o777) == "0o700"


def test_readonly_reader_next_to_a_live_writer(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as writer:
        writer.append(report(1))
        with History(tmp_path / "h.db", readonly=True) as reader:
            assert len(reader.recent(5)) == 1
            writer.append(report(2))
            assert len(reader.recent(5)) == 2
            with pytest.raises(HistoryError):
                reader.append(report(3))


def test_readonly_after_a_clean_close_changes_nothing(tmp_path: Path) -> None:
    with History(tmp_path / "h.db") as writer:
        writer.append(report(1))
    before = sorted(p.name for p in tmp_path.iterdir())
    with History(tmp_path / "h.db", readonly=True) as reader:
        assert len(reader.recent(5)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_readonly_does_not_create_a_database(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="no history yet"):
        History(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "h.db")
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(HistoryError, match="newer assistant"):
        History(tmp_path / "h.db")


def test_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "h.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryError, match="cannot open"):
        History(tmp_path / "h.db")


# -- CLI ------------------------------------------------------------------------------------------------
def test_cli_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with History(tmp_path / "h.db") as history:
        for n in range(4):
            history.append(report(n))
        history.append(report(9, reply="", dropped="too short", handled_by="", intent=None))
    assert run_service_cli(["history", "--db", str(tmp_path / "h.db"), "--json", "-n", "2"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["transcript"] for r in rows] == ["what time is it 3", "what time is it 9"]
    assert rows[0]["latency_ms"] == {"asr": 610.0, "reply_audio": 820.0}
    assert run_service_cli(["history", "--db", str(tmp_path / "h.db"), "-n", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "'what time is it 3' -> \"It is five o'clock.\"  [skill time asr=610ms reply_audio=820ms]" in lines[0]
    assert "(dropped: too short)" in lines[1]


def test_cli_history_finds_the_xdg_state_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("STATE_DIRECTORY", "ASSISTANT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with pytest.raises(UserError, match="no history yet"):
        run_service_cli(["history"])
    with History.from_config(HistoryConfig()) as history:
        history.append(report(5))
    assert history.path == tmp_path / "state" / "assistant" / "history.db"
    assert run_service_cli(["history", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["transcript"] == "what time is it 5"


def test_cli_history_rejects_bad_n(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        run_service_cli(["history", "--db", str(tmp_path / "h.db"), "-n", "0"])
    assert not os.path.exists(tmp_path / "h.db")


def test_a_turn_that_cannot_be_written_waits_and_is_written_with_the_next(tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """Another program holding the write lock (as a `sqlite3` shell in a transaction does) fails the write:
    the turn is kept, with its own time, and written before the next one, in order."""
    caplog.set_level(logging.INFO, logger="assistant.service.history")
    path = tmp_path / "h.db"
    recorder = Recorder(History(path, busy_timeout_ms=50))
    assert recorder.record(report(1))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    assert not recorder.record(report(2))
    assert not recorder.record(report(3))
    assert recorder.waiting == 2
    assert sum("could not record the turn" in r.getMessage() for r in caplog.records) == 1  # said once
    other.execute("COMMIT")
    other.close()
    assert recorder.record(report(4))
    assert recorder.waiting == 0 and recorder.lost == 0
    turns = recorder.history.recent(10)
    assert [t.transcript for t in turns] == [f"what time is it {n}" for n in (1, 2, 3, 4)]
    assert turns[1].ts < turns[2].ts < turns[3].ts  # when they happened, not when they were written
    assert "writing works again" in caplog.text


def test_a_write_error_is_a_history_error(tmp_path: Path) -> None:
    history = History(tmp_path / "h.db", busy_timeout_ms=50)
    other = sqlite3.connect(tmp_path / "h.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(HistoryError, match=r"cannot write to .*locked"):
        history.append(report(1))
    other.execute("ROLLBACK")


def test_only_the_newest_waiting_turns_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    recorder = Recorder(History(path, busy_timeout_ms=10), keep=3)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    for n in range(5):
        recorder.record(report(n))
    assert recorder.waiting == 3 and recorder.lost == 2
    other.execute("ROLLBACK")
    assert recorder.flush()
    assert [t.transcript for t in recorder.history.recent(10)] == [f"what time is it {n}" for n in (2, 3, 4)]
