"""A routed reply as the pipeline speaks it: its sentences as they come, what its LLM did, and the report's
unit of time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from assistant.events import Reply, TurnReport
from assistant.speech.text import split_sentences


def ms(seconds: float) -> float:
    """Seconds as the milliseconds a turn report's latencies are in."""
    return seconds * 1000.0


def sentences_of(reply: Reply, spoken: list[str]) -> Iterator[str]:
    """The reply's sentences, then those of its stream (an LLM's answer) as they are generated; each one
    is noted in ``spoken`` when handed out, so a cut reply reports what was said."""
    for part in split_sentences(reply.text):
        spoken.append(part)
        yield part
    for part in reply.stream or ():
        for sentence in split_sentences(part):
            spoken.append(sentence)
            yield sentence


def llm_outcome(reply: Reply, report: TurnReport) -> dict[str, Any] | None:
    """Note in ``report`` what the LLM did (known once its stream has been spoken); the action of the
    configured command it chose, if it chose one (validated and run by the router)."""
    llm = reply.extra.get("llm")
    if not llm:
        return None
    if llm.get("ttft_ms") is not None:
        report.latency_ms["llm_first_token"] = llm["ttft_ms"]
    if llm.get("error"):
        report.error = str(llm["error"])
    command = llm.get("command")
    if not command:
        return None
    report.handled_by, report.intent = "command", command.get("intent")
    action = command.get("action")
    return action if isinstance(action, dict) else None
