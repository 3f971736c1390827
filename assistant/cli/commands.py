"""Subcommands for spoken commands: ``assistant ask TEXT`` and ``assistant commands``."""

from __future__ import annotations

import argparse
from typing import Any

from assistant.cli.llm import add_llm_args, read_image_arg
from assistant.config.schema import ConfigError, load


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ask = subparsers.add_parser("ask", help="route one request as if it had been spoken, and run what it selects")
    ask.add_argument("text", help="the request, e.g. \"turn on the kitchen light\"")
    ask.add_argument("--json", action="store_true", help="print intent, slots, reply, action and handled_by as JSON")
    ask.add_argument("--dry-run", action="store_true", help="show what would run without running it")
    ask.add_argument("--yes", action="store_true", help="answer yes if the command asks for confirmation")
    ask.add_argument("--no-llm", action="store_true", help="commands and skills only; never ask the LLM")
    add_llm_args(ask)
    ask.set_defaults(handler=_ask)
    commands = subparsers.add_parser("commands", help="list the configured spoken commands and built-in skills")
    commands.add_argument("--json", action="store_true", help="print as JSON")
    commands.set_defaults(handler=_commands)


def _ask(args: argparse.Namespace) -> int:
    """The full router: commands and skills first, then the LLM (with ``--image``, it looks at it)."""
    from assistant.app.router import build_router
    from assistant.brain.llm_fallback import LlmFallback
    from assistant.cli.core import setup_logging
    from assistant.cli.main import print_json

    config, path = load(args.config)
    setup_logging(args, config)
    image = read_image_arg(args)
    fallback = None if args.no_llm else LlmFallback(config)
    router = build_router(config, fallback=fallback, config_path=path, dry_run=args.dry_run, image=image)
    try:
        if fallback is not None:
            fallback.bind(router)  # the LLM may choose one of the configured commands
            fallback.next_image = image
        reply = router.route(args.text)
        if args.yes and reply.action and reply.action.get("type") == "await_confirmation":
            reply = router.route("yes")
        text = reply.spoken_text()  # an LLM answer streams; collect it
    finally:
        router.close()
        if fallback is not None:
            fallback.close()
    llm = reply.extra.get("llm") or None
    intent, slots, action, handled_by = reply.intent, reply.slots, reply.action, reply.handled_by
    if llm and llm.get("command"):  # the LLM chose a configured command
        command = llm["command"]
        intent, slots, action, handled_by = command["intent"], command["slots"], command["action"], "command"
    if args.json:
        out: dict[str, Any] = {"intent": intent, "slots": slots, "reply": text, "action": action,
                               "handled_by": handled_by}
        if llm:
            out.update(model=llm.get("model"), backend=llm.get("backend"), ttft_ms=llm.get("ttft_ms"),
                       tokens={"prompt": llm.get("prompt_tokens"), "completion": llm.get("completion_tokens")},
                       image=llm.get("image"), llm=llm)
        print_json(out)
    else:
        print(text)
    return 0


def _commands(args: argparse.Namespace) -> int:
    from assistant.brain.check import check_commands
    from assistant.brain.intents import gather
    from assistant.brain.skills import TEMPLATES
    from assistant.cli.main import print_json

    config, path = load(args.config)
    problems = check_commands(config, path)
    if problems:
        raise ConfigError(problems, str(path) if path else "")
    commands = gather(config.commands, path)
    listed: list[dict[str, Any]] = [
        {"name": c.name, "description": c.description, "templates": c.templates, "action": c.action.type,
         "confirm": c.confirm, "defined_in": commands.origins[c.name]}
        for c in commands.commands
    ]
    enabled = config.skills.enabled
    # the exact-answer skills have no phrases of their own: their intent is their name
    skills: list[dict[str, Any]] = [{"skill": s, "intents": sorted(TEMPLATES.get(s) or [s])} for s in enabled]
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
