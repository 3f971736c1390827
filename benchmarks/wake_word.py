"""Thin wrapper: `python benchmarks/wake_word.py ARGS` is `assistant bench wake ARGS` (see benchmarks/README.md)."""

import sys

from assistant.cli.bench import main

if __name__ == "__main__":
    sys.exit(main("wake"))
