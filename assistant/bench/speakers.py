"""``assistant bench speakers``: who-is-speaking accuracy, false accepts and CPU, on real and synthesised voices.

Voices (``VOICES``): every speaker of the shared speech set with at least four utterances (the SpeechBrain
test speakers, a LibriVox reader, LJSpeech, LibriSpeech 1221, the AMI meeting speaker MEE009 by pyannote's
labels, the voskJs author, the CMU cards speaker; long recordings cut into ~3 s pieces of speech, their
pauses over ~0.2 s taken out first as the encoder's front end takes them out) plus synthesised voices saying
six sentences each: espeak-ng en-us and, if installed, Piper's joe. (espeak-ng's other variants are not
other people to the encoder: 0.85-0.97 between their centroids, plain cosine.) Strangers: every voice heard
once (other LibriSpeech speakers, TIMIT, ARCTIC, JFK, the AMI speakers MEE012 and ES2011a, ...).

Each trial enrols 3 voices with 3 random utterances each (clean, as a person enrols in a quiet room) and
identifies every other utterance: the enrolled voices' remaining ones (right / taken for another enrolled
voice / not recognised) and everyone else's (accepted as an enrolled voice = a false accept), quiet and
mixed with the set's noise recordings at 10 dB. The background (see identify.py) is made from half of the
strangers and the other half is tested, then the other way round: no voice tested is in the background.
Embeddings are computed once per utterance and condition, then the trials are matrix arithmetic; the
threshold sweep says, per similarity, what each rate would be.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from assistant.bench.wake_audio import Piper, espeak, mix, noise_pool, read_wav, trim
from assistant.hearing.speakers.encoder import SpeakerEncoder
from assistant.hearing.speakers.frontend import Floats, trim_long_silences
from assistant.hearing.speakers.identify import DEFAULT_THRESHOLD, MAX_PARTIALS, similarities, voice_print

SR = 16000
PIECE_S = 3.0  # long recordings are cut into pieces this long
MIN_PIECE_S = 1.0
SNR_DB = 10.0
ENROL = 3
SENTENCES = ("Turn on the kitchen light.", "What is the weather like tomorrow?", "Set a timer for ten minutes.",
             "Please open the front door.", "How many days until Christmas?", "Play some music in the living room.")
ESPEAK_VOICE = "en-us"

# speaker -> files (relative to the speech folder); a (file, start, end) range picks a labelled stretch
VOICES: dict[str, list[str | tuple[str, float, float]]] = {
    "speechbrain spk1": [f"speechbrain-tests/spk1_snt{i}.wav" for i in range(1, 7)],
    "speechbrain spk2": [f"speechbrain-tests/spk2_snt{i}.wav" for i in range(1, 7)],
    "librivox reader": [f"pocketsphinx-tests/sense_and_sensibility_01_austen_64kb-0{n}.wav"
                        for n in (870, 880, 890, 920, 930)],
    "ljspeech": ["lhotse/LJ002-0020.wav", "lhotse/LJ002-0035.wav", "speechbrain-tests/LJ050-0131.wav"],
    "librispeech 1221": ["triton-asr-client/1221-135766-0001.wav", "triton-asr-client/1221-135766-0002.wav"],
    "ami MEE009": [("pyannote/pyannote_ami_dev00.wav", 1.44, 13.15), ("pyannote/pyannote_ami_dev00.wav", 23.81, 26.19),
                   ("pyannote/pyannote_ami_dev00.wav", 28.39, 30.0)],
    "voskjs author": ["voskjs/sentencesWithSilences.wav", "voskjs/EN_CSQU3054383.wav"],
    "cmu cards": [f"pocketsphinx-tests/cards_00{i}.wav" for i in range(1, 6)],
}
STRANGERS: list[str | tuple[str, float, float]] = [
    "voskjs/2830-3980-0043.wav", "voskjs/4507-16021-0012.wav", "voskjs/8455-210777-0068.wav",
    "triton-asr-client/1089-134686-0001.wav", "wenet/1995-1837-0001.wav", "lhotse/2412-153948-0000.wav",
    "picovoice-leopard/1272-128104-0000.wav", "faster-whisper-tests/61-70968-0000_stereo_left.wav",
    "faster-whisper-tests/librispeech-260_stereo_right.wav", "deepspeech/LDC93S1.wav", "deepspeech/arctic_a0024.wav",
    "jfk/jfk.wav", "google-speech-samples/brooklyn_bridge.wav",
    "wyoming-faster-whisper/turn_on_the_living_room_lamp.wav",
    "speech_recognition/english_one_two_three.wav", "deepspeech/new-home-in-the-stars-16k.wav",
    "azure-speech-samples/whatstheweatherlike.wav", "azure-speech-samples/wreck-a-nice-beach.wav",
    "pocketsphinx-tests/goforward.wav", "openwakeword/negative_reference.wav",
    ("pyannote/pyannote_ami_dev00.wav", 13.32, 16.92), ("pyannote/pyannote_ami_dev00.wav", 26.27, 28.22),
    ("lhotse/ami_ES2011a_headset0_40-46s.wav", 1.46, 2.82), ("lhotse/ami_ES2011a_headset0_40-46s.wav", 3.36, 4.36),
]


@dataclass
class Utterance:
    voice: str
    pcm: np.ndarray[Any, np.dtype[np.int16]]
    embedding: dict[str, Floats | None] = field(default_factory=dict)  # condition -> embedding
    cpu_ms: list[float] = field(default_factory=list)


def pieces(pcm: np.ndarray[Any, np.dtype[np.int16]]) -> list[np.ndarray[Any, np.dtype[np.int16]]]:
    """A recording as ~3 s pieces of speech (a short one whole); pieces under 1 s are dropped."""
    step = int(PIECE_S * SR)
    if len(pcm) < 2 * step:
        return [pcm]
    speech = trim_long_silences(pcm.astype(np.float32) / 32768.0)
    pcm = np.round(speech * 32768.0).clip(-32768, 32767).astype(np.int16)
    return [pcm[i:i + step] for i in range(0, len(pcm), step) if len(pcm[i:i + step]) >= MIN_PIECE_S * SR]


def _load(data: Path, spec: str | tuple[str, float, float]) -> np.ndarray[Any, np.dtype[np.int16]]:
    if isinstance(spec, str):
        return read_wav(data / spec)
    name, start, end = spec
    return read_wav(data / name)[int(start * SR): int(end * SR)]


def gather(data: Path, piper: bool = True) -> tuple[list[Utterance], list[Utterance]]:
    """(utterances of the voices that can be enrolled, utterances of strangers)."""
    known = [Utterance(voice, piece) for voice, specs in VOICES.items() for spec in specs
             for piece in pieces(_load(data, spec))]
    known += [Utterance(f"espeak-ng {ESPEAK_VOICE}", trim(espeak(s, ESPEAK_VOICE))) for s in SENTENCES]
    if piper:
        try:
            joe = Piper()
        except Exception:  # the [piper] extra is optional
            joe = None
        if joe is not None:
            known += [Utterance("piper joe", trim(joe.say(s, 1.0, 0.667))) for s in SENTENCES]
    strangers = [Utterance(f"stranger {i}", piece) for i, spec in enumerate(STRANGERS)
                 for piece in pieces(_load(data, spec))[:3]]
    return known, strangers


def embed_all(encoder: SpeakerEncoder, utterances: Sequence[Utterance], noises: Sequence[tuple[str, Any]],
              seed: int) -> None:
    """Each utterance's embedding quiet and at 10 dB, as identification makes it (at most MAX_PARTIALS), timed;
    and clean with every partial (for enrolment)."""
    from assistant.bench.wake_audio import noise_piece

    rng = np.random.default_rng(seed)
    for u in utterances:
        u.embedding["enrol"] = encoder.embed(u.pcm.astype("<i2").tobytes())
        noisy = mix(u.pcm, noise_piece(noises[int(rng.integers(len(noises)))][1], len(u.pcm), rng), SNR_DB)
        for condition, pcm in (("quiet", u.pcm), ("10 dB", noisy)):
            started = time.thread_time()
            u.embedding[condition] = encoder.embed(pcm.astype("<i2").tobytes(), max_partials=MAX_PARTIALS)
            u.cpu_ms.append((time.thread_time() - started) * 1000)


@dataclass
class Scores:
    """Best similarity and whether the closest voice was the right one, for every identification made."""

    own: list[tuple[float, bool, str]] = field(default_factory=list)  # enrolled voices' own utterances (+ voice)
    stranger: list[float] = field(default_factory=list)  # voices not enrolled in that trial

    def rates(self, threshold: float) -> dict[str, float]:
        n_own, n_other = max(len(self.own), 1), max(len(self.stranger), 1)
        return {"correct": sum(s >= threshold and ok for s, ok, _ in self.own) / n_own,
                "confused": sum(s >= threshold and not ok for s, ok, _ in self.own) / n_own,
                "missed": sum(s < threshold for s, _, _ in self.own) / n_own,
                "false_accept": sum(s >= threshold for s in self.stranger) / n_other}


def background(utterances: Sequence[Utterance]) -> Floats:
    """The mean embedding of these utterances (clean, every partial): what their voices share."""
    mean: Floats = np.mean(np.stack([e for u in utterances if (e := u.embedding["enrol"]) is not None]),
                           axis=0).astype(np.float32)
    return mean


def run_trials(known: Sequence[Utterance], strangers: Sequence[Utterance], seed: int,
               max_trials: int = 200) -> dict[str, Scores]:
    """Trials in two folds: the background from half the stranger voices, the other half tested."""
    rng = np.random.default_rng(seed)
    voices = sorted({u.voice for u in known if sum(v.voice == u.voice for v in known) > ENROL})
    trios = list(combinations(voices, 3))
    results = {"quiet": Scores(), "10 dB": Scores()}
    stranger_voices = sorted({u.voice for u in strangers})
    for fold in range(2):
        in_background = set(stranger_voices[fold::2])
        mean = background([u for u in strangers if u.voice in in_background])
        tested = [u for u in strangers if u.voice not in in_background]
        picked = trios if len(trios) <= max_trials // 2 else [
            trios[i] for i in rng.choice(len(trios), max_trials // 2, replace=False)]
        for trio in picked:
            _trial(trio, known, tested, mean, rng, results)
    return results


def _trial(trio: tuple[str, ...], known: Sequence[Utterance], strangers: Sequence[Utterance], mean: Floats,
           rng: np.random.Generator, results: dict[str, Scores]) -> None:
    prints, held_out = [], []
    for voice in trio:
        own = [u for u in known if u.voice == voice and u.embedding["enrol"] is not None]
        chosen = set(rng.choice(len(own), ENROL, replace=False).tolist())
        prints.append(voice_print([e for i in chosen if (e := own[i].embedding["enrol"]) is not None], mean))
        held_out += [own[i] for i in range(len(own)) if i not in chosen]
    stacked = np.stack(prints)
    others = [u for u in known if u.voice not in trio] + list(strangers)
    for condition, scores in results.items():
        for u in held_out:
            if (e := u.embedding[condition]) is not None:
                sims = similarities(stacked, e, mean)
                scores.own.append((float(sims.max()), trio[int(sims.argmax())] == u.voice, u.voice))
        for u in others:
            if (e := u.embedding[condition]) is not None:
                scores.stranger.append(float(similarities(stacked, e, mean).max()))


def per_voice(scores: Scores, threshold: float) -> dict[str, float]:
    """Each enrolled voice's own utterances named right at ``threshold``."""
    voices = sorted({v for _, _, v in scores.own})
    return {v: float(np.mean([s >= threshold and ok for s, ok, w in scores.own if w == v])) for v in voices}


