"""What the pipeline's turn queue and its counters carry, and what it asks of a router (assistant/pipeline.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal, Protocol

from assistant.events import Reply, SentenceScorer, TurnReport
from assistant.speech.earcons import Kind


class Router(Protocol):
    def route(self, text: str, scorer: SentenceScorer | None = None) -> Reply:
        """``scorer`` scores other sentences against the request's audio (near-miss commands)."""
        ...

    def is_complete_request(self, text: str) -> bool:
        """Whether ``text`` is exactly a whole command (adaptive end of turn need not wait)."""
        ...


@dataclass
class PipelineStats:
    turns: int = 0
    errors: int = 0
    ignored_while_speaking: int = 0  # frames kept from the endpointer by the half-duplex gate
    stop_checks: int = 0  # half duplex: utterances heard over our voice and checked for a stop phrase
    stops_while_speaking: int = 0  # ... that were a stop phrase and cut the reply
    last_turns: list[TurnReport] = field(default_factory=list)


@dataclass
class TextJob:
    """A request that arrives as text (control socket, a timer's announcement), queued like speech."""

    text: str
    route: bool = True
    done: threading.Event = field(default_factory=threading.Event)
    report: TurnReport | None = None


@dataclass
class Cue:
    """An earcon to play in turn with replies (push-to-talk), so only the worker plays anything."""

    kind: Kind


TurnPolicy = Literal["half_duplex", "barge_in"]
