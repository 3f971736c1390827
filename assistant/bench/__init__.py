"""Benchmarks of the live path: turn latency, idle cost, speech output, barge-in (``assistant bench``)."""
