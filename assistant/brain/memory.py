"""Conversation memory: the last N exchanges within a token budget, saved to disk so a restart keeps context."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.brain.llm.base import ChatMessage
from assistant.config.llm import MemoryConfig

log = logging.getLogger(__name__)

TokenCounter = Callable[[str], int]


def approx_tokens(text: str) -> int:
    """About one token per four characters of English; close enough to budget a prompt."""
    return len(text) // 4 + 1


@dataclass(frozen=True, slots=True)
class Exchange:
    user: str
    assistant: str
    at: float  # wall-clock time, so idle_reset_s survives restarts


def default_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "assistant" / "conversations"


def _file_name(conversation: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", conversation).strip(".") or "default"


class Memory:
    """One conversation's recent exchanges. Thread-safe; every change is written through to disk."""

    def __init__(self, config: MemoryConfig, count_tokens: TokenCounter = approx_tokens) -> None:
        self._config = config
        self._count = count_tokens
        self._lock = threading.Lock()
        folder = Path(config.path).expanduser() if config.path else default_path()
        self.path = folder / f"{_file_name(config.conversation)}.json"
        self._exchanges: list[Exchange] = self._load() if config.enabled else []

    def _load(self) -> list[Exchange]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [Exchange(str(e["user"]), str(e["assistant"]), float(e["at"])) for e in data["exchanges"]]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A damaged file must not stop the daemon: start afresh and say so.
            log.warning("conversation file %s is unreadable (%s); starting a new conversation", self.path, exc)
            return []

    def _save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            payload = {"conversation": self._config.conversation, "exchanges": [asdict(e) for e in self._exchanges]}
            tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
            tmp.replace(self.path)  # atomic: a crash mid-write leaves the previous file
        except OSError as exc:
            log.warning("could not save the conversation to %s: %s", self.path, exc)

    def _expire(self, now: float) -> None:
        idle = self._config.idle_reset_s
        if idle is not None and self._exchanges and now - self._exchanges[-1].at > idle:
            log.info("conversation idle for more than %.0f s: starting a new one", idle)
            self._exchanges = []

    def messages(self, now: float | None = None) -> list[ChatMessage]:
        """Remembered exchanges as chat messages, newest kept first when the token budget runs out."""
        if not self._config.enabled:
            return []
        with self._lock:
            self._expire(time.time() if now is None else now)
            kept: list[Exchange] = []
            budget = self._config.max_tokens
            for exchange in reversed(self._exchanges[-self._config.max_turns :] if self._config.max_turns else []):
                cost = self._count(exchange.user) + self._count(exchange.assistant)
                if cost > budget:
                    break
                budget -= cost
                kept.append(exchange)
        out: list[ChatMessage] = []
        for exchange in reversed(kept):
            out += [ChatMessage("user", exchange.user), ChatMessage("assistant", exchange.assistant)]
        return out

    def add(self, user: str, assistant: str, now: float | None = None) -> None:
        if not self._config.enabled or not user.strip() or not assistant.strip():
            return
        with self._lock:
            self._exchanges.append(Exchange(user.strip(), assistant.strip(), time.time() if now is None else now))
            # Keep a little more than max_turns on disk; the prompt budget trims further.
            self._exchanges = self._exchanges[-max(self._config.max_turns, 1) :]
            self._save()

    def forget_last(self) -> bool:
        with self._lock:
            if not self._exchanges:
                return False
            self._exchanges.pop()
            self._save()
            return True

    def clear(self) -> None:
        with self._lock:
            self._exchanges = []
            self._save()

    def __len__(self) -> int:
        return len(self._exchanges)

    def command(self, text: str) -> str | None:
        """'forget_last' or 'forget_all' when the utterance asks to forget; None otherwise."""
        words = re.sub(r"[^a-z' ]+", " ", text.lower()).split()
        said = " " + " ".join(words) + " "

        def asked(phrases: list[str]) -> bool:
            # Short utterances only: "don't forget that the meeting is at five" is not a request to forget.
            return any(f" {p.lower()} " in said and len(words) <= len(p.split()) + 2 for p in phrases)

        if asked(self._config.forget_all):
            return "forget_all"
        if asked(self._config.forget_last):
            return "forget_last"
        return None
