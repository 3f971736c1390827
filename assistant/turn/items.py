"""The turn's vocabulary: what its queue and counters carry, its states and policies, what it asks of a router."""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field
from typing import Protocol

from assistant.events import AudioFrame, Reply, RequestContext, SentenceScorer, TurnReport
from assistant.speech.earcons import Kind
from assistant.turn.wake import WakeListening


class Router(Protocol):
    def route(self, text: str, scorer: SentenceScorer | None = None, context: RequestContext | None = None) -> Reply:
        """``scorer`` scores other sentences against the request's audio (near-miss commands); ``context``
        says who the request was said to (a wake word's persona and conversation)."""
        ...

    def is_complete_request(self, text: str) -> bool:
        """Whether ``text`` is exactly a whole command (adaptive end of turn need not wait)."""
        ...

    def start(self) -> None:
        """Begin what runs in the background (announcing timers), once the router is in use."""
        ...

    def close(self) -> None:
        """Stop it again."""
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


@dataclass
class Playback:
    """Audio made elsewhere (a Home Assistant reply, an announcement), played in turn like a reply."""

    pcm: bytes
    rate: int
    done: threading.Event = field(default_factory=threading.Event)
    first_sample: float | None = None  # monotonic; None: nothing was played (cut, or a failing sink)


class RemoteTurns(Protocol):
    """A remote brain (remote/esphome: Home Assistant) that may take the turn after our wake word."""

    def takes(self, frame: AudioFrame, wake: WakeListening | None) -> bool:
        """On the listen thread, for a frame the mic heard while we are silent: True when it went to the
        remote brain (the frame is then not the local pipeline's)."""
        ...


class TurnPolicy(enum.StrEnum):
    """What the user's voice over our reply does (config: turn.policy)."""

    HALF_DUPLEX = "half_duplex"  # ignored, except a stop phrase (turn.stop_words_while_speaking)
    BARGE_IN = "barge_in"  # cuts the reply and is answered


class TurnState(enum.StrEnum):
    """What the assistant is doing, as `assistant status` and the systemd status line show it."""

    STARTING = "starting"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    STOPPED = "stopped"
