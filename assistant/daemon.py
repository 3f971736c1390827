"""The daemon's lifecycle: load models, open the mic, run the pipeline, stop cleanly on a signal."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from assistant.config import load
from assistant.events import TurnReport

log = logging.getLogger("assistant.daemon")


def format_turn(report: TurnReport) -> str:
    """One structured log line per turn with its latency breakdown."""
    parts = [f"transcript={report.transcript!r}", f"handled_by={report.handled_by or '-'}"]
    if report.intent:
        parts.append(f"intent={report.intent}")
    if report.dropped:
        parts.append(f"dropped={report.dropped!r}")
    if report.error:
        parts.append(f"error={report.error!r}")
    parts += [f"{name}_ms={value:.0f}" for name, value in report.latency_ms.items()]
    parts.append(f"reply={report.reply!r}")
    return "turn " + " ".join(parts)


def run_daemon(args: argparse.Namespace) -> int:
    from assistant.cli_core import setup_logging
    from assistant.factory import build_pipeline, build_recognizer, build_sink, build_source, build_synthesizer

    config, path = load(args.config)
    setup_logging(args, config)
    log.info("config: %s", path or "built-in defaults")
    # Models first (slow), then the devices: the mic opens only when we can answer right away.
    recognizer = build_recognizer(config)
    synthesizer = build_synthesizer(config)
    sink = build_sink(config)
    source = build_source(config)
    pipeline = build_pipeline(config, source, sink, recognizer=recognizer, synthesizer=synthesizer)
    pipeline.on_turn = lambda report: log.info("%s", format_turn(report))

    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop_requested.set()
        pipeline.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("listening on %s, replying through %s", source.name, sink.name)
    try:
        pipeline.run()
    finally:
        source.close()
        sink.close()
    if not stop_requested.is_set():
        log.warning("audio source ended: %s", source.name)
    return 0
