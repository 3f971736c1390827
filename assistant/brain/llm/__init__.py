"""LLM backends behind one protocol (see base.py); ``factory.build_llm`` picks one from config."""

from assistant.brain.llm.base import LLM, ChatMessage, Completion, LlmError, ToolCall
from assistant.brain.llm.sentences import sentences

__all__ = ["LLM", "ChatMessage", "Completion", "LlmError", "ToolCall", "sentences"]
