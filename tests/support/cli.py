"""Running the `assistant` command line: as a user would (a subprocess), or its service verbs in-process."""

from __future__ import annotations

import subprocess
import sys


def run_service_cli(argv: list[str]) -> int:
    """The service verbs (status, history, ...) in-process, so a test can catch their UserError."""
    import argparse

    from assistant.cli import service as service_cli

    parser = argparse.ArgumentParser(prog="assistant")
    parser.add_argument("-c", "--config")
    service_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m assistant ...` as a user would, capturing its output."""
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, input=input.decode() if input is not None else None)
