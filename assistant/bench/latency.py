"""Turn latency on the daemon's live path: real recordings played in real time, one turn each.

Each recording goes through ``factory.build_pipeline`` exactly as the daemon runs: a WavSource paced
like a microphone (followed by silence so the hangover can run out), Capture, the Endpointer, Whisper,
the router, the synthesizer and a real-time NullSink. The TurnReport of each turn gives, measured from
the capture time of the frame of the user's last sound (speech end, hearing/last_sound.py): endpoint decided,
transcript ready, reply text ready and first reply sample out. That end's delay behind the true end of speech
(bench/speech_end.py) is its own column, and the first reply sample is also counted from that true end. WER,
CPU seconds per turn and peak RSS complete the table.
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.app.build import Kept, build_pipeline, build_recognizer, build_synthesizer, warm_up
from assistant.audio.sinks import NullSink
from assistant.audio.sources import WavSource, read_wav_pcm
from assistant.bench.speech_end import true_end_s
from assistant.bench.stats import Recording, cpu_seconds, fmt, peak_rss_mib, summary, word_errors
from assistant.config.schema import Config
from assistant.events import TurnReport

STAGES = ("endpoint", "transcript", "reply_text", "reply_audio")
# the endpointer's end of speech behind the true end, and the first reply sample from that true end
FROM_TRUE_END = ("end_delay", "reply_audio_true")


@dataclass
class UtteranceResult:
    file: str
    reference: str
    transcript: str
    reply: str
    errors: int
    ref_words: int
    cpu_s: float
    latency_ms: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def stage_latencies(report: TurnReport) -> dict[str, float]:
    """The four headline numbers (ms after speech end) from a turn's report."""
    lat = report.latency_ms
    endpoint = lat.get("endpoint", math.nan)
    transcript = lat.get("transcript", endpoint + lat.get("asr", math.nan))  # sequential: ASR starts at the endpoint
    return {"endpoint": endpoint, "transcript": transcript, "reply_text": lat.get("reply_text", math.nan),
            "reply_audio": lat.get("reply_audio", math.nan)}


def speech_samples(recording: Recording) -> np.ndarray:
    """The recording as the pipeline hears it (16 kHz mono, converted as its WavSource converts it)."""
    return np.frombuffer(read_wav_pcm(recording.path), dtype="<i2")


def from_true_end(latency: dict[str, float], heard_end_s: float, true_end: float | None) -> dict[str, float]:
    """The endpointer's delay behind the true end of speech, and the first reply sample counted from that end."""
    delay_ms = (heard_end_s - true_end) * 1000 if true_end is not None else math.nan
    return {"end_delay": delay_ms, "reply_audio_true": latency["reply_audio"] + delay_ms}


def play(config: Config, source: WavSource, kept: Kept) -> list[TurnReport]:
    """Every turn the live pipeline takes on ``source``, into a real-time null sink; the source is closed."""
    turns: list[TurnReport] = []
    pipeline = build_pipeline(config, source, NullSink(realtime=True), kept=kept)
    pipeline.on_turn = turns.append
    warm_up(pipeline)  # as the daemon does before READY: no model loads inside a measured turn
    try:
        pipeline.run()
    finally:
        pipeline.close()
        source.close()
    return turns


def run_one(config: Config, recording: Recording, recognizer: Any, synthesizer: Any) -> UtteranceResult:
    true_end, end_source = true_end_s(recording.path, speech_samples(recording))
    source = WavSource(recording.path, realtime=True, chunk_ms=config.audio.buffer_ms,
                       tail_silence_s=config.vad.hangover_ms / 1000 + 1.0)
    started = cpu_seconds()
    turns = play(config, source, Kept(recognizer=recognizer, synthesizer=synthesizer))
    cpu = cpu_seconds() - started
    spoken = [t for t in turns if t.transcript]
    transcript = " ".join(t.transcript for t in spoken)
    errors, ref_words = word_errors(recording.reference, transcript)
    first = spoken[0] if spoken else (turns[0] if turns else None)
    latency = stage_latencies(first) if first is not None else dict.fromkeys(STAGES, math.nan)
    latency |= from_true_end(latency, first.speech_end if first is not None else math.nan, true_end)
    extra: dict[str, Any] = {k: v for k, v in (first.latency_ms.items() if first else []) if k not in STAGES}
    extra |= {"turns": len(turns), "true_end_s": true_end, "true_end_from": end_source}
    return UtteranceResult(recording.path.name, recording.reference, transcript,
                           first.reply if first else "", errors, ref_words, cpu / max(1, len(turns)), latency, extra)


def run(config: Config, recordings: list[Recording]) -> dict[str, Any]:
    load_started = time.monotonic()
    recognizer = build_recognizer(config)
    synthesizer = build_synthesizer(config)
    recognizer.transcribe(bytes(32000))  # keep the model warm: the first call pays one-off set-up
    load_s = time.monotonic() - load_started
    results = [run_one(config, r, recognizer, synthesizer) for r in recordings]
    errors = sum(r.errors for r in results)
    ref_words = sum(r.ref_words for r in results)
    return {
        "machine": machine(),
        "config": {"asr": config.asr.model_dump(), "vad": config.vad.model_dump(),
                   **{k: v.model_dump() for k, v in config if k in ("latency", "turn")}},
        "model_load_s": round(load_s, 2),
        "utterances": [asdict(r) for r in results],
        "summary": {stage: summary([r.latency_ms[stage] for r in results]) for stage in (*STAGES, *FROM_TRUE_END)},
        "wer": errors / max(1, ref_words),
        "cpu_s_per_turn": summary([r.cpu_s for r in results]),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def machine() -> dict[str, Any]:
    import os

    load = os.getloadavg()
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "load_avg": [round(x, 2) for x in load]}


def table(result: dict[str, Any]) -> str:
    columns = (*STAGES, *FROM_TRUE_END)
    lines = [f"{'file':34} {'endpoint':>8} {'transcr':>8} {'reply':>8} {'audio':>8} {'end dly':>8} {'audio*':>8} "
             f"{'cpu s':>6}  transcript"]
    for u in result["utterances"]:
        lat = u["latency_ms"]
        lines.append(f"{u['file'][:34]:34} " + " ".join(f"{fmt(lat.get(s, math.nan)):>8}" for s in columns)
                     + f" {u['cpu_s']:6.2f}  {u['transcript'][:40]!r}")
    for name, key in (("median", "median"), ("p90", "p90")):
        lines.append(f"{name:34} " + " ".join(f"{fmt(result['summary'][s][key]):>8}" for s in columns)
                     + f" {result['cpu_s_per_turn'][key]:6.2f}")
    lines.append(f"WER {result['wer']:.3f} over {len(result['utterances'])} utterances; peak RSS "
                 f"{result['peak_rss_mib']:.0f} MiB; load average {result['machine']['load_avg']}")
    lines.append("(ms after the frame of the user's last sound was captured: endpoint decided, transcript ready, "
                 "reply text ready, first reply sample out; end dly: that frame's end behind the true end of speech "
                 "(labelled, or where the last 50 ms above the room's noise end: bench/speech_end.py); audio*: first "
                 "reply sample after the true end)")
    return "\n".join(lines)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(_finite(result), default=str)


def main_paths(paths: list[str]) -> list[Recording]:
    return [Recording(Path(p), "", "file") for p in paths]
