"""False cut-offs: how often a turn ends inside the user's mid-sentence pause, on the daemon's live path.

Real recordings get one pause of 0.5-1.0 s inserted between two words in the middle of what is said (the gap
is found with Whisper's word timestamps and cut at its quietest 10 ms; the pause is white noise at the
recording's own noise level, never digital silence); each is then played in real time through
``build_pipeline``, as the latency benchmark plays recordings. With the fixed 500 ms hangover, every pause of
0.7 s or more splits every one of these recordings (checked with ``hearing.vad.segments``). A recording counts
as cut off when a turn ends with its last voiced frame before the inserted pause is over: the request was
split, or answered before it was said. Any other split (a turn ending at one of the recording's own pauses) is
counted apart. The recordings the manifest files under ``vad_endpointing`` are played as they are and listed
with their turn counts.
"""

from __future__ import annotations

import math
import tempfile
import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.app.build import Kept, build_recognizer, build_synthesizer
from assistant.audio.sources import WavSource
from assistant.bench import latency
from assistant.bench.latency import machine, speech_samples
from assistant.bench.speech_end import true_end_s
from assistant.bench.stats import Recording, fmt, summary, word_errors
from assistant.config.schema import Config
from assistant.events import SAMPLE_RATE, TurnReport

# requests, and read sentences of up to ~10 s (longer ones only make the run slower)
CATEGORIES = ("asr_command", "asr_command_secondary", "wakeword_plus_command", "asr_read_clean")
MAX_SECONDS = 10.0
PAUSES_S = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
FRAME = SAMPLE_RATE // 100  # 10 ms
MAX_ROOM_RMS = 40.0  # -58 dBFS
MIN_WORDS = 3  # a pause needs a word on each side and a sentence around it


@dataclass
class Paused:
    """A recording with a pause inserted (``pause_s`` long from ``pause_at_s``), written to ``path``."""

    source: Recording
    path: Path
    pause_at_s: float
    pause_s: float
    before: str  # the words before the pause


@dataclass
class Outcome:
    file: str
    pause_s: float
    before: str
    turns: int
    cut_at_pause: bool
    other_split: bool
    transcript: str
    errors: int
    ref_words: int
    reply_audio_true_ms: float  # first reply sample after the true end of speech (uncut recordings only)
    verdicts: str = ""  # each turn's end-of-turn verdict (done, more, maybe, unsure; "-": none made)


