"""Thin wrapper: `python benchmarks/false_cutoffs.py ARGS` is `assistant bench cutoffs ARGS` (benchmarks/README.md)."""

import sys

from assistant.cli.bench import main

if __name__ == "__main__":
    sys.exit(main("cutoffs"))
