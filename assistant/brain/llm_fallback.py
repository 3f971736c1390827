"""The router's last resort: the LLM brain, answering as a stream of sentences.

The brain is loaded once, on first use (the daemon loads it at start, so READY means ready). It is
offered the configured commands as tools, and every call it makes goes back through the router's own
validation. When the stream has been spoken, ``Reply.extra["llm"]`` holds what the brain did (model,
tokens, time to first token, and whether it ended up running a command).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from assistant.brain.brain import build_brain
from assistant.events import Reply, RequestContext

if TYPE_CHECKING:
    from assistant.brain.brain import Brain
    from assistant.brain.router import Router
    from assistant.config.schema import Config

log = logging.getLogger(__name__)


class LlmFallback:
    def __init__(self, config: Config) -> None:
        self._config = config
        self._brain: Brain | None = None
        self._loaded = False
        self._router: Router | None = None
        self._lock = threading.Lock()
        self.next_image: bytes | None = None  # sent with the next question (`assistant ask --image`)

    def bind(self, router: Router) -> None:
        """Offer the router's commands as tools once both exist (the router is built with us inside)."""
        self._router = router
        if self._brain is not None:
            self._brain.set_tools(router.tool_specs(), router.call_tool)

    def load(self, warm: bool = False) -> Brain | None:
        """The brain, built on first use; ``warm`` also pre-processes the fixed part of its prompt."""
        with self._lock:
            if not self._loaded:
                self._brain = build_brain(self._config)
                self._loaded = True
                if self._brain is not None and self._router is not None:
                    self._brain.set_tools(self._router.tool_specs(), self._router.call_tool)
                if warm and self._brain is not None:
                    self._brain.warm_up()
            return self._brain

    @property
    def available(self) -> bool:
        return self.load() is not None

    def sees_images(self) -> bool:
        """Whether the model takes images (a vision-language model answers "what do you see" itself)."""
        brain = self.load()
        return brain is not None and brain.llm.supports_images

    def __call__(self, text: str, context: RequestContext | None = None) -> Reply:
        brain = self.load()
        if brain is None:  # llm.backend: none (or nothing installed): the plain acknowledgement
            return Reply(self._config.router.acknowledgement.format(text=text.strip()), handled_by="fallback")
        image, self.next_image = self.next_image, None
        stats: dict[str, Any] = {}
        reply = Reply("", handled_by="llm", stream=self._stream(brain, text, image, context, stats),
                      extra={"llm": stats})
        return reply

    def _stream(self, brain: Brain, text: str, image: bytes | None, context: RequestContext | None,
                stats: dict[str, Any]) -> Iterator[str]:
        try:
            yield from brain.answer(text, image=image, context=context)
        finally:
            last = brain.last_stats
            stats.update(last.as_dict())
            if last.reply is not None:  # the model chose a configured command
                stats["command"] = {"intent": last.reply.intent, "slots": last.reply.slots,
                                    "action": last.reply.action}

    def close(self) -> None:
        if self._brain is not None:
            self._brain.close()