def calibrate(results: dict[str, Scores], max_false_accept: float = 0.02) -> float:
    """The lowest threshold (0.01 steps) at which strangers are accepted in at most ``max_false_accept`` of
    the identifications, quiet and in noise alike."""
    for threshold in np.arange(0.30, 0.99, 0.01):
        if all(s.rates(float(threshold))["false_accept"] <= max_false_accept for s in results.values()):
            return round(float(threshold), 2)
    return 0.99


def run(data: Path, seed: int = 0, piper: bool = True, max_trials: int = 200) -> dict[str, Any]:
    encoder = SpeakerEncoder()
    known, strangers = gather(data, piper)
    embed_all(encoder, [*known, *strangers], noise_pool(data), seed)
    results = run_trials(known, strangers, seed, max_trials)
    calibrated = calibrate(results)
    sweep = {f"{t:.2f}": {c: s.rates(float(t)) for c, s in results.items()} for t in np.arange(0.35, 0.76, 0.05)}
    cpu = [ms for u in [*known, *strangers] for ms in u.cpu_ms]
    durations = [len(u.pcm) / SR for u in [*known, *strangers]]
    real = [u for u in [*known, *strangers] if not u.voice.startswith(("espeak", "piper"))]
    return {
        "background": [round(float(x), 6) for x in background(real)],
        "background_utterances": len(real),
        "voices": len({u.voice for u in known}), "utterances": len(known), "stranger_utterances": len(strangers),
        "identifications": {c: len(s.own) + len(s.stranger) for c, s in results.items()},
        "default_threshold": DEFAULT_THRESHOLD, "calibrated_threshold": calibrated,
        "at_default": {c: s.rates(DEFAULT_THRESHOLD) for c, s in results.items()},
        "at_calibrated": {c: s.rates(calibrated) for c, s in results.items()},
        "sweep": sweep,
        "per_voice": {c: per_voice(s, calibrated) for c, s in results.items()},
        "cpu_ms": {"median": statistics.median(cpu), "p90": float(np.percentile(cpu, 90)), "max": max(cpu)},
        "utterance_s": {"median": statistics.median(durations), "max": max(durations)},
    }


