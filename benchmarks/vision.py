"""Thin wrapper: `python benchmarks/vision.py ARGS` is `assistant bench vision ARGS` (see benchmarks/README.md)."""

import sys

from assistant.cli.bench import main

if __name__ == "__main__":
    sys.exit(main("vision"))
