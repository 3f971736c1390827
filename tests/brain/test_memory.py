"""Conversation memory: turn and token limits, persistence across restarts, forgetting, idle reset."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.brain.llm.base import ChatMessage
from assistant.brain.memory import Memory
from assistant.config.llm import MemoryConfig


def memory(tmp_path: Path, **overrides: object) -> Memory:
    return Memory(MemoryConfig.model_validate({"path": str(tmp_path), **overrides}))


def test_keeps_the_last_n_turns_as_chat_messages(tmp_path: Path) -> None:
    mem = memory(tmp_path, max_turns=2)
    for i in range(4):
        mem.add(f"question {i}", f"answer {i}")
    assert mem.messages() == [
        ChatMessage("user", "question 2"),
        ChatMessage("assistant", "answer 2"),
        ChatMessage("user", "question 3"),
        ChatMessage("assistant", "answer 3"),
    ]


def test_token_budget_drops_the_oldest_turns_first(tmp_path: Path) -> None:
    mem = Memory(MemoryConfig(path=str(tmp_path), max_turns=10, max_tokens=10), count_tokens=lambda t: len(t.split()))
    mem.add("one two three", "four five")  # 5 tokens
    mem.add("six seven", "eight nine")  # 4 tokens
    mem.add("ten", "eleven twelve")  # 3 tokens
    assert [m.content for m in mem.messages()] == ["six seven", "eight nine", "ten", "eleven twelve"]


def test_a_restart_keeps_the_conversation(tmp_path: Path) -> None:
    first = memory(tmp_path, conversation="kitchen")
    first.add("My name is Ada.", "Nice to meet you, Ada.")
    again = memory(tmp_path, conversation="kitchen")
    assert [m.content for m in again.messages()] == ["My name is Ada.", "Nice to meet you, Ada."]
    assert again.path == tmp_path / "kitchen.json"
    assert memory(tmp_path, conversation="office").messages() == []


def test_forget_that_and_new_conversation(tmp_path: Path) -> None:
    mem = memory(tmp_path)
    assert mem.command("Forget that.") == "forget_last"
    assert mem.command("okay, new conversation please") == "forget_all"
    assert mem.command("Don't forget that the meeting is at five tomorrow") is None
    assert mem.command("What is the weather?") is None
    mem.add("a", "b")
    mem.add("c", "d")
    assert mem.forget_last() and [m.content for m in mem.messages()] == ["a", "b"]
    mem.clear()
    assert mem.messages() == [] and memory(tmp_path).messages() == []
    assert not mem.forget_last()


def test_idle_reset_starts_a_new_conversation(tmp_path: Path) -> None:
    mem = memory(tmp_path, idle_reset_s=60)
    mem.add("a", "b", now=1000.0)
    assert len(mem.messages(now=1059.0)) == 2
    assert mem.messages(now=1061.0) == []


def test_disabled_memory_remembers_nothing(tmp_path: Path) -> None:
    mem = memory(tmp_path, enabled=False)
    mem.add("a", "b")
    assert mem.messages() == [] and not (tmp_path / "default.json").exists()


def test_a_corrupt_file_starts_afresh_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "default.json").write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        mem = memory(tmp_path)
    assert mem.messages() == [] and "unreadable" in caplog.text
    mem.add("a", "b")
    assert len(memory(tmp_path).messages()) == 2
