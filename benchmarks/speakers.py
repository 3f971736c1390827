"""Thin wrapper: `python benchmarks/speakers.py ARGS` is `assistant bench speakers ARGS` (see benchmarks/README.md)."""

import sys

from assistant.cli.bench import main

if __name__ == "__main__":
    sys.exit(main("speakers"))
