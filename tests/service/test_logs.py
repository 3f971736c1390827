"""journald-friendly logging: priority prefixes, timestamps only where nobody adds them, turn lines."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from assistant.config.schema import LoggingConfig
from assistant.events import TurnReport
from assistant.service.logs import format_turn, log_turn, setup_logging, under_journal

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[TextIO]:
    with open(tmp_path / "stderr.log", "w+", encoding="utf-8") as f:
        yield f


def journal_env(stream: TextIO) -> dict[str, str]:
    st = os.fstat(stream.fileno())
    return {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}", "INVOCATION_ID": "0123456789abcdef"}


def written(stream: TextIO) -> list[str]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    stream.seek(0)
    return stream.read().splitlines()


def turn() -> TurnReport:
    return TurnReport(speech_start=1.0, speech_end=2.5, transcript="what time is it", reply="It's 5.",
                      handled_by="skill", intent="time", latency_ms={"asr": 610.4, "reply_audio": 819.6})


# -- format_turn ----------------------------------------------------------------------------------------
def test_format_turn() -> None:
    assert format_turn(turn()) == (
        'turn transcript="what time is it" handled_by=skill intent=time asr_ms=610 reply_audio_ms=820 reply="It\'s 5."'
    )
    woken = turn()
    woken.wake_word = "okay_nabu"
    assert format_turn(woken).startswith('turn wake_word=okay_nabu transcript="what time is it" handled_by=skill')


def test_format_turn_quotes_what_would_break_the_line() -> None:
    report = TurnReport(speech_start=0, speech_end=0, transcript='say "hi"\nnow', dropped="noise", error="a=b")
    assert format_turn(report) == r'turn transcript="say \"hi\"\nnow" dropped=noise error="a=b" reply=""'


# -- journal detection ----------------------------------------------------------------------------------
def test_under_journal_matches_device_and_inode(stream: TextIO, tmp_path: Path) -> None:
    assert under_journal(stream, journal_env(stream))
    other = os.stat(tmp_path)
    assert not under_journal(stream, {"JOURNAL_STREAM": f"{other.st_dev}:{other.st_ino}"})
    assert not under_journal(stream, {"JOURNAL_STREAM": "garbage"})
    assert not under_journal(stream, {})


# -- setup_logging --------------------------------------------------------------------------------------
def test_journal_gets_priority_prefixes_and_no_timestamps(stream: TextIO) -> None:
    setup_logging(LoggingConfig(level="DEBUG", format="auto"), stream, journal_env(stream))
    log = logging.getLogger("assistant.test")
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = written(stream)
    assert lines[:4] == ["<7>DEBUG assistant.test: d", "<6>INFO assistant.test: i", "<4>WARNING assistant.test: w",
                         "<3>ERROR assistant.test: e"]
    assert lines[4] == "<3>ERROR assistant.test: failed"
    assert all(line.startswith("<3>") for line in lines[5:]) and "ValueError: boom" in lines[-1]


def test_terminal_gets_timestamps_and_no_prefixes(stream: TextIO) -> None:
    setup_logging(LoggingConfig(level="INFO", format="auto"), stream, {})
    logging.getLogger("assistant.test").debug("hidden by the level")
    logging.getLogger("assistant.test").info("shown")
    [line] = written(stream)
    assert TIMESTAMP.match(line) and line.endswith("INFO assistant.test: shown")


def test_systemd_without_journal_has_no_timestamps(stream: TextIO) -> None:
    setup_logging(LoggingConfig(format="auto"), stream, {"INVOCATION_ID": "abc"})
    logging.getLogger("assistant.test").info("plain")
    assert written(stream) == ["INFO assistant.test: plain"]


def test_explicit_text_always_has_timestamps(stream: TextIO) -> None:
    setup_logging(LoggingConfig(format="text"), stream, journal_env(stream))
    logging.getLogger("assistant.test").info("x")
    [line] = written(stream)
    assert line.startswith("<6>") and TIMESTAMP.match(line[3:])


def test_json_lines_with_the_turn_nested(stream: TextIO) -> None:
    setup_logging(LoggingConfig(format="json"), stream, {})
    log_turn(turn())
    logging.getLogger("assistant.test").warning("two\nlines")
    first, second = (json.loads(line) for line in written(stream))
    assert first["level"] == "info" and first["logger"] == "assistant.turn" and "ts" in first
    assert first["msg"] == format_turn(turn())
    assert first["turn"]["latency_ms"] == {"asr": 610.4, "reply_audio": 819.6}
    assert first["turn"]["intent"] == "time"
    assert second["msg"] == "two\nlines" and second["level"] == "warning"


def test_json_under_journal(stream: TextIO) -> None:
    setup_logging(LoggingConfig(format="json"), stream, journal_env(stream))
    logging.getLogger("assistant.test").error("bad")
    [line] = written(stream)
    assert line.startswith("<3>{")
    assert "ts" not in json.loads(line[3:])


def test_failed_turn_is_a_warning(stream: TextIO) -> None:
    setup_logging(LoggingConfig(format="auto"), stream, journal_env(stream))
    report = turn()
    report.error = "TTS failed"
    log_turn(report)
    [line] = written(stream)
    assert line.startswith("<4>WARNING assistant.turn: turn transcript=") and 'error="TTS failed"' in line


def test_calling_setup_twice_does_not_duplicate_lines(stream: TextIO) -> None:
    setup_logging(LoggingConfig(), stream, {})
    setup_logging(LoggingConfig(), stream, {})
    logging.getLogger("assistant.test").warning("once")
    assert len(written(stream)) == 1


def test_a_real_process_whose_stderr_is_the_journal_stream(tmp_path: Path) -> None:
    code = (
        "import logging\n"
        "from assistant.config.schema import LoggingConfig\n"
        "from assistant.events import TurnReport\n"
        "from assistant.service.logs import log_turn, setup_logging\n"
        "setup_logging(LoggingConfig())\n"
        "logging.getLogger('assistant').info('ready')\n"
        "log_turn(TurnReport(speech_start=0, speech_end=1, transcript='hello', handled_by='llm',"
        " latency_ms={'asr': 100.0}))\n"
    )
    log_path = tmp_path / "journal"
    log_path.touch()
    st = log_path.stat()
    env = {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID", "JOURNAL_STREAM")}
    env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
    with open(log_path, "w") as stderr:
        subprocess.run([sys.executable, "-c", code], stderr=stderr, env=env, check=True, timeout=60)
    assert log_path.read_text().splitlines() == [
        "<6>INFO assistant: ready",
        '<6>INFO assistant.turn: turn transcript=hello handled_by=llm asr_ms=100 reply=""',
    ]
