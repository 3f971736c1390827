"""`python benchmarks/esphome_latency.py [--runs N] [--format wav|flac|mp3]`: the ESPHome satellite's latency
with a local fake of Home Assistant's pipeline (see assistant/bench/esphome.py and benchmarks/README.md)."""

import sys

from assistant.bench.esphome import main

if __name__ == "__main__":
    sys.exit(main())
