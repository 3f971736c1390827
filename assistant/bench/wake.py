"""The wake-word benchmark (``assistant bench wake``, benchmarks/wake_word.py): acoustic models beside Whisper.

* **Positives**: each model's phrase synthesised in many voices (espeak-ng voices and variants at two
  speeds, the bundled Piper voice with several length and noise scales), plus the real recordings in
  ``openwakeword/``; each clip gets ``CONTEXT_S`` of context before and after, and is heard clean (digital
  silence around it) and mixed with a real noise recording (it runs through the context too) at 20, 10 and
  5 dB SNR. A clip counts as detected when the model under test fires anywhere in it.
* **Negatives**: every recording of the speech folder (speech, noise, music), resampled and concatenated
  into one stream fed in 30 ms chunks; a model's own wake clips are left out of its stream. The *long*
  set adds those recordings again, each mixed with a noise at 20, 10 and 5 dB, then espeak-ng reading
  English prose (Python's own docstrings) in many voices until ``long_hours`` is reached.
* **CPU**: process time per audio second (median of runs) as % of one core, 1 and 2 models.
* **Latency**: end of speech (the last 10 ms frame more than 20 dB above the clip's noise floor, on the
  clean clip) to the Detection's ``end_s``; it includes the 30 ms chunking.
* **Transcript**: Whisper (the daemon's AsrConfig, prompted with the wake phrases as in ``wake_phrase`` mode)
  on each clip as one utterance, then ``match_wake``; negatives cut into utterances by the daemon's
  Endpointer; latency = the VAD hangover + Whisper's time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.bench.stats import summary
from assistant.bench.wake_audio import (
    CHUNK_MS,
    CONTEXT_S,
    ESPEAK_SPEEDS,
    ESPEAK_VARIANTS,
    ESPEAK_VOICES,
    PHRASES,
    REAL_CLIPS,
    SPEECH_DBFS,
    Pcm,
    Piper,
    Segment,
    Trial,
    base_negatives,
    chunks,
    espeak_clips,
    long_negatives,
    noise_pool,
    piper_clips,
    real_clips,
    trials,
)
from assistant.events import SAMPLE_RATE, AudioFrame
from assistant.hearing.wake_word import ENGINES

# ---- the detectors --------------------------------------------------------------------------------------


class Detector:
    """WakeWords as the daemon runs it: with ``confirm_from``, a candidate below a model's cut-off counts only
    if Whisper hears the phrase in the last 2 s (hearing/wake_confirm.py; here in line, not on a thread)."""

    def __init__(self, engine: str, models: Sequence[str], threshold: float | None = None,
                 confirm_from: float | None = None, recognizer: Any = None, confirm_below: float | None = None) -> None:
        from assistant.hearing.wake_word import WakeWords

        self.detector = WakeWords(engine, models, threshold=threshold, confirm_from=confirm_from,
                                  confirm_below=confirm_below)
        self.recognizer = recognizer
        self.candidates = 0
        self._recent: list[bytes] = []

    @property
    def audio_s(self) -> float:
        return self.detector.audio_s

    def feed(self, chunk: bytes) -> Any:
        from assistant.hearing.wake_confirm import hears_phrase
        from assistant.turn.wake import CONFIRM_AUDIO_S

        self._recent = [*self._recent, chunk][-int(CONFIRM_AUDIO_S * 1000 / CHUNK_MS):]
        found = self.detector.feed(chunk)
        if found is None or found.sure:
            return found
        self.candidates += 1
        heard, _ = hears_phrase(self.recognizer, b"".join(self._recent), found.phrase)
        return found if heard else None

    def close(self) -> None:
        self.detector.close()


def detect(engine: str, models: Sequence[str], pcm: Pcm, threshold: float | None = None,
           confirm_from: float | None = None, recognizer: Any = None, confirm_below: float | None = None) -> list[Any]:
    """Every Detection a fresh detector gives on ``pcm`` fed in 30 ms chunks."""
    detector = Detector(engine, models, threshold, confirm_from, recognizer, confirm_below)
    try:
        return [d for chunk in chunks(pcm) if (d := detector.feed(chunk)) is not None]
    finally:
        detector.close()


@dataclass
class Tally:
    n: int = 0
    hits: int = 0

    def add(self, hit: bool) -> None:
        self.n += 1
        self.hits += int(hit)

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "detected": self.hits, "rate": round(self.hits / self.n, 4) if self.n else None}


@dataclass
class PositiveResult:
    conditions: dict[str, Tally] = field(default_factory=dict)
    families: dict[str, Tally] = field(default_factory=dict)  # clean condition only
    latencies_s: list[float] = field(default_factory=list)  # clean condition only
    misses: list[str] = field(default_factory=list)  # "condition: voice"

    def add(self, trial: Trial, hit: bool, latency_s: float | None) -> None:
        self.conditions.setdefault(trial.condition, Tally()).add(hit)
        if trial.condition == "clean":
            self.families.setdefault(trial.clip.family, Tally()).add(hit)
            if latency_s is not None:
                self.latencies_s.append(latency_s)
        if not hit:
            self.misses.append(f"{trial.condition}: {trial.clip.voice}")

    def as_dict(self) -> dict[str, Any]:
        return {"conditions": {k: v.as_dict() for k, v in self.conditions.items()},
                "families_clean": {k: v.as_dict() for k, v in self.families.items()},
                "latency_ms": {k: v if k == "n" else round(v * 1000, 1) for k, v in summary(self.latencies_s).items()},
                "misses": self.misses}


def acoustic_positives(engine: str, model: str, trial_list: Iterable[Trial], threshold: float | None = None,
                       confirm_from: float | None = None, recognizer: Any = None,
                       confirm_below: float | None = None) -> PositiveResult:
    result = PositiveResult()
    for trial in trial_list:
        found = [d for d in detect(engine, [model], trial.pcm, threshold, confirm_from, recognizer, confirm_below)
                 if d.model == model and d.end_s >= trial.speech_start_s]
        latency = found[0].end_s - trial.speech_end_s if found else None
        result.add(trial, bool(found), latency)
    return result


@dataclass
class NegativeResult:
    seconds: float = 0.0
    false_accepts: list[str] = field(default_factory=list)  # "segment at 12.3 s (p=0.97)"

    def as_dict(self) -> dict[str, Any]:
        hours = self.seconds / 3600
        return {"hours": round(hours, 4), "false_accepts": len(self.false_accepts),
                "per_hour": round(len(self.false_accepts) / hours, 2) if hours else None,
                "where": self.false_accepts}


def acoustic_negatives(engine: str, models: Sequence[str], segments: Iterable[Segment],
                       threshold: float | None = None, confirm_from: float | None = None,
                       recognizer: Any = None, confirm_below: float | None = None) -> dict[str, NegativeResult]:
    """One detector per model, each fed one continuous stream of the segments (without its own clips)."""
    detectors = {m: Detector(engine, [m], threshold, confirm_from, recognizer, confirm_below) for m in models}
    results = {m: NegativeResult() for m in models}
    try:
        for seg in segments:
            for model, detector in detectors.items():
                if seg.source in REAL_CLIPS.get(model, ()):
                    continue
                start = detector.audio_s
                for chunk in chunks(seg.pcm):
                    found = detector.feed(chunk)
                    if found is not None:
                        results[model].false_accepts.append(
                            f"{seg.name} at {found.end_s - start:.2f} s (p={found.probability:.2f})")
                results[model].seconds += len(seg.pcm) / SAMPLE_RATE
    finally:
        for detector in detectors.values():
            detector.close()
    return results


def cpu_percent(engine: str, models: Sequence[str], pcm: Pcm, runs: int = 3) -> float:
    """Process time per audio second as % of one core, median of ``runs`` fresh detectors on ``pcm``."""
    import statistics

    from assistant.hearing.wake_word import WakeWords

    times = []
    for _ in range(runs):
        detector = WakeWords(engine, models)
        started = time.process_time()
        for chunk in chunks(pcm):
            detector.feed(chunk)
        times.append(time.process_time() - started)
        detector.close()
    return 100 * statistics.median(times) / (len(pcm) / SAMPLE_RATE)


# ---- the transcript wake phrase -------------------------------------------------------------------------


class TranscriptWake:
    """Whisper on an utterance, then ``match_wake``: the daemon's ``wake_phrase`` mode."""

    def __init__(self, phrases: Sequence[str], recognizer: Any | None = None) -> None:
        from assistant.config.hearing import ListenConfig
        from assistant.config.schema import AsrConfig, VadConfig
        from assistant.hearing.listen import prompt_for

        if recognizer is None:
            from assistant.hearing.whisper import WhisperRecognizer

            recognizer = WhisperRecognizer(AsrConfig())
        self.recognizer = recognizer
        self.vad = VadConfig()
        self.prompt = prompt_for(ListenConfig(mode="wake_phrase", wake_phrases=list(phrases)))

    def transcribe(self, pcm: Pcm) -> tuple[str, float]:
        """(text, seconds Whisper took)."""
        started = time.monotonic()
        text = self.recognizer.transcribe(pcm.astype("<i2").tobytes(), initial_prompt=self.prompt).text
        return str(text), time.monotonic() - started

    def positives(self, phrase: str, trial_list: Iterable[Trial]) -> PositiveResult:
        from assistant.hearing.listen import match_wake

        result = PositiveResult()
        hangover_s = self.vad.hangover_ms / 1000
        for trial in trial_list:
            text, took = self.transcribe(trial.pcm)
            hit = match_wake(text, [phrase]) is not None
            result.add(trial, hit, hangover_s + took if hit else None)
        return result

    def utterances(self, segments: Sequence[Segment]) -> Iterator[tuple[Pcm, set[str], str]]:
        """The Endpointer's utterances over the segments as one stream: (audio, sources it overlaps, where)."""
        from assistant.hearing.vad import Endpointer

        endpointer = Endpointer(self.vad)
        frame = SAMPLE_RATE * self.vad.frame_ms // 1000
        spans: list[tuple[float, float, Segment]] = []
        clock = 0.0
        stream = np.concatenate([s.pcm for s in segments] + [np.zeros(SAMPLE_RATE * 2, dtype=np.int16)])
        for seg in segments:
            spans.append((clock, clock + len(seg.pcm) / SAMPLE_RATE, seg))
            clock += len(seg.pcm) / SAMPLE_RATE

        def found(u: Any) -> tuple[Pcm, set[str], str]:
            hit = [s for a, b, s in spans if a < u.end_s and b > u.start_s - 0.3]
            pcm = np.frombuffer(u.pcm, dtype="<i2").astype(np.int16)
            where = f"{hit[0].name if hit else '?'} ({u.start_s:.1f}-{u.end_s:.1f} s of the stream)"
            return pcm, {s.source for s in hit}, where

        for i in range(0, len(stream) - frame + 1, frame):
            utterance = endpointer.feed(AudioFrame(stream[i: i + frame].astype("<i2").tobytes(), i / SAMPLE_RATE,
                                                   time.monotonic()))
            if utterance is not None:
                yield found(utterance)
        tail = endpointer.flush()
        if tail is not None:
            yield found(tail)

    def negatives(self, models: Sequence[str], segments: Sequence[Segment]) -> tuple[dict[str, NegativeResult],
                                                                                      float]:
        """False accepts per model on the segments, and CPU % of one core (VAD + Whisper) per audio second."""
        from assistant.hearing.listen import match_wake

        results = {m: NegativeResult() for m in models}
        total_s = sum(len(s.pcm) for s in segments) / SAMPLE_RATE
        for model in models:
            own = sum(len(s.pcm) for s in segments if s.source in REAL_CLIPS.get(model, ())) / SAMPLE_RATE
            results[model].seconds = total_s - own
        started = time.process_time()
        for pcm, sources, where in self.utterances(segments):
            text, _ = self.transcribe(pcm)
            for model in models:
                if sources & set(REAL_CLIPS.get(model, ())):
                    continue
                if match_wake(text, [PHRASES[model]]) is not None:
                    results[model].false_accepts.append(f"{where}: {text!r}")
        cpu = 100 * (time.process_time() - started) / total_s
        return results, cpu


