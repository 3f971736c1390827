"""Slot types: the regex a slot matches inside a template, and the check that turns spoken words into a value.

A value only ever leaves this module if it lies in the slot's declared domain (a canonical list entry, a
number within bounds, a duration within bounds): this is the gate between a transcript and any action.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.brain.text import (
    DURATION_PATTERN,
    NUMBER_PATTERN,
    TIME_PATTERN,
    normalise,
    parse_duration,
    parse_number,
    parse_time_of_day,
    say_duration,
)
from assistant.config.commands import DurationSlot, ListSlot, NumberSlot


class SlotType(Protocol):
    pattern: str  # regex (over normalised text) of what this slot can match
    max_words: int  # longest span the fuzzy matcher tries

    def parse(self, words: str) -> Any | None:
        """The in-domain value for exactly these (normalised) words, or None."""

    def parse_fuzzy(self, words: str) -> tuple[Any, float] | None:
        """The closest in-domain value and a 0-1 similarity, for near-misses; None if nothing is close."""

    def example(self) -> str:
        """Some words this slot accepts (used to build sample sentences for checks)."""

    def say(self, value: Any) -> str:
        """Words for a value of this slot, as a transcript would write them ("5 minutes", "7:30 am")."""

    def common_values(self) -> list[Any]:
        """Values people say most, in domain (for the audio to choose from when the words were unreadable)."""


@dataclass
class ListSlotType:
    spoken: dict[str, str] = field(default_factory=dict)  # normalised spoken form -> canonical value
    pattern: str = ""
    max_words: int = 1

    @classmethod
    def from_spec(cls, spec: ListSlot) -> ListSlotType:
        spoken: dict[str, str] = {}
        for canonical, synonyms in spec.values.items():
            for said in (canonical, *synonyms):
                key = normalise(said)
                if key:
                    spoken.setdefault(key, canonical)
        # Longest first so "living room" wins over "living".
        choices = sorted(spoken, key=len, reverse=True)
        pattern = "(?:" + "|".join(re.escape(c) for c in choices) + ")" if choices else "(?!)"
        max_words = max((len(c.split()) for c in choices), default=1)
        return cls(spoken=spoken, pattern=pattern, max_words=max_words)

    def parse(self, words: str) -> Any | None:
        return self.spoken.get(words)

    def parse_fuzzy(self, words: str) -> tuple[Any, float] | None:
        best_key, best = None, 0.0
        matcher = difflib.SequenceMatcher(None, b=words)  # difflib caches its analysis of b: keep it fixed
        for key in self.spoken:
            matcher.set_seq1(key)
            if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
                continue  # cheap upper bounds: this key can't beat the best so far
            score = matcher.ratio()
            if score > best:
                best_key, best = key, score
        return (self.spoken[best_key], best) if best_key is not None else None

    def example(self) -> str:
        return next(iter(self.spoken), "")

    def say(self, value: Any) -> str:
        said = [key for key, canonical in self.spoken.items() if canonical == value]
        # A canonical id ("light.kitchen") is nobody's word when the value has synonyms.
        return next((k for k in said if k != normalise(str(value))), said[0] if said else str(value))

    def common_values(self) -> list[Any]:
        return list(dict.fromkeys(self.spoken.values()))

    def sayable(self) -> dict[str, str]:
        """Each value's spoken forms (canonical ids that have synonyms left out) -> canonical value."""
        return {key: canonical for key, canonical in self.spoken.items()
                if key != normalise(canonical) or self.say(canonical) == key}


@dataclass
class NumberSlotType:
    minimum: float
    maximum: float
    integer: bool
    pattern: str = NUMBER_PATTERN
    max_words: int = 4

    @classmethod
    def from_spec(cls, spec: NumberSlot) -> NumberSlotType:
        return cls(minimum=spec.min, maximum=spec.max, integer=spec.integer)

    def parse(self, words: str) -> Any | None:
        value = parse_number(words)
        if value is None or not self.minimum <= value <= self.maximum:
            return None
        if value.is_integer():
            return int(value)
        return None if self.integer else value

    def parse_fuzzy(self, words: str) -> tuple[Any, float] | None:
        value = self.parse(words)
        return None if value is None else (value, 1.0)

    def example(self) -> str:
        return str(int(self.minimum) if float(self.minimum).is_integer() else self.minimum)

    def say(self, value: Any) -> str:
        return str(value)

    def common_values(self) -> list[Any]:
        return []  # any number is as likely as the next: nothing to offer


@dataclass
class DurationSlotType:
    min_s: float
    max_s: float
    pattern: str = DURATION_PATTERN
    max_words: int = 8

    @classmethod
    def from_spec(cls, spec: DurationSlot) -> DurationSlotType:
        return cls(min_s=spec.min_s, max_s=spec.max_s)

    def parse(self, words: str) -> Any | None:
        seconds = parse_duration(words)
        if seconds is None or not self.min_s <= seconds <= self.max_s:
            return None
        return int(seconds) if seconds.is_integer() else seconds

    def parse_fuzzy(self, words: str) -> tuple[Any, float] | None:
        value = self.parse(words)
        return None if value is None else (value, 1.0)

    def example(self) -> str:
        return "5 minutes"

    def say(self, value: Any) -> str:
        return say_duration(float(value), joined=False)

    def common_values(self) -> list[Any]:
        usual = (30, 60, 120, 180, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200)
        return [s for s in usual if self.min_s <= s <= self.max_s]


@dataclass
class TimeOfDaySlotType:
    """Built-in only (alarms): the value is "HH:MM" on a 24-hour clock."""

    pattern: str = TIME_PATTERN
    max_words: int = 4

    def parse(self, words: str) -> Any | None:
        parsed = parse_time_of_day(words)
        return None if parsed is None else f"{parsed[0]:02d}:{parsed[1]:02d}"

    def parse_fuzzy(self, words: str) -> tuple[Any, float] | None:
        value = self.parse(words)
        return None if value is None else (value, 1.0)

    def example(self) -> str:
        return "7:30 am"

    def common_values(self) -> list[Any]:
        return [f"{hour:02d}:00" for hour in range(24)]  # on the hour: half hours would double the sentences

    def say(self, value: Any) -> str:
        hour, minute = (int(part) for part in str(value).split(":"))
        clock = f"{hour % 12 or 12}" + (f":{minute:02d}" if minute else "")
        return f"{clock} {'am' if hour < 12 else 'pm'}"


def slot_type(spec: ListSlot | NumberSlot | DurationSlot) -> SlotType:
    if isinstance(spec, ListSlot):
        return ListSlotType.from_spec(spec)
    if isinstance(spec, NumberSlot):
        return NumberSlotType.from_spec(spec)
    return DurationSlotType.from_spec(spec)
