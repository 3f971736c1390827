"""Barge-in decision latency and false triggers of the echo gate, on real recordings.

Our reply (espeak-ng) is mixed into the mic as echo (delayed, attenuated, optionally with a reverberant
tail, plus noise); a real command recording starts over it at 1 s. The stop latency is the end of the
frame at which the gate decides plus one sink block (the worst-case delay of ``sink.stop()``), measured
from the speech onset: where the daemon's endpointer places the start of speech (the first voiced frame of
``vad.start_ms`` of voiced audio) in the same mic audio without our reply, so the latency is what our
voice costs. (Onsets taken from the clean recordings alone, as before 2026-11-29, came from a VAD with no
noise estimate yet: it called the breath and room noise before the first word speech, up to 470 ms early.)
The same reply without a user must never trigger.

Each recording is tried over each of up to three replies, twice: on a fresh gate ("cold", the first reply
ever) and on a gate given what another learnt from replies alone in the same room, until it knew how much
of our voice its filter leaves there ("warm": a running daemon after its first replies, or one restarted
with its saved room; a reply the learning gate takes for a user is cut short and learnt as ours, as in the
daemon when no words follow).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from assistant.audio.echo_gate import EchoGate
from assistant.audio.resample import resample
from assistant.audio.sinks import BLOCK_MS
from assistant.audio.sources import read_wav_pcm
from assistant.bench.stats import Recording, summary
from assistant.config.schema import VadConfig
from assistant.config.speech import BargeInConfig
from assistant.events import SAMPLE_RATE, AudioFrame
from assistant.hearing.vad import Endpointer
from assistant.speech.base import Synthesizer

# Several replies: the gate decides frame by frame, so one reply a few samples longer (espeak-ng is not
# bit-exact from run to run) moves a reverberant room's median by up to 200 ms; pooled over replies it holds.
REPLIES = ("It is a quarter past three in the afternoon and the weather today is sunny with a light breeze. "
           "Tomorrow will bring some rain in the evening.",
           "I have set a timer for ten minutes. I will tell you when it is done, and you can ask me how much "
           "time is left at any moment.",
           "The living room lamp is on and the kitchen light is off. The front door is locked, and the "
           "thermostat is set to twenty one degrees.")
FRAME = 480


def read_16k(path: str) -> np.ndarray:
    return np.frombuffer(read_wav_pcm(path), dtype="<i2").astype(np.float64)


def gate_decision(gate: EchoGate, reply: bytes, rate: int, mic: np.ndarray, t0: float = 1000.0) -> float | None:
    """Feed the mic through a gate that knows the reply (played at monotonic ``t0``); the stream time of
    the decision, or None."""
    gate.reset()
    gate.add_reference(reply, rate, t0)
    return next((frame.end_s for frame in frames_of(mic, t0) if gate.feed(frame)), None)


def frames_of(mic: np.ndarray, t0: float) -> list[AudioFrame]:
    """``mic`` (float samples from stream time 0) as the capture hands it over: 30 ms frames, each read when
    it ends (on the monotonic clock, the stream starting at ``t0``)."""
    pcm = np.clip(np.round(mic), -32768, 32767).astype("<i2")
    return [AudioFrame(pcm[i : i + FRAME].tobytes(), i / SAMPLE_RATE, t0 + (i + FRAME) / SAMPLE_RATE)
            for i in range(0, len(pcm) - FRAME + 1, FRAME)]


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


def speech_onset(audio: np.ndarray, vad_config: VadConfig) -> float | None:
    """Where the endpointer places the start of speech in ``audio`` (seconds), or None if it hears none."""
    pcm = np.clip(audio, -32768, 32767).astype("<i2")
    frames = [AudioFrame(pcm[i * FRAME : (i + 1) * FRAME].tobytes(), i * FRAME / SAMPLE_RATE, 0.0)
              for i in range(len(pcm) // FRAME)]
    endpointer = Endpointer(vad_config)
    utterances = [u for u in map(endpointer.feed, frames) if u is not None] + [endpointer.flush()]
    return next((u.start_s for u in utterances if u is not None), None)


def room_mic(reply: bytes, rate: int, *, delay_ms: int = 90, gain: float = 0.5, rt60_ms: int = 0, seed: int = 0,
             tail_s: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The mic while ``reply`` plays in a room (see ``room_echo``), ``tail_s`` past its echo: without our
    voice (the room's and the mic's own noise, -61 dBFS), and with it."""
    played = np.frombuffer(resample(reply, rate, SAMPLE_RATE), dtype="<i2").astype(np.float64)
    echo = room_echo(played, delay_ms, gain, rt60_ms)
    quiet = np.random.default_rng(seed).normal(0, 30, len(echo) + round(tail_s * SAMPLE_RATE))
    mic = quiet.copy()
    mic[: len(echo)] += echo
    return quiet, mic


