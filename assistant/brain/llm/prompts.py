"""Prompt shapes shared by the backends: few-shot text prompts for base models and the JSON tool protocol."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from assistant.brain.llm.base import ChatMessage, Completion, ToolCall

log = logging.getLogger(__name__)

# A base model continues the transcript; a new line means it has started inventing the next turn.
COMPLETION_STOP = ["\n", "User:"]


def completion_prompt(messages: list[ChatMessage], few_shot: list[tuple[str, str]]) -> str:
    """A plain-text transcript ending in 'Assistant:' for models without a chat template."""
    system = "\n".join(m.content for m in messages if m.role == "system").strip()
    lines = [system, ""] if system else []
    for question, answer in few_shot:
        lines += [f"User: {question}", f"Assistant: {answer}"]
    for message in messages:
        if message.role == "system":
            continue
        speaker = "User" if message.role == "user" else "Assistant"
        lines.append(f"{speaker}: {' '.join(message.content.split())}")
    lines.append("Assistant:")
    return "\n".join(lines)


def normalise_tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """OpenAI-style function specs, accepting bare {name, description, parameters} dicts too."""
    out: list[dict[str, Any]] = []
    for tool in tools or []:
        function = tool.get("function", tool) if tool.get("type", "function") == "function" else tool
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"a tool spec has no name: {tool!r}")
        out.append(
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": str(function.get("description", "")),
                    "parameters": function.get("parameters") or {"type": "object", "properties": {}},
                },
            }
        )
    return out


def json_tool_instructions(tools: list[dict[str, Any]]) -> str:
    """System-prompt text that offers commands to a model without native function calling."""
    lines = [
        "You can also run these commands. If, and only if, the request is one of them, reply with a single JSON",
        'object and nothing else: {"tool": "<name>", "arguments": {...}}. Otherwise answer normally in speech.',
    ]
    for tool in normalise_tools(tools):
        function = tool["function"]
        params = json.dumps(function["parameters"].get("properties", {}), separators=(",", ":"))
        lines.append(f"- {function['name']}: {function['description']} arguments: {params}")
    return "\n".join(lines)


def with_tool_instructions(messages: list[ChatMessage], tools: list[dict[str, Any]]) -> list[ChatMessage]:
    """The messages with the JSON tool protocol appended to the system prompt."""
    instructions = json_tool_instructions(tools)
    if messages and messages[0].role == "system":
        return [ChatMessage("system", messages[0].content + "\n" + instructions), *messages[1:]]
    return [ChatMessage("system", instructions), *messages]


def parse_tool_json(text: str, names: set[str]) -> ToolCall | None:
    """A ToolCall from a JSON reply, or None when it isn't one for a configured command."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    name = data.get("tool") or data.get("name")
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str):  # some models double-encode arguments
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    if not isinstance(name, str) or not isinstance(arguments, dict):
        return None
    if name not in names:
        log.warning("the model asked for a command that is not configured: %r", name)
    return ToolCall(name, arguments)


def split_json_tool(deltas: Iterator[str], completion: Completion, names: set[str]) -> Iterator[str]:
    """Pass text through, unless the reply starts with '{': then buffer it and record a tool call instead."""
    head = ""
    for delta in deltas:
        head += delta
        if head.strip():
            break
    else:
        return
    if not head.lstrip().startswith("{"):
        yield head
        yield from deltas
        return
    body = head + "".join(deltas)
    call = parse_tool_json(body, names)
    if call is not None:
        completion.tool_call = call
    else:
        # Half-made JSON read aloud is worse than nothing: the brain apologises for an empty reply.
        log.warning("the model replied with JSON that is not a tool call: %.200s", body)


def apply_stops(deltas: Iterator[str], stops: list[str]) -> Iterator[str]:
    """Pass deltas through until a stop string appears (the stop string itself is not passed)."""
    if not stops:
        yield from deltas
        return
    hold = max(len(s) for s in stops) - 1  # a stop string may straddle two deltas
    pending = ""
    for delta in deltas:
        pending += delta
        cut = min((i for i in (pending.find(s) for s in stops) if i >= 0), default=-1)
        if cut >= 0:
            if pending[:cut]:
                yield pending[:cut]
            return
        if len(pending) > hold:
            yield pending[: len(pending) - hold]
            pending = pending[len(pending) - hold :]
    if pending:
        yield pending
