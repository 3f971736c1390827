"""Validation of spoken commands that needs the whole config: includes, templates, slots, programs, URLs.

Each problem is one plain sentence naming the command; ``config check`` prints them and startup refuses them.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from assistant.brain.actions import placeholders
from assistant.brain.intents import CommandSet, builtin_intents, gather, slot_types
from assistant.brain.matcher import IntentMatcher
from assistant.brain.templates import SlotRef, TemplateError, parse, slot_names
from assistant.brain.text import normalise
from assistant.config.commands import (
    SKILL_NAMES,
    Command,
    DurationSlot,
    ExecAction,
    HttpAction,
    ListSlot,
    NumberSlot,
    SayAction,
)
from assistant.config.schema import Config

_EXEC_VALUES = {"stdout", "exit_status"}
_HTTP_VALUES = {"status", "body", "error"}


def check_commands(config: Config, config_path: Path | None, *, check_programs: bool = True) -> list[str]:
    section = config.commands
    commands = gather(section, config_path)
    problems = list(commands.problems)
    problems += _check_slots(commands)
    template_slots: dict[str, list[set[str]]] = {}
    builtin_names = {intent for intent, _ in builtin_intents(SKILL_NAMES)}
    for command in commands.commands:
        where = f"command {command.name!r}"
        if command.name in builtin_names:
            problems.append(f"{where}: the name is used by a built-in skill; choose another")
        if not command.templates:
            problems.append(f"{where} has no templates")
        parsed = []
        for template in command.templates:
            try:
                seq = parse(template)
            except TemplateError as exc:
                problems.append(f"{where}: {exc}")
                continue
            undefined = sorted(slot_names(seq) - set(commands.slots))
            if undefined:
                problems.append(f"{where}: template {template!r} uses undefined slot(s) {', '.join(undefined)}; "
                                "declare them under commands.slots")
            parsed.append(slot_names(seq))
        template_slots[command.name] = parsed
        problems += _check_action(command, parsed, check_programs)
    if not problems:
        problems += _check_overlaps(commands, config.skills.enabled)
    return problems


def _check_slots(commands: CommandSet) -> list[str]:
    problems = []
    for name, spec in commands.slots.items():
        if isinstance(spec, ListSlot) and not spec.values:
            problems.append(f"slot {name!r} has no values")
        if isinstance(spec, NumberSlot) and spec.min > spec.max:
            problems.append(f"slot {name!r}: min is larger than max")
        if isinstance(spec, DurationSlot) and spec.min_s > spec.max_s:
            problems.append(f"slot {name!r}: min_s is larger than max_s")
    return problems


def _check_action(command: Command, template_slots: list[set[str]], check_programs: bool) -> list[str]:
    where = f"command {command.name!r}"
    action = command.action
    always = set.intersection(*template_slots) if template_slots else set()
    known = set.union(*template_slots) if template_slots else set()
    problems: list[str] = []
    extra = {"exec": _EXEC_VALUES, "http": _HTTP_VALUES}.get(action.type, set())
    texts = [action.reply] + ([] if isinstance(action, SayAction) else [action.error_reply])
    used: set[str] = set()
    if isinstance(action, ExecAction):
        problems += _check_exec(where, action, check_programs)
        texts += action.argv
    if isinstance(action, HttpAction):
        problems += _check_url(where, action)
        texts += [action.url, *_strings(action.json_body)]
    for text in texts:
        used |= placeholders(text)
    for name in sorted(used - extra):
        if name not in known:
            problems.append(f"{where} uses {{{name}}}, which none of its templates fills")
        elif name not in always:
            problems.append(f"{where} uses {{{name}}}, but not every template fills it")
    return problems


def _strings(body: object) -> list[str]:
    if isinstance(body, str):
        return [body]
    if isinstance(body, dict):
        return [s for v in body.values() for s in _strings(v)]
    if isinstance(body, list):
        return [s for v in body for s in _strings(v)]
    return []


def _check_exec(where: str, action: ExecAction, check_programs: bool) -> list[str]:
    if not action.argv:
        return [f"{where}: exec needs argv (the program and its arguments)"]
    problems = []
    program = action.argv[0]
    if placeholders(program):
        problems.append(f"{where}: the program itself can't be a slot")
    elif check_programs:
        found = program if os.sep in program else shutil.which(program)
        if found is None or not Path(found).is_file():
            problems.append(f"{where}: program {program!r} is not found")
        elif not os.access(found, os.X_OK):
            problems.append(f"{where}: program {found!r} is not executable")
    if action.cwd is not None and check_programs and not Path(action.cwd).expanduser().is_dir():
        problems.append(f"{where}: working directory {action.cwd!r} does not exist")
    return problems


def _check_url(where: str, action: HttpAction) -> list[str]:
    url = action.url
    for name in placeholders(url):
        url = url.replace("{" + name + "}", "x")
    try:
        parts = urllib.parse.urlsplit(url)
        hostname, _ = parts.hostname, parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        return [f"{where}: {action.url!r} is not a valid URL: {exc}"]
    if parts.scheme not in ("http", "https") or not hostname:
        return [f"{where}: {action.url!r} is not an http(s) URL with a host"]
    return []


def _check_overlaps(commands: CommandSet, enabled: Sequence[str]) -> list[str]:
    """Duplicate templates, and sample sentences of one intent that another intent's template also matches."""
    problems = []
    seen: dict[str, str] = {}
    for command in commands.commands:
        for template in command.templates:
            key = normalise(template.replace("[", " [ ").replace("]", " ] ").replace("(", " ( ").replace(")", " ) "))
            if key in seen:
                problems.append(f"command {command.name!r}: template {template!r} duplicates one in {seen[key]!r}")
            seen[key] = command.name
    types = slot_types(commands)
    matcher = IntentMatcher(types)
    for command in commands.commands:
        matcher.add(command.name, command.templates)
    for intent, templates in builtin_intents(enabled):
        matcher.add(intent, templates)
    intents = matcher.intents
    reported: set[tuple[str, str]] = set()
    for mine in intents:
        if mine.name not in commands.origins:
            continue  # built-ins are known not to overlap each other
        for compiled in mine.templates:
            for expansion in compiled.expansions:
                sample = " " + " ".join(types[t.name].example() if isinstance(t, SlotRef) else t for t in expansion)
                for other in intents:
                    if other.name == mine.name or (mine.name, other.name) in reported:
                        continue
                    if any(t.regex.fullmatch(sample) for t in other.templates):
                        reported.add((mine.name, other.name))
                        kind = "command" if other.name in commands.origins else "built-in"
                        problems.append(f"command {mine.name!r}: {sample.strip()!r} also matches {kind} "
                                        f"{other.name!r}; make the templates distinct")
    return problems