def room_noise(samples: np.ndarray, seconds: float) -> np.ndarray:
    """``seconds`` of quiet room: white noise as loud as the recording's quietest tenth of 10 ms frames, at most
    -58 dBFS. Not the recording's own quiet stretches: looped, their seams click, and some of them (breath,
    hum) are voiced to webrtcvad, so a 1 s "pause" was no pause at all on a quarter of the recordings."""
    power = samples[: len(samples) // FRAME * FRAME].astype(np.float64).reshape(-1, FRAME) ** 2
    floor = float(np.sqrt(np.percentile(power.mean(axis=1), 10)))
    noise = np.random.default_rng(len(samples)).normal(0.0, min(floor, MAX_ROOM_RMS), int(seconds * SAMPLE_RATE))
    return np.clip(noise, -32768, 32767).astype(np.int16)


def quietest_cut(samples: np.ndarray, start_s: float, end_s: float) -> int:
    """The sample index of the quietest 10 ms between ``start_s`` and ``end_s`` (a gap between two words)."""
    low, high = int(start_s * SAMPLE_RATE), max(int(end_s * SAMPLE_RATE), int(start_s * SAMPLE_RATE) + FRAME)
    span = samples[low:high].astype(np.float64)
    if len(span) < FRAME:
        return low
    energy = np.convolve(span**2, np.ones(FRAME), mode="valid")
    return low + int(np.argmin(energy)) + FRAME // 2


def insert_pause(recording: Recording, recognizer: Any, pause_s: float, folder: Path) -> Paused | None:
    """The recording with ``pause_s`` of its room noise between the two middle words; None if too short."""
    samples = speech_samples(recording)
    if len(samples) > MAX_SECONDS * SAMPLE_RATE:
        return None
    words = recognizer.word_times(samples.tobytes())
    if len(words) < MIN_WORDS:
        return None
    middle = len(words) // 2 - 1  # the gap after this word: the middle of what is said
    cut = quietest_cut(samples, words[middle][2] - 0.03, words[middle + 1][1] + 0.03)
    paused = np.concatenate([samples[:cut], room_noise(samples, pause_s), samples[cut:]])
    path = folder / f"{recording.path.stem}_pause{int(pause_s * 1000)}.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(paused.tobytes())
    before = " ".join(w for w, _, _ in words[: middle + 1])
    return Paused(recording, path, cut / SAMPLE_RATE, pause_s, before)


def play(config: Config, path: Path, kept: Kept) -> list[TurnReport]:
    """Every turn with words the live pipeline takes on ``path`` played in real time."""
    source = WavSource(path, realtime=True, chunk_ms=config.audio.buffer_ms,
                       tail_silence_s=max(config.vad.hangover_ms, config.latency.max_pause_ms) / 1000 + 1.0)
    return [t for t in latency.play(config, source, kept) if t.transcript]


def judge_turns(paused: Paused, turns: list[TurnReport]) -> Outcome:
    pause_end = paused.pause_at_s + paused.pause_s
    # a turn whose speech ended before the pause was over ended at (or before) the pause
    cut = any(t.speech_end < pause_end - 0.05 and t.speech_end > paused.pause_at_s - 0.5 for t in turns)
    transcript = " ".join(t.transcript for t in turns)
    errors, ref_words = word_errors(paused.source.reference, transcript)
    reply_true = math.nan
    if len(turns) == 1:
        samples = speech_samples(Recording(paused.path, "", ""))
        true_end, _ = true_end_s(paused.path, samples)
        reply = turns[0].latency_ms.get("reply_audio")
        if true_end is not None and reply is not None:
            reply_true = reply + (turns[0].speech_end - true_end) * 1000
    return Outcome(paused.source.path.name, paused.pause_s, paused.before, len(turns), cut,
                   len(turns) > 1 and not cut, transcript, errors, ref_words, reply_true,
                   ",".join(t.end_of_turn or "-" for t in turns))


def run(config: Config, recordings: list[Recording], as_is: list[Recording]) -> dict[str, Any]:
    recognizer = build_recognizer(config)
    kept = Kept(recognizer=recognizer, synthesizer=build_synthesizer(config))
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="cutoffs-") as folder:
        for index, recording in enumerate(recordings):
            paused = insert_pause(recording, recognizer, PAUSES_S[index % len(PAUSES_S)], Path(folder))
            if paused is not None:
                outcomes.append(judge_turns(paused, play(config, paused.path, kept)))
    played = [{"file": r.path.name, "reference": r.reference,
               "turns": [t.transcript for t in play(config, r.path, kept)]} for r in as_is]
    cut = sum(o.cut_at_pause for o in outcomes)
    errors, ref_words = sum(o.errors for o in outcomes), sum(o.ref_words for o in outcomes)
    return {"machine": machine(), "latency": config.latency.model_dump(), "hangover_ms": config.vad.hangover_ms,
            "outcomes": [asdict(o) for o in outcomes], "as_is": played,
            "cut_off": cut, "other_splits": sum(o.other_split for o in outcomes), "paused": len(outcomes),
            "cut_off_rate": cut / max(1, len(outcomes)), "wer": errors / max(1, ref_words),
            "reply_audio_true_ms": summary([o.reply_audio_true_ms for o in outcomes])}


def _ms(value: float | None) -> str:
    return fmt(math.nan if value is None else value)  # JSON (--json, then read back) has null for NaN


def table(result: dict[str, Any]) -> str:
    lines = [f"{'file':36} {'pause':>5} {'turns':>5} {'cut':>4} {'audio*':>7} {'verdicts':13}  words before the pause"
             " | heard"]
    for o in result["outcomes"]:
        lines.append(f"{o['file'][:36]:36} {o['pause_s']:5.1f} {o['turns']:5d} {'CUT' if o['cut_at_pause'] else '':>4} "
                     f"{_ms(o['reply_audio_true_ms']):>7} {o.get('verdicts', '')[:13]:13}  {o['before'][:30]!r} | "
                     f"{o['transcript'][:50]!r}")
    for played in result["as_is"]:
        lines.append(f"{played['file'][:36]:36} as is: {len(played['turns'])} turns {played['turns']}")
    lines.append(f"cut off at the inserted pause: {result['cut_off']} of {result['paused']} "
                 f"({100 * result['cut_off_rate']:.1f} %); split elsewhere: {result['other_splits']}; WER "
                 f"{result['wer']:.3f}; first reply sample after the true end, uncut: median "
                 f"{_ms(result['reply_audio_true_ms']['median'])} ms; load average {result['machine']['load_avg']}")
    return "\n".join(lines)
