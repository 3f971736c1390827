"""Barge-in decision latency and false triggers of the echo gate, on real recordings.

Our reply (espeak-ng) is mixed into the mic as echo (delayed, attenuated, with noise); a real command
recording starts over it at 1 s. Onset is the first frame WebRTC VAD calls speech in the clean command;
the stop latency is the end of the frame at which the gate decides, minus that onset, plus one sink
block (the worst-case delay of ``sink.stop()``). The same reply without a user must never trigger.
"""

from __future__ import annotations

import wave
from typing import Any

import numpy as np
import webrtcvad

from assistant.audio.echo_gate import EchoGate
from assistant.audio.resample import resample
from assistant.audio.sinks import BLOCK_MS
from assistant.bench.stats import Recording, summary
from assistant.events import SAMPLE_RATE, AudioFrame
from assistant.speech_schema import BargeInConfig
from assistant.tts.base import Synthesizer

REPLY = ("It is a quarter past three in the afternoon and the weather today is sunny with a light breeze. "
         "Tomorrow will bring some rain in the evening.")
FRAME = 480


def _read(path: str) -> np.ndarray:
    with wave.open(path, "rb") as wav:
        pcm = resample(wav.readframes(wav.getnframes()), wav.getframerate(), SAMPLE_RATE)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def _gate_run(config: BargeInConfig, reply: bytes, rate: int, mic: np.ndarray) -> float | None:
    """Feed the mic through a gate that knows the reply; the stream time of the decision, or None."""
    gate = EchoGate(config)
    t0 = 1000.0
    gate.add_reference(reply, rate, t0)
    pcm = np.clip(np.round(mic), -32768, 32767).astype("<i2")
    for i in range(len(pcm) // FRAME):
        frame = AudioFrame(pcm[i * FRAME : (i + 1) * FRAME].tobytes(), i * FRAME / SAMPLE_RATE,
                           t0 + (i + 1) * FRAME / SAMPLE_RATE)
        if gate.feed(frame):
            return frame.end_s
    return None


def run(synthesizer: Synthesizer, recordings: list[Recording], config: BargeInConfig | None = None,
        delay_ms: int = 90, echo_gain: float = 0.5, user_at_s: float = 1.0) -> dict[str, Any]:
    config = config or BargeInConfig()
    reply, rate = synthesizer.synthesize(REPLY)
    echo = np.frombuffer(resample(reply, rate, SAMPLE_RATE), dtype="<i2").astype(np.float64) * echo_gain
    noise = np.random.default_rng(0).normal(0, 30, len(echo) + SAMPLE_RATE * 2)
    base = noise.copy()
    start = delay_ms * SAMPLE_RATE // 1000
    base[start : start + len(echo)] += echo
    false_trigger = _gate_run(config, reply, rate, base)
    vad = webrtcvad.Vad(2)
    rows: list[dict[str, Any]] = []
    stops: list[float] = []
    for recording in recordings:
        user = _read(str(recording.path))
        at = int(user_at_s * SAMPLE_RATE)
        user = user[: len(base) - at]
        clean = np.clip(user, -32768, 32767).astype("<i2")
        voiced = [i for i in range(len(clean) // FRAME)
                  if vad.is_speech(clean[i * FRAME : (i + 1) * FRAME].tobytes(), SAMPLE_RATE)]
        if not voiced:
            continue
        onset_s = user_at_s + voiced[0] * FRAME / SAMPLE_RATE
        mic = base.copy()
        mic[at : at + len(user)] += user
        decided = _gate_run(config, reply, rate, mic)
        stop_ms = (decided - onset_s) * 1000 + BLOCK_MS if decided is not None else float("nan")
        rows.append({"file": recording.path.name, "stop_ms": stop_ms, "detected": decided is not None})
        stops.append(stop_ms)
    return {"delay_ms": delay_ms, "echo_gain": echo_gain, "false_trigger_on_own_voice": false_trigger is not None,
            "utterances": rows, "stop_ms": summary(stops),
            "missed": sum(not r["detected"] for r in rows)}
