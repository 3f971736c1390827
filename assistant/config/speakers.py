"""Config for knowing who speaks (`speakers:`) and the name rule that enrolled voices and commands share.

Only pydantic here, so `config check` stays fast; the encoder, the voices file and the identification
live in :mod:`assistant.hearing.speakers`.
"""

from __future__ import annotations

import re

from pydantic import Field

from assistant.config.base import StrictModel

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")  # an enrolled person's name, as stored (lower case)
RESERVED_NAMES = frozenset({"unknown", "none", "null", "nobody"})  # what the log says when nobody is known


def speaker_name(name: str) -> str:
    """A person's name as stored and compared (lower case); ValueError says what is wrong with it."""
    key = name.strip().lower()
    if not NAME_PATTERN.match(key) or key in RESERVED_NAMES:
        raise ValueError(f"{name!r} is not a usable name: start with a letter; letters, digits, '_' and '-' only; "
                         f"32 characters at most; not {', '.join(sorted(RESERVED_NAMES))}")
    return key


def display_name(name: str) -> str:
    """How a stored name is said: "alice" -> "Alice"."""
    return name[:1].upper() + name[1:]


def say_names(names: list[str]) -> str:
    """["alice", "bob", "carol"] -> "Alice, Bob and Carol"."""
    said = [display_name(n) for n in names]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]


class SpeakersConfig(StrictModel):
    enabled: bool = Field(
        default=True, description="name who speaks each turn from the voices enrolled with `assistant speakers enroll`"
    )
    threshold: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="similarity (0-1) an enrolled voice needs to be named; null: the calibrated default",
    )
