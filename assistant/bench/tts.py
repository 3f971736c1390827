"""Speech output latency: end of reply text -> first audio sample written to the sink (streamed TTS)."""

from __future__ import annotations

import time
from typing import Any

from assistant.audio.sinks import AudioSink
from assistant.bench.stats import summary
from assistant.speech.base import Synthesizer
from assistant.speech.streaming import Speaker

SHORT = "It's twenty past four."
LONG = ("The forecast for today is sunny. Tomorrow brings clouds in the morning. "
        "Rain is likely on the weekend, so keep an umbrella at hand.")


def first_audio(synthesizer: Synthesizer, sink: AudioSink, text: str, runs: int) -> dict[str, Any]:
    speaker = Speaker(synthesizer, sink)
    first_ms: list[float] = []
    for _ in range(runs):
        started = time.monotonic()
        timeline = speaker.say_text(text)
        if timeline.first_sample is not None:
            first_ms.append((timeline.first_sample - started) * 1000)
    return {"text": text, "sink": sink.name, **summary(first_ms)}
