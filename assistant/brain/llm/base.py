"""What every LLM backend provides, and the small pieces they share.

A backend turns a list of chat messages (plus, optionally, one image) into a ``Completion``: an iterator of
text deltas that also records token counts, time to first token and a tool call if the model made one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A request by the model to run one configured command; validated by the router before anything runs."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


class LlmError(Exception):
    """The backend could not produce a reply (missing model, dead server, bad image...): one plain sentence."""


class Completion(Iterator[str]):
    """Text deltas of one reply; after (or during) iteration it holds the reply's statistics."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.started_at = time.monotonic()
        self.first_token_at: float | None = None
        self.finished_at: float | None = None
        self.prompt_tokens: int | None = None
        self.completion_tokens = 0
        self.tool_call: ToolCall | None = None
        self.image_used = False
        # (text, probability the model gave it) for each generated token, where the backend can tell
        self.token_probs: list[tuple[str, float]] = []
        self._source: Iterator[str] = iter(())
        self._abort_hooks: list[Callable[[], None]] = []
        self.aborted = False

    def attach(self, source: Iterator[str]) -> Completion:
        self._source = source
        return self

    def __next__(self) -> str:
        try:
            delta = next(self._source)
        except StopIteration:
            if self.finished_at is None:
                self.finished_at = time.monotonic()
            raise
        if delta and self.first_token_at is None:
            self.first_token_at = time.monotonic()
        return delta

    def on_abort(self, hook: Callable[[], None]) -> None:
        self._abort_hooks.append(hook)

    def abort(self) -> None:
        """Ask generation to stop from another thread (a timed-out turn); the iterating thread then ends."""
        self.aborted = True
        for hook in self._abort_hooks:
            try:
                hook()
            except Exception:  # aborting is best effort: the socket may already be gone
                log.debug("abort hook failed", exc_info=True)

    def close(self) -> None:
        """Stop generating (frees the backend for the next turn); call from the iterating thread."""
        close = getattr(self._source, "close", None)
        if close is not None:
            close()

    @property
    def ttft_ms(self) -> float | None:
        if self.first_token_at is None:
            return None
        return (self.first_token_at - self.started_at) * 1000.0

    @property
    def tokens_per_s(self) -> float | None:
        if self.first_token_at is None or self.finished_at is None or self.completion_tokens < 2:
            return None
        span = self.finished_at - self.first_token_at
        return (self.completion_tokens - 1) / span if span > 0 else None


@runtime_checkable
class LLM(Protocol):
    """A chat model. ``stream`` must not block for long before returning; the work happens while iterating."""

    name: str  # the model as users know it (path, bundled name or server model id)
    supports_images: bool
    supports_native_tools: bool  # True: `tools` go to the model as function definitions

    def stream(self, messages: list[ChatMessage], *, image: bytes | None = None, max_tokens: int,
               tools: list[dict[str, Any]] | None = None) -> Completion: ...

    def close(self) -> None: ...


class TokenProbabilities:
    """Records in ``completion.token_probs`` the probability the model gave each token it generated. Fed
    each step's logits (from a logits processor); the token chosen from one step's distribution is the last
    input id at the next step, so the last token of a reply goes unrecorded."""

    def __init__(self, completion: Completion, decode: Callable[[int], str]) -> None:
        self._completion = completion
        self._decode = decode
        self._previous: np.ndarray[Any, Any] | None = None

    def observe(self, last_token: int, logits: np.ndarray[Any, Any]) -> None:
        if self._previous is not None:
            self._completion.token_probs.append((self._decode(last_token), float(self._previous[last_token])))
        exp = np.exp(logits.astype(np.float64) - logits.max())
        self._previous = exp / exp.sum()
