"""Gathering every intent: user commands (main config + included ``commands.d`` files) and built-in skills.

User commands come first, so a command a user wrote wins over a built-in phrase it shadows.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from assistant.brain.matcher import IntentMatcher
from assistant.brain.skills import BUILTIN_SLOTS, TEMPLATES
from assistant.brain.slots import SlotType, slot_type
from assistant.config.base import ConfigFileError, load_yaml, read_config_text
from assistant.config.commands import Command, CommandFile, CommandsConfig, DurationSlot, ListSlot, NumberSlot
from assistant.config.schema import ConfigError, expand_env


@dataclass
class CommandSet:
    """All user slots and commands after includes, with where each command came from."""

    slots: dict[str, ListSlot | NumberSlot | DurationSlot] = field(default_factory=dict)
    commands: list[Command] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # command name -> file it was defined in
    problems: list[str] = field(default_factory=list)


MAX_INCLUDED_FILES = 256  # command files one config may include, all patterns together


def include_paths(config: CommandsConfig, config_path: Path | None,
                  problems: list[str] | None = None) -> list[Path]:
    """The files ``include`` names, each once, in order; a plain name (no wildcard) that is not there, and
    too many files, are reported in ``problems``."""
    base = config_path.parent if config_path is not None else Path.cwd()
    found: dict[Path, None] = {}
    for pattern in config.include:
        full = Path(pattern).expanduser()
        full = full if full.is_absolute() else base / full
        matches = sorted(Path(p) for p in glob.glob(str(full)))
        if not matches and not glob.has_magic(pattern) and problems is not None:
            problems.append(f"commands.include: {pattern!r}: no such file ({full})")
        found.update(dict.fromkeys(matches))
    if len(found) > MAX_INCLUDED_FILES and problems is not None:
        problems.append(f"commands.include: matches {len(found)} files; at most {MAX_INCLUDED_FILES} are read")
    return list(found)[:MAX_INCLUDED_FILES]


def load_command_file(path: Path) -> CommandFile:
    try:
        data = load_yaml(read_config_text(path)) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ConfigFileError) as exc:
        raise ConfigError([f"cannot read commands file: {exc}"], str(path)) from None
    missing: list[str] = []
    data = expand_env(data, missing=missing)
    if missing:
        raise ConfigError(missing, str(path))
    try:
        return CommandFile.model_validate(data)
    except ValidationError as exc:
        problems = [".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors()]
        raise ConfigError(problems, str(path)) from None


def gather(config: CommandsConfig, config_path: Path | None) -> CommandSet:
    """Merge the main config's commands with included files; problems (duplicates, bad files) are collected."""
    result = CommandSet()
    sources: list[tuple[str, dict[str, ListSlot | NumberSlot | DurationSlot], Sequence[Command]]] = [
        (str(config_path) if config_path else "config", dict(config.slots), config.commands)
    ]
    for path in include_paths(config, config_path, result.problems):
        try:
            loaded = load_command_file(path)
        except ConfigError as exc:
            result.problems.extend(f"{path}: {p}" for p in exc.problems)
            continue
        sources.append((str(path), dict(loaded.slots), loaded.commands))
    for origin, slots, commands in sources:
        for name, spec in slots.items():
            if name in BUILTIN_SLOTS:
                result.problems.append(f"{origin}: slot {name!r} is reserved for a built-in skill; rename it")
            elif name in result.slots and result.slots[name] != spec:
                result.problems.append(f"{origin}: slot {name!r} is defined twice with different values")
            else:
                result.slots[name] = spec
        for command in commands:
            if command.name in result.origins:
                result.problems.append(f"{origin}: command name {command.name!r} is already used in "
                                       f"{result.origins[command.name]}")
                continue
            result.origins[command.name] = origin
            result.commands.append(command)
    return result


def slot_types(commands: CommandSet) -> dict[str, SlotType]:
    return {**{n: slot_type(s) for n, s in commands.slots.items()}, **BUILTIN_SLOTS}


def builtin_intents(enabled: Iterable[str]) -> list[tuple[str, list[str]]]:
    return [(intent, templates) for skill in enabled for intent, templates in TEMPLATES.get(skill, {}).items()]


def build_matcher(commands: CommandSet, enabled_skills: Iterable[str], threshold: float = 0.8,
                  fuzzy: bool = True) -> IntentMatcher:
    """Raises TemplateError on the first bad template (check_commands reports all of them first)."""
    matcher = IntentMatcher(slot_types(commands), threshold=threshold, fuzzy=fuzzy)
    for command in commands.commands:
        matcher.add(command.name, command.templates)
    for intent, templates in builtin_intents(enabled_skills):
        matcher.add(intent, templates)
    return matcher
