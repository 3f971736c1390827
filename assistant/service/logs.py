"""Logging to stderr that reads well both in a terminal and in the journal.

Under journald (``$JOURNAL_STREAM`` names our stderr) lines carry a ``<N>`` syslog priority prefix, which
journald turns into the entry's priority, and no timestamp (journald adds its own). Anywhere else under
systemd (``$INVOCATION_ID``) there is no timestamp either; on a terminal there is one.

Each turn is one structured line (``format_turn``), logfmt in text mode and a nested object in JSON mode.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from assistant.config.schema import LoggingConfig
from assistant.events import TurnReport

TURN_LOGGER = "assistant.turn"

# syslog priorities (sd-daemon(3) prefixes) for Python levels
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


def _priority(levelno: int) -> int:
    for level, priority in sorted(_PRIORITY.items(), reverse=True):
        if levelno >= level:
            return priority
    return 7


def under_journal(stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    """True if ``stream`` (default stderr) is connected to journald, per $JOURNAL_STREAM ("DEV:INODE")."""
    value = (os.environ if env is None else env).get("JOURNAL_STREAM", "")
    try:
        dev, ino = (int(part) for part in value.split(":"))
        st = os.fstat((stream or sys.stderr).fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def under_systemd(env: Mapping[str, str] | None = None) -> bool:
    return bool((os.environ if env is None else env).get("INVOCATION_ID"))


# -- turn lines ------------------------------------------------------------------------------------------
def _logfmt_value(value: object) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    if text and not any(c in text for c in ' ="\\') and text.isprintable():
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    escaped = escaped.replace("\t", "\\t")
    return f'"{escaped}"'


def format_turn(report: TurnReport) -> str:
    """One logfmt line: ``turn transcript="what time is it" handled_by=skill asr_ms=610 ...``."""
    fields: list[tuple[str, object]] = [("wake_word", report.wake_word)] if report.wake_word else []
    if report.speaker_score is not None:  # identification ran: who it heard, or that nobody enrolled was close
        fields += [("speaker", report.speaker or "unknown"), ("speaker_score", round(report.speaker_score, 2))]
    fields.append(("transcript", report.transcript))
    fields += [(k, v) for k, v in (("handled_by", report.handled_by), ("intent", report.intent),
                                   ("end_of_turn", report.end_of_turn)) if v]
    fields += [(f"{stage}_ms", round(ms)) for stage, ms in report.latency_ms.items()]
    fields += [(k, v) for k, v in (("dropped", report.dropped), ("error", report.error)) if v]
    fields.append(("reply", report.reply))
    return "turn " + " ".join(f"{key}={_logfmt_value(value)}" for key, value in fields)


def log_turn(report: TurnReport, logger: logging.Logger | None = None) -> None:
    """Log one finished turn: the logfmt line in text mode, ``{"turn": {...}}`` fields in JSON mode."""
    level = logging.WARNING if report.error else logging.INFO
    (logger or logging.getLogger(TURN_LOGGER)).log(level, "%s", format_turn(report),
                                                   extra={"turn": report.as_dict()})


# -- formatters ------------------------------------------------------------------------------------------
class TextFormatter(logging.Formatter):
    def __init__(self, timestamps: bool, priority_prefix: bool) -> None:
        fmt = "%(levelname)s %(name)s: %(message)s"
        super().__init__(("%(asctime)s " + fmt) if timestamps else fmt, datefmt="%Y-%m-%d %H:%M:%S")
        self.priority_prefix = priority_prefix

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if not self.priority_prefix:
            return text
        # journald reads the prefix per line: give continuation lines (tracebacks) the same priority.
        prefix = f"<{_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.split("\n"))


class JsonFormatter(logging.Formatter):
    def __init__(self, timestamps: bool, priority_prefix: bool) -> None:
        super().__init__()
        self.timestamps = timestamps
        self.priority_prefix = priority_prefix

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {}
        if self.timestamps:
            entry["ts"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created)) + (
                f".{int(record.msecs):03d}"
            )
        entry.update(level=record.levelname.lower(), logger=record.name, msg=record.getMessage())
        turn = getattr(record, "turn", None)
        if isinstance(turn, dict):
            entry["turn"] = turn
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        line = json.dumps(entry, ensure_ascii=False, default=str)  # one line: newlines are escaped
        return f"<{_priority(record.levelno)}>{line}" if self.priority_prefix else line


class _Handler(logging.StreamHandler[TextIO]):
    """Marks the handler setup_logging installed, so calling it again replaces rather than duplicates."""


class _OtherLibrariesAtDebugOnly(logging.Filter):
    """Other libraries' INFO lines (faster-whisper's "Processing audio with duration ...") show only at DEBUG;
    their warnings and errors always show."""

    def __init__(self, debug: bool) -> None:
        super().__init__()
        self._debug = debug

    def filter(self, record: logging.LogRecord) -> bool:
        if self._debug or record.levelno >= logging.WARNING:
            return True
        return record.name == "assistant" or record.name.startswith("assistant.")


def level_for(config: LoggingConfig, *, verbose: bool, daemon: bool) -> LoggingConfig:
    """``-v`` means DEBUG; otherwise the daemon logs at its configured level and one-shot commands show
    only warnings (their output is the answer, not a log)."""
    if verbose:
        return config.model_copy(update={"level": "DEBUG"})
    return config if daemon else config.model_copy(update={"level": "WARNING"})


def setup_logging(config: LoggingConfig, stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> None:
    """Configure the root logger from ``config`` (``level``, ``format``: auto|text|json)."""
    stream = stream or sys.stderr
    journal = under_journal(stream, env)
    timestamps = not (journal or under_systemd(env))
    formatter: logging.Formatter
    if config.format == "json":
        formatter = JsonFormatter(timestamps=timestamps, priority_prefix=journal)
    elif config.format == "text":  # explicit text: always timestamped (e.g. redirected to a file)
        formatter = TextFormatter(timestamps=True, priority_prefix=journal)
    else:  # auto: journald/systemd add the time themselves
        formatter = TextFormatter(timestamps=timestamps, priority_prefix=journal)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(_OtherLibrariesAtDebugOnly(debug=logging.getLevelName(config.level) == logging.DEBUG))
    root.addHandler(handler)
    root.setLevel(config.level)
    logging.captureWarnings(True)
