"""Decides what answers a request: built-in skills first, then (later) user commands and the LLM."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from assistant.config import RouterConfig
from assistant.events import Reply

Clock = Callable[[], datetime]


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).strip()


def _say_time(now: datetime) -> str:
    hour12 = now.hour % 12 or 12
    suffix = "AM" if now.hour < 12 else "PM"
    return f"It's {hour12}:{now.minute:02d} {suffix}."


def _say_date(now: datetime) -> str:
    return f"Today is {now.strftime('%A')}, {now.strftime('%B')} {now.day}, {now.year}."


_TIME = re.compile(r"\b(what('s| is)? the time|what time is it|tell me the time|time is it)\b")
_DATE = re.compile(r"\b(what('s| is)? (the|today's) date|what day is (it|today)|today's date)\b")


class Router:
    """Maps a transcript to a Reply. Skills are tried in order; the first that matches answers."""

    def __init__(self, config: RouterConfig, clock: Clock = datetime.now) -> None:
        self._config = config
        self._clock = clock

    def route(self, text: str) -> Reply:
        said = _normalise(text)
        if _TIME.search(said):
            return Reply(_say_time(self._clock()), handled_by="skill", intent="time")
        if _DATE.search(said):
            return Reply(_say_date(self._clock()), handled_by="skill", intent="date")
        return Reply(self._config.acknowledgement.format(text=text.strip()), handled_by="fallback")
