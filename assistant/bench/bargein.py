"""Barge-in decision latency and false triggers of the echo gate, on real recordings.

Our reply (espeak-ng) is mixed into the mic as echo (delayed, attenuated, optionally with a reverberant
tail, plus noise); a real command recording starts over it at 1 s. The stop latency is the end of the
frame at which the gate decides plus one sink block (the worst-case delay of ``sink.stop()``), measured
from the speech onset of the clean command: where the endpointer places the start of speech (the first
voiced frame of ``vad.start_ms`` of voiced audio). The same reply without a user must never trigger.

Each recording is tried twice: on a fresh gate ("cold", the first reply after start) and on a gate that
has heard replies alone in the same room until it learnt how much of our voice its filter leaves there
("warm", as a running daemon after its first replies; a reply it takes for a user is cut short, as there).
"""

from __future__ import annotations

import wave
from typing import Any

import numpy as np

from assistant.audio.echo_gate import EchoGate
from assistant.audio.resample import resample
from assistant.audio.sinks import BLOCK_MS
from assistant.audio.vad import Endpointer
from assistant.bench.stats import Recording, summary
from assistant.config import VadConfig
from assistant.events import SAMPLE_RATE, AudioFrame
from assistant.speech_schema import BargeInConfig
from assistant.tts.base import Synthesizer

REPLY = ("It is a quarter past three in the afternoon and the weather today is sunny with a light breeze. "
         "Tomorrow will bring some rain in the evening.")
FRAME = 480


def read_16k(path: str) -> np.ndarray:
    with wave.open(path, "rb") as wav:
        pcm = resample(wav.readframes(wav.getnframes()), wav.getframerate(), SAMPLE_RATE)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def gate_decision(gate: EchoGate, reply: bytes, rate: int, mic: np.ndarray, t0: float = 1000.0) -> float | None:
    """Feed the mic through a gate that knows the reply (played at monotonic ``t0``); the stream time of
    the decision, or None."""
    gate.reset()
    gate.add_reference(reply, rate, t0)
    pcm = np.clip(np.round(mic), -32768, 32767).astype("<i2")
    for i in range(len(pcm) // FRAME):
        frame = AudioFrame(pcm[i * FRAME : (i + 1) * FRAME].tobytes(), i * FRAME / SAMPLE_RATE,
                           t0 + (i + 1) * FRAME / SAMPLE_RATE)
        if gate.feed(frame):
            return frame.end_s
    return None


def room_echo(reply: np.ndarray, delay_ms: int, gain: float, rt60_ms: int, drr_db: float = 3.0) -> np.ndarray:
    """Our reply as the mic hears it: a direct path ``delay_ms`` late at ``gain``, plus (``rt60_ms`` > 0) a
    diffuse reverberant tail (exponentially decaying noise, ``drr_db`` below the direct path), which a
    single delay and gain cannot model."""
    delay = delay_ms * SAMPLE_RATE // 1000
    response = np.zeros(delay + 1)
    response[delay] = gain
    if rt60_ms > 0:
        t = np.arange(int(rt60_ms * SAMPLE_RATE / 1000)) / SAMPLE_RATE
        tail = np.random.default_rng(1).normal(0, 1, len(t)) * np.exp(-6.9 * t / (rt60_ms / 1000))
        tail *= gain * 10 ** (-drr_db / 20) / np.sqrt(tail @ tail)
        response = np.concatenate([response, np.zeros(len(t) + 48)])
        response[delay + 48 : delay + 48 + len(t)] += tail  # the first reflections arrive ~3 ms after
    return np.convolve(reply, response)


def speech_onset(clean: np.ndarray, vad_config: VadConfig) -> float | None:
    """Where the endpointer places the start of speech in a recording (seconds), or None if it hears none."""
    pcm = np.clip(clean, -32768, 32767).astype("<i2")
    frames = [AudioFrame(pcm[i * FRAME : (i + 1) * FRAME].tobytes(), i * FRAME / SAMPLE_RATE, 0.0)
              for i in range(len(pcm) // FRAME)]
    endpointer = Endpointer(vad_config)
    utterances = [u for u in map(endpointer.feed, frames) if u is not None] + [endpointer.flush()]
    return next((u.start_s for u in utterances if u is not None), None)


def run(synthesizer: Synthesizer, recordings: list[Recording], config: BargeInConfig | None = None,
        delay_ms: int = 90, echo_gain: float = 0.5, user_at_s: float = 1.0, rt60_ms: int = 0) -> dict[str, Any]:
    config = config or BargeInConfig()
    vad_config = VadConfig(frame_ms=FRAME * 1000 // SAMPLE_RATE)
    reply, rate = synthesizer.synthesize(REPLY)
    played = np.frombuffer(resample(reply, rate, SAMPLE_RATE), dtype="<i2").astype(np.float64)
    echo = room_echo(played, delay_ms, echo_gain, rt60_ms)
    base = np.random.default_rng(0).normal(0, 30, len(echo) + SAMPLE_RATE * 2)
    base[: len(echo)] += echo

    def warm_gate() -> EchoGate:
        gate = EchoGate(config)
        for t0 in (1000.0, 1100.0, 1200.0, 1300.0, 1400.0):  # replies alone (a trigger cuts one) until learnt
            gate_decision(gate, reply, rate, base, t0)
            if gate.learnt:
                break
        return gate

    false_triggers = {"cold": gate_decision(EchoGate(config), reply, rate, base) is not None,
                      "warm": gate_decision(warm_gate(), reply, rate, base, t0=2000.0) is not None}
    rows: list[dict[str, Any]] = []
    for recording in recordings:
        user = read_16k(str(recording.path))
        at = int(user_at_s * SAMPLE_RATE)
        user = user[: len(base) - at]
        onset = speech_onset(user, vad_config)
        if onset is None:
            continue
        mic = base.copy()
        mic[at : at + len(user)] += user
        row: dict[str, Any] = {"file": recording.path.name}
        for state, gate, t0 in (("cold", EchoGate(config), 1000.0), ("warm", warm_gate(), 2000.0)):
            decided = gate_decision(gate, reply, rate, mic, t0)
            row[f"{state}_ms"] = (decided - user_at_s - onset) * 1000 + BLOCK_MS if decided is not None else None
        rows.append(row)

    def stops(state: str) -> list[float]:
        return [r[f"{state}_ms"] if r[f"{state}_ms"] is not None else float("nan") for r in rows]

    return {"delay_ms": delay_ms, "echo_gain": echo_gain, "rt60_ms": rt60_ms, "utterances": rows,
            **{state: {"stop_ms": summary(stops(state)), "missed": sum(r[f"{state}_ms"] is None for r in rows),
                            "false_trigger_on_own_voice": false_triggers[state]} for state in ("cold", "warm")}}