def _gate(config: BargeInConfig, room: list[tuple[float, float]]) -> EchoGate:
    gate = EchoGate(config)
    gate.learn_room(room)
    return gate


def run(synthesizer: Synthesizer, recordings: list[Recording], config: BargeInConfig | None = None,
        delay_ms: int = 90, echo_gain: float = 0.5, user_at_s: float = 1.0, rt60_ms: int = 0,
        replies: int = len(REPLIES)) -> dict[str, Any]:
    config = config or BargeInConfig()
    vad_config = VadConfig(frame_ms=FRAME * 1000 // SAMPLE_RATE)
    at = int(user_at_s * SAMPLE_RATE)
    users = [(recording.path.name, read_16k(str(recording.path))) for recording in recordings]
    rows: list[dict[str, Any]] = []
    false_triggers = {"cold": 0, "warm": 0}
    for index, text in enumerate(REPLIES[:replies]):
        reply, rate = synthesizer.synthesize(text)
        quiet, base = room_mic(reply, rate, delay_ms=delay_ms, gain=echo_gain, rt60_ms=rt60_ms, seed=index,
                               tail_s=2.0)
        # replies alone until the gate has learnt the room and a whole reply passed (at most 5); a reply it
        # takes for a user is cut short there, and learnt as ours (the daemon hears no words after the cut)
        learning = EchoGate(config)
        for t0 in (1000.0, 1100.0, 1200.0, 1300.0, 1400.0):
            fooled = gate_decision(learning, reply, rate, base, t0) is not None
            if fooled:
                learning.false_alarm()
            elif learning.learnt:
                break
        # warm: what the daemon has after its first replies, or starts with after a restart (service.room)
        rooms: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": learning.room}
        for state in ("cold", "warm"):
            false_triggers[state] += gate_decision(_gate(config, rooms[state]), reply, rate, base) is not None
        for name, whole in users:
            user = whole[: len(base) - at]
            alone = quiet.copy()
            alone[at : at + len(user)] += user
            heard_at = speech_onset(alone, vad_config)
            if heard_at is None or heard_at < user_at_s:
                continue
            onset = heard_at - user_at_s
            mic = base.copy()
            mic[at : at + len(user)] += user
            row: dict[str, Any] = {"file": name, "reply": index}
            for state in ("cold", "warm"):
                decided = gate_decision(_gate(config, rooms[state]), reply, rate, mic)
                row[f"{state}_ms"] = (decided - user_at_s - onset) * 1000 + BLOCK_MS if decided is not None else None
            rows.append(row)

    def stops(state: str) -> list[float]:
        return [r[f"{state}_ms"] if r[f"{state}_ms"] is not None else float("nan") for r in rows]

    return {"delay_ms": delay_ms, "echo_gain": echo_gain, "rt60_ms": rt60_ms, "replies": min(replies, len(REPLIES)),
            "utterances": rows,
            **{state: {"stop_ms": summary(stops(state)), "missed": sum(r[f"{state}_ms"] is None for r in rows),
                       "false_triggers": false_triggers[state],
                       "false_trigger_on_own_voice": false_triggers[state] > 0} for state in ("cold", "warm")}}
