"""Thin wrapper: `python benchmarks/latency.py ARGS` is `assistant bench latency ARGS` (see benchmarks/README.md)."""

import sys

from assistant.cli.bench import main

if __name__ == "__main__":
    sys.exit(main("latency"))