# ---- the whole benchmark ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    data: Path
    engines: Sequence[str] = ENGINES
    models: Sequence[str] = tuple(PHRASES)
    seed: int = 0
    threshold: float | None = None
    long_hours: float = 1.0
    long_engines: Sequence[str] = ("micro",)
    transcript: bool = True
    voices: Sequence[str] = ESPEAK_VOICES
    variants: Sequence[str] = ESPEAK_VARIANTS
    speeds: Sequence[int] = ESPEAK_SPEEDS
    piper: bool = True
    cpu_runs: int = 3
    every: int = 1  # keep every Nth synthesised clip (the real clips always): openWakeWord and Whisper are slow
    confirm_from: float | None = None  # candidates from here to the cut-off, confirmed by Whisper (the daemon's)
    confirm_below: float | None = None  # ... and up to here, when it is above the cut-off


def run(options: Options, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    data = options.data
    noises = noise_pool(data)
    piper: Piper | None = None
    if options.piper:
        try:
            piper = Piper()
        except Exception as exc:  # not installed: espeak-ng voices only
            progress(f"no Piper voice ({exc})")
    clips = {m: (espeak_clips(m, options.voices, options.variants, options.speeds) + piper_clips(m, piper))
             [:: max(1, options.every)] + real_clips(m, data) for m in options.models}
    all_trials = {m: list(trials(clips[m], noises, options.seed)) for m in options.models}
    base = base_negatives(data)
    base_s = sum(len(s.pcm) for s in base) / SAMPLE_RATE
    result: dict[str, Any] = {
        "seed": options.seed, "threshold": options.threshold, "chunk_ms": CHUNK_MS, "context_s": CONTEXT_S,
        "speech_dbfs": SPEECH_DBFS, "every": options.every, "noises": [n for n, _ in noises],
        "clips_per_model": {m: len(c) for m, c in clips.items()},
        "voices": sorted({c.family for cs in clips.values() for c in cs}),
        "negatives_base_hours": round(base_s / 3600, 4), "engines": {},
    }
    long: list[Segment] = []
    if options.long_hours > 0 and set(options.long_engines) & set(options.engines):
        progress("assembling the long negative audio")
        long = list(long_negatives(base, noises, options.long_hours, options.seed))
    cpu_audio = np.concatenate([s.pcm for s in base])[: 120 * SAMPLE_RATE]
    result["confirm_from"], result["confirm_below"] = options.confirm_from, options.confirm_below
    recognizer = None
    if options.confirm_from is not None:
        from assistant.config.schema import AsrConfig
        from assistant.hearing.whisper import WhisperRecognizer

        recognizer = WhisperRecognizer(AsrConfig())
    confirm: dict[str, Any] = {"confirm_from": options.confirm_from, "recognizer": recognizer,
                               "confirm_below": options.confirm_below}
    for engine in options.engines:
        per_model: dict[str, Any] = {}
        for model in options.models:
            progress(f"{engine} {model}: positives")
            per_model[model] = {"positives": acoustic_positives(engine, model, all_trials[model],
                                                                options.threshold, **confirm).as_dict()}
        progress(f"{engine}: negatives ({base_s / 3600:.2f} h)")
        negatives = acoustic_negatives(engine, options.models, base, options.threshold, **confirm)
        for model in options.models:
            per_model[model]["negatives"] = negatives[model].as_dict()
        if long and engine in options.long_engines:
            progress(f"{engine}: long negatives")
            for model, res in acoustic_negatives(engine, options.models, long, options.threshold, **confirm).items():
                per_model[model]["negatives_long"] = res.as_dict()
        progress(f"{engine}: CPU")
        two = [*options.models[:1], next(m for m in (*options.models[1:], *PHRASES) if m != options.models[0])]
        cpu = {"1 model": round(cpu_percent(engine, options.models[:1], cpu_audio, options.cpu_runs), 3),
               "2 models": round(cpu_percent(engine, two, cpu_audio, options.cpu_runs), 3)}
        result["engines"][engine] = {"models": per_model, "cpu_percent_of_one_core": cpu,
                                     "cpu_models": {"1 model": list(options.models[:1]), "2 models": two}}
    if options.transcript:
        progress("transcript: loading Whisper")
        wake = TranscriptWake([PHRASES[m] for m in options.models])
        per_model = {}
        for model in options.models:
            progress(f"transcript {model}: positives")
            per_model[model] = {"positives": wake.positives(PHRASES[model], all_trials[model]).as_dict()}
        progress("transcript: negatives")
        negatives, cpu_pct = wake.negatives(options.models, base)
        for model in options.models:
            per_model[model]["negatives"] = negatives[model].as_dict()
        result["transcript"] = {"models": per_model, "cpu_percent_of_one_core": {"VAD + Whisper": round(cpu_pct, 2)},
                                "prompt": wake.prompt, "asr_model": wake.recognizer.model_name,
                                "hangover_ms": wake.vad.hangover_ms}
    if long:
        result["negatives_long_hours"] = round(sum(len(s.pcm) for s in long) / SAMPLE_RATE / 3600, 4)
    return result
