"""Configured commands offered to the LLM as tools, and the validation every tool call goes through.

The model only ever proposes: a call names a configured command and gives values for its declared
slots; each value is checked against the slot's type and domain exactly as a spoken value would be
(list slots accept a canonical value or a synonym, numbers and durations must lie in range). Anything
else -- unknown command, extra or missing arguments, a value outside the domain -- is rejected.
"""

from __future__ import annotations

from typing import Any

from assistant.brain.intents import CommandSet
from assistant.brain.slots import ListSlotType
from assistant.brain.templates import parse, slot_names
from assistant.brain.text import normalise
from assistant.config.commands import Command, DurationSlot, ListSlot, NumberSlot


def command_slots(command: Command) -> list[str]:
    """The slots a command's templates fill, in first-use order."""
    seen: list[str] = []
    for template in command.templates:
        for name in sorted(slot_names(parse(template))):
            if name not in seen:
                seen.append(name)
    return seen


def _schema(spec: ListSlot | NumberSlot | DurationSlot) -> dict[str, Any]:
    if isinstance(spec, ListSlot):
        return {"type": "string", "enum": sorted(spec.values)}
    if isinstance(spec, NumberSlot):
        return {"type": "integer" if spec.integer else "number", "minimum": spec.min, "maximum": spec.max}
    return {"type": "number", "description": "seconds", "minimum": spec.min_s, "maximum": spec.max_s}


def tool_specs(commands: CommandSet) -> list[dict[str, Any]]:
    """OpenAI-style function specs: one per command, its slots as typed, required parameters."""
    specs = []
    for command in commands.commands:
        slots = [s for s in command_slots(command) if s in commands.slots]
        specs.append({
            "type": "function",
            "function": {
                "name": command.name,
                "description": command.description or (command.templates[0] if command.templates else command.name),
                "parameters": {
                    "type": "object",
                    "properties": {s: _schema(commands.slots[s]) for s in slots},
                    "required": slots,
                    "additionalProperties": False,
                },
            },
        })
    return specs


def _value(spec: ListSlot | NumberSlot | DurationSlot, raw: Any) -> Any | None:
    if isinstance(spec, ListSlot):
        if not isinstance(raw, str):
            return None
        if raw in spec.values:
            return raw
        return ListSlotType.from_spec(spec).parse(normalise(raw))
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    if isinstance(spec, NumberSlot):
        if not spec.min <= raw <= spec.max or (spec.integer and not float(raw).is_integer()):
            return None
        return int(raw) if float(raw).is_integer() else float(raw)
    if not spec.min_s <= raw <= spec.max_s:
        return None
    return int(raw) if float(raw).is_integer() else float(raw)


def validate_call(commands: CommandSet, name: str, arguments: dict[str, Any]) -> tuple[Command, dict[str, Any]] | None:
    """The command and its checked slot values, or None if the call is not exactly a configured one."""
    command = next((c for c in commands.commands if c.name == name), None)
    if command is None or not isinstance(arguments, dict):
        return None
    expected = [s for s in command_slots(command) if s in commands.slots]
    if set(arguments) != set(expected):
        return None
    slots: dict[str, Any] = {}
    for slot in expected:
        value = _value(commands.slots[slot], arguments[slot])
        if value is None:
            return None
        slots[slot] = value
    return command, slots