def table(result: dict[str, Any]) -> str:
    lines = [f"{result['voices']} voices ({result['utterances']} utterances) + {result['stranger_utterances']} "
             f"stranger utterances; 3 enrolled x 3 utterances per trial; identifications: {result['identifications']}",
             "", "| threshold | condition | correct | confused with another enrolled | not recognised | "
             "strangers accepted |", "|---|---|---|---|---|---|"]
    for threshold, rows in result["sweep"].items():
        for condition, r in rows.items():
            lines.append(f"| {threshold} | {condition} | {r['correct']:.1%} | {r['confused']:.1%} | {r['missed']:.1%} "
                         f"| {r['false_accept']:.1%} |")
    lines.append("")
    for key in ("at_default", "at_calibrated"):
        threshold = result["default_threshold" if key == "at_default" else "calibrated_threshold"]
        for condition, r in result[key].items():
            lines.append(f"{key.removeprefix('at_')} threshold {threshold:.2f}, {condition}: correct "
                         f"{r['correct']:.1%}, confused {r['confused']:.1%}, not recognised {r['missed']:.1%}, "
                         f"strangers accepted {r['false_accept']:.1%}")
    for condition, rows in result["per_voice"].items():
        lines.append(f"named right at {result['calibrated_threshold']:.2f}, {condition}: "
                     + ", ".join(f"{v} {r:.0%}" for v, r in rows.items()))
    cpu, dur = result["cpu_ms"], result["utterance_s"]
    lines.append(f"CPU per identification (front end + encoder, one core): median {cpu['median']:.1f} ms, p90 "
                 f"{cpu['p90']:.1f} ms, max {cpu['max']:.1f} ms (utterances: median {dur['median']:.1f} s, "
                 f"max {dur['max']:.1f} s)")
    return "\n".join(lines)


def write_tsv(result: dict[str, Any], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter="\t")
        out.writerow(["threshold", "condition", "correct", "confused", "missed", "false_accept"])
        for threshold, rows in result["sweep"].items():
            for condition, r in rows.items():
                out.writerow([threshold, condition, *(round(r[k], 4) for k in ("correct", "confused", "missed",
                                                                               "false_accept"))])
