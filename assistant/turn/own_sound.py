"""When the microphone may hear our own sound: the half-duplex gate's clock.

The worker marks each stretch of sound it plays (a reply, an earcon); frames captured from its start until
``echo_tail_s`` after its end may hold our voice, so the listen loop keeps them from the endpointer. A
barge-in opens the gate at once. Replies are numbered, so a late "stop" cannot cut the next one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator


class OwnSound:
    def __init__(self) -> None:
        # Frames captured in [_from, _until) may hold our own sound.
        self._from = float("inf")
        self._until = 0.0
        self._barged_in = threading.Event()
        self._speaking = threading.Event()
        self.reply_id = 0  # which reply is (or was last) playing

    def deaf_at(self, captured_at: float) -> bool:
        """Whether a frame captured then is kept from the endpointer."""
        return self._from <= captured_at < self._until

    @property
    def stretch(self) -> float:
        """When the current (or last) stretch of our sound began: the echo gate's mic history belongs to it."""
        return self._from

    @property
    def speaking(self) -> bool:
        """A reply is being spoken (not an earcon)."""
        return self._speaking.is_set()

    @property
    def barged_in(self) -> bool:
        """The user cut the last reply: what still comes back of it is cleaned, not gated."""
        return self._barged_in.is_set()

    def quiet(self, now: float) -> bool:
        """Nothing of ours is playing, nor still echoing in the room."""
        return not self._speaking.is_set() and now >= self._until

    @contextlib.contextmanager
    def playing(self, echo_tail_s: float) -> Iterator[None]:
        """Around a sound played into the room: the gate closes now and opens ``echo_tail_s`` after it."""
        self._barged_in.clear()
        now = time.monotonic()
        if now >= self._until:  # a new stretch; one that starts within the last one's tail extends it
            self._from = now
        self._until = float("inf")
        try:
            yield
        finally:
            if not self._barged_in.is_set():  # after a barge-in we are listening already
                self._until = time.monotonic() + echo_tail_s

    @contextlib.contextmanager
    def reply(self) -> Iterator[int]:
        """Around a spoken reply; yields its number."""
        self.reply_id += 1
        self._speaking.set()
        try:
            yield self.reply_id
        finally:
            self._speaking.clear()

    def barge_in(self) -> None:
        """The user talks over us: listen again at once."""
        self._barged_in.set()
        self._from, self._until = float("inf"), 0.0
