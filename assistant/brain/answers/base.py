"""What every exact-answer skill is: a parser that answers a request it fully understands, else None.

Each skill gets the request as :func:`prepare` leaves it (lower case, digits kept, thousands separators
gone, the question mark dropped) and the local time. Returning None is the normal case: the request goes
on to the LLM. A skill never guesses: it answers only what it parsed whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from assistant.brain.text import normalise
from assistant.events import Reply

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_POLITE = re.compile(r"^(?:(?:hey|ok|okay|so|um|uh|please|and|computer)\b,? )+|(?:,? (?:please|thanks|thank you))+$")


@dataclass(frozen=True)
class Answer:
    text: str  # the reply, written for speech
    intent: str  # e.g. "math", "convert", "calendar.until"
    slots: dict[str, Any] = field(default_factory=dict)  # what was understood, for logs and `assistant ask --json`

    def reply(self) -> Reply:
        """As the router answers: a skill's reply, acting on nothing."""
        return Reply(self.text, "skill", self.intent, dict(self.slots))


class Answerer(Protocol):
    name: str  # the skill's name in `skills.enabled`

    def answer(self, text: str, now: datetime) -> Answer | None:
        """The answer to ``text`` (already :func:`prepare`d), or None when it is not this skill's question."""


def first_match(patterns: list[re.Pattern[str]], text: str) -> re.Match[str] | None:
    """The match of the first of ``patterns`` (the ways a question is put) that matches ``text`` whole."""
    return next((m for m in (p.match(text) for p in patterns) if m is not None), None)


def prepare(text: str) -> str:
    """The request as the skills read it: '1,250.5 + 3?' -> '1250.5 plus 3'."""
    text = _THOUSANDS.sub("", text).replace("+", " plus ").replace("×", " times ").replace("÷", " divided by ")
    text = re.sub(r"(?<=\d)\s*\*\s*(?=\d)", " times ", text)
    text = re.sub(r"(?<=\d)\s*/\s*(?=\d)", " divided by ", text)
    text = re.sub(r"(?<=\d)\s*=\s*$", "", text.strip())
    words = normalise(text)
    return _POLITE.sub("", words).strip()
