"""Subcommands for spoken commands: ``assistant ask TEXT`` and ``assistant commands``."""

from __future__ import annotations

import argparse
from typing import Any

from assistant.config import ConfigError, load


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ask = subparsers.add_parser("ask", help="route one request as if it had been spoken, and run what it selects")
    ask.add_argument("text", help="the request, e.g. \"turn on the kitchen light\"")
    ask.add_argument("--json", action="store_true", help="print intent, slots, reply, action and handled_by as JSON")
    ask.add_argument("--dry-run", action="store_true", help="show what would run without running it")
    ask.add_argument("--yes", action="store_true", help="answer yes if the command asks for confirmation")
    ask.set_defaults(handler=_ask)
    commands = subparsers.add_parser("commands", help="list the configured spoken commands and built-in skills")
    commands.add_argument("--json", action="store_true", help="print as JSON")
    commands.set_defaults(handler=_commands)


def _ask(args: argparse.Namespace) -> int:
    from assistant.brain.factory import build_router
    from assistant.cli import print_json

    config, path = load(args.config)
    router = build_router(config, config_path=path, dry_run=args.dry_run)
    try:
        reply = router.route(args.text)
        if args.yes and reply.action and reply.action.get("type") == "await_confirmation":
            reply = router.route("yes")
    finally:
        router.close()
    if args.json:
        print_json({"intent": reply.intent, "slots": reply.slots, "reply": reply.text, "action": reply.action,
                    "handled_by": reply.handled_by})
    else:
        print(reply.text)
    return 0


def _commands(args: argparse.Namespace) -> int:
    from assistant.brain.check import check_commands
    from assistant.brain.factory import commands_config, skills_config
    from assistant.brain.intents import gather
    from assistant.brain.skills import TEMPLATES
    from assistant.cli import print_json

    config, path = load(args.config)
    problems = check_commands(config, path)
    if problems:
        raise ConfigError(problems, str(path) if path else "")
    commands = gather(commands_config(config), path)
    listed: list[dict[str, Any]] = [
        {"name": c.name, "description": c.description, "templates": c.templates, "action": c.action.type,
         "confirm": c.confirm, "defined_in": commands.origins[c.name]}
        for c in commands.commands
    ]
    enabled = skills_config(config).enabled
    skills: list[dict[str, Any]] = [{"skill": s, "intents": sorted(TEMPLATES[s])} for s in enabled]
    if args.json:
        print_json({"commands": listed, "skills": skills, "slots": sorted(commands.slots)})
        return 0
    for entry in listed:
        confirm = ", asks to confirm" if entry["confirm"] else ""
        print(f"{entry['name']} ({entry['action']}{confirm}): {entry['description']}")
        for template in entry["templates"]:
            print(f"    {template}")
    print("built-in skills: " + ", ".join(s["skill"] for s in skills))
    return 0
