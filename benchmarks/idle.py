"""Thin wrapper: `python benchmarks/idle.py ARGS` is `assistant bench idle ARGS` (see benchmarks/README.md)."""

import sys

from assistant.cli.bench import main

if __name__ == "__main__":
    sys.exit(main("idle"))
