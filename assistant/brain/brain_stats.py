"""What one LLM turn did (model, tokens, timings, tool call, errors), for the turn's report and the logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.brain.llm.base import ToolCall
from assistant.events import Reply


@dataclass(slots=True)
class BrainStats:
    """What the last ``answer`` did; ``ttft_ms`` counts from the call, so it includes any camera capture."""

    model: str = ""
    backend: str = ""
    handled_by: str = "llm"  # llm | command (a validated tool call) | memory | apology
    prompt_tokens: int | None = None
    completion_tokens: int = 0
    ttft_ms: float | None = None
    first_sentence_ms: float | None = None
    total_ms: float | None = None
    tokens_per_s: float | None = None
    image: bool = False  # an image went to the model
    capture_ms: float | None = None
    vision_ms: float | None = None  # reading text and counting faces in the frame (assistant.brain.vision)
    tool_call: ToolCall | None = None
    reply: Reply | None = None  # the validated command's Reply when the model called a tool
    error: str | None = None
    timed_out: bool = False
    sentences: list[str] = field(default_factory=list)
    confidence: float | None = None  # the probability of the first new word of the answer, where known

    def as_dict(self) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "model": self.model,
            "backend": self.backend,
            "handled_by": self.handled_by,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_ms": ms(self.ttft_ms),
            "first_sentence_ms": ms(self.first_sentence_ms),
            "total_ms": ms(self.total_ms),
            "tokens_per_s": None if self.tokens_per_s is None else round(self.tokens_per_s, 2),
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "image": self.image,
            "capture_ms": ms(self.capture_ms),
            "vision_ms": ms(self.vision_ms),
            "tool_call": None if self.tool_call is None else {"name": self.tool_call.name,
                                                              "arguments": self.tool_call.arguments},
            "error": self.error,
            "timed_out": self.timed_out,
        }
