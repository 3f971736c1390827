"""Command-line entry point: ``assistant <command>``.

Core commands live here; feature areas add theirs through a ``register(subparsers)`` function in
their own ``cli`` module (listed in ``_EXTENSIONS``), so this file stays small. Every handler takes
the parsed arguments and returns an exit status. Errors a user can fix print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from assistant import __version__
from assistant.config.schema import EX_CONFIG, ConfigError

log = logging.getLogger("assistant")

# Modules that add subcommands: each exposes register(subparsers: argparse._SubParsersAction) -> None.
# Their handlers import what they run (the pipeline, models, the audio stack) when called: importing all of
# it costs ~0.5 s, which `assistant --help`, `config check` and `status` (polled by status bars) need not pay.
_EXTENSIONS: tuple[str, ...] = (
    "assistant.cli.core", "assistant.cli.commands", "assistant.cli.llm", "assistant.cli.service",
    "assistant.cli.bench", "assistant.cli.look", "assistant.cli.wyoming", "assistant.cli.speakers",
)


class UserError(Exception):
    """A problem the user can fix (bad file, missing device, ...): printed as one line, exit ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _user_errors() -> tuple[type[Exception], ...]:
    """Exceptions whose message is already a plain sentence for the user (bad file, device, model)."""
    from assistant.audio.devices import DeviceError
    from assistant.audio.sources import AudioFormatError
    from assistant.hearing.models import ModelNotFound
    from assistant.remote.esphome.errors import SatelliteError
    from assistant.service.control import ControlError
    from assistant.speech.base import SynthesisError

    return (AudioFormatError, ControlError, DeviceError, ModelNotFound, SatelliteError, SynthesisError)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="A local-first voice assistant daemon: mic -> VAD -> Whisper -> commands/LLM -> TTS -> speaker.",
    )
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    parser.add_argument("-c", "--config", metavar="PATH", help="config file (default: $ASSISTANT_CONFIG, "
                        "~/.config/assistant/config.yaml, /etc/assistant/config.yaml, built-in defaults)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _EXTENSIONS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {exc.source + ': ' if exc.source else ''}{problem}", file=sys.stderr)
        return EX_CONFIG
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except _user_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
