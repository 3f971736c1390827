"""Word error rate in real noise, per lever, through the daemon's hearing path.

    python benchmarks/noisy_wer.py [--data ../shared/speech] [--lever baseline --lever deepfilter ...]
                                   [--unsure-logprob -0.8] [--limit N] [--json out.json]

Mixes (fixed seed): every asr_command and asr_read_clean recording of the shared set, each with one of
the real noise recordings there (nonspeech and instrumental nonspeech_music: not digital silence, not the
beep, not the song with vocals), taken from a seeded offset and looped if short, at 15, 10 and 5 dB SNR,
plus the clean originals. SNR is the speech-active RMS (30 ms frames within 40 dB of the loudest one) over
the noise's RMS. Noise runs 1 s before the speech and past its end, as a room's noise does.

Each mix goes the daemon's way: 30 ms frames into the Endpointer (config.vad), the Listener's second
stage (Silero, vad.engine `both`), WhisperRecognizer.transcribe with the default config's initial prompt
(the default commands' vocabulary), then Listener.accept (hallucination guards). The hypothesis is what
reaches the router; WER is corpus-level after Whisper's English normaliser (assistant.bench.hearing).

Levers (``--lever``, repeatable; ``+`` combines):
  baseline         the default config
  rnnoise, deepfilter, spectral, gain
                   that enhancer on the utterance before Whisper (assistant.bench.denoise)
  preroll          vad.preroll_ms 300 -> 600
  vad-rnnoise, vad-deepfilter
                   the whole recording denoised for the VADs (endpointer, Silero); Whisper gets the original
  webrtc-deepfilter  only the endpointer's webrtcvad hears it denoised; Silero and Whisper the original
  webrtc-only      vad.engine webrtc: no Silero second stage (it refuses short commands in noise)
  silero-lenient   guards.silero_min_fraction 0.3 -> 0.1 (Silero need confirm only a tenth of webrtc's speech)
  beam             beam_size 5 on every utterance (for comparison: its cost is paid always)
  unsure-beam      tiny.en again with beam 5, only when the first pass looks unsure
  unsure-base      Whisper base (greedy) only when the first pass looks unsure
  unsure-base-beam base with beam 5 only when unsure
  second-pass      the package's asr.second_pass_model: base, below --unsure-logprob (the unsure-base
                   lever as WhisperRecognizer does it)
"Unsure": text written, and a segment with avg_logprob < --unsure-logprob (hearing.whisper.looks_unsure).
CPU is process CPU time per utterance (enhancer + every Whisper pass; median); RTF is median wall time
over audio duration. One run each: ratios between levers are the point, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import wave
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.app.router import build_router
from assistant.bench.denoise import make_enhancer
from assistant.bench.hearing import Scorer
from assistant.bench.stats import read_manifest, word_errors
from assistant.config.schema import AsrConfig, Config
from assistant.events import SAMPLE_RATE, AudioFrame, Transcript
from assistant.hearing.listen import Listener, build_listener
from assistant.hearing.vad import Endpointer
from assistant.hearing.whisper import WhisperRecognizer, looks_unsure

SPEECH = ("asr_command", "asr_read_clean")
NOISE = ("nonspeech", "nonspeech_music")
NOT_NOISE = ("silence", "beep", "vocals")  # file-name words: digital silence, a chime, a song
SNRS: tuple[float | None, ...] = (None, 15.0, 10.0, 5.0)  # None: the clean original
SEED = 18
NOISE_LEAD_S = 1.0
ENHANCERS = ("rnnoise", "deepfilter", "spectral", "gain")
UNSURE = ("unsure-beam", "unsure-base", "unsure-base-beam")
LEVERS = ("baseline", *ENHANCERS, "preroll", "beam", *UNSURE, "second-pass", "webrtc-only", "silero-lenient",
          "vad-rnnoise", "vad-deepfilter", "webrtc-deepfilter")


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == SAMPLE_RATE and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0


def active_rms(audio: np.ndarray) -> float:
    frame = SAMPLE_RATE * 30 // 1000
    energies = np.mean(audio[: len(audio) - len(audio) % frame].reshape(-1, frame) ** 2, axis=1)
    return float(np.sqrt(np.mean(energies[energies > energies.max() * 1e-4])))


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float | None, tail_s: float, start: int) -> bytes:
    """``speech`` with ``noise`` under it (and NOISE_LEAD_S before, ``tail_s`` after) at ``snr_db``;
    the clean original (with digital silence around it) for None. The noise is read from ``start`` on."""
    lead, tail = int(NOISE_LEAD_S * SAMPLE_RATE), int(tail_s * SAMPLE_RATE)
    out = np.concatenate([np.zeros(lead), speech, np.zeros(tail)])
    if snr_db is not None:
        reps = -(-(len(out) + len(noise)) // len(noise))
        bed = np.tile(noise, reps)[start : start + len(out)]
        bed *= active_rms(speech) / max(float(np.sqrt(np.mean(bed**2))), 1e-9) * 10 ** (-snr_db / 20)
        out = out + bed
    peak = float(np.max(np.abs(out)))
    if peak > 0.99:  # clipping would be a second distortion: scale the whole mix instead
        out *= 0.99 / peak
    return np.asarray(np.round(out * 32767), dtype="<i2").tobytes()


def frames(pcm: bytes, frame_ms: int) -> list[AudioFrame]:
    size = SAMPLE_RATE * frame_ms // 1000 * 2
    return [AudioFrame(pcm[i : i + size], i / 2 / SAMPLE_RATE, 0.0) for i in range(0, len(pcm) - size + 1, size)]


def to_audio(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def to_pcm(audio: np.ndarray) -> bytes:
    return np.asarray(np.clip(np.round(audio * 32767), -32768, 32767), dtype="<i2").tobytes()


@dataclass
class Item:
    name: str
    reference: str
    snr: float | None
    pcm: bytes
    speech_s: float
    category: str = ""


@dataclass
class Outcome:
    text: str = ""
    cpu_s: list[float] = field(default_factory=list)  # per transcribed utterance
    wall_s: float = 0.0
    unsure: int = 0  # utterances whose first pass looked unsure
    skipped: int = 0  # utterances the Silero second stage refused
    dropped: int = 0  # transcripts the guards dropped
    speech_s: float = 0.0
    first_logprob: list[float] = field(default_factory=list)


class Bench:
    def __init__(self, unsure_logprob: float) -> None:
        self.config = Config()
        self.unsure_logprob = unsure_logprob
        self.vocabulary = build_router(self.config, dry_run=True).vocabulary()
        self._listeners: dict[str, Listener] = {}
        self.prompt = self.listener("baseline").initial_prompt
        self.tiny = WhisperRecognizer(self.config.asr)
        self._base: WhisperRecognizer | None = None
        self._beams: dict[str, WhisperRecognizer] = {}
        self._enhancers: dict[str, Any] = {}
        self._second_pass: WhisperRecognizer | None = None

    def recognizer(self, model: str, beam: int) -> WhisperRecognizer:
        if model == "tiny.en" and beam == 1:
            return self.tiny
        key = f"{model}/{beam}"
        if key not in self._beams:
            # the same loaded model with another beam would do, but a second instance keeps this simple
            # and base must be loaded anyway
            self._beams[key] = WhisperRecognizer(AsrConfig(model=model, beam_size=beam))
        return self._beams[key]

    def listener(self, lever: str) -> Listener:
        """The Listener (second-stage VAD, guards) for a lever: the default's, or the second stage's
        config levers (they live in vad: and guards:, outside Whisper)."""
        parts = lever.split("+")
        key = "webrtc" if "webrtc-only" in parts else "lenient" if "silero-lenient" in parts else "default"
        if key not in self._listeners:
            config = self.config.model_copy(deep=True)
            if key == "webrtc":
                config.vad.engine = "webrtc"
            elif key == "lenient":
                config.guards.silero_min_fraction = 0.1
            self._listeners[key] = build_listener(config, vocabulary=self.vocabulary)
        return self._listeners[key]

    def enhancer(self, name: str) -> Any:
        if name not in self._enhancers:
            self._enhancers[name] = make_enhancer(name)
        return self._enhancers[name]

    def unsure(self, t: Transcript) -> bool:
        return looks_unsure(t.segments, self.unsure_logprob)

    def second_pass(self) -> WhisperRecognizer:
        if self._second_pass is None:
            self._second_pass = WhisperRecognizer(AsrConfig(second_pass_model="base",
                                                            second_pass_below_logprob=self.unsure_logprob))
        return self._second_pass

    def run(self, item: Item, lever: str) -> Outcome:
        parts = lever.split("+")
        vad = self.config.vad.model_copy(update={"preroll_ms": 600} if "preroll" in parts else {})
        endpointer = Endpointer(vad)
        # vad-<denoiser>: the VADs (webrtc, Silero) hear the stream denoised, Whisper the original audio;
        # webrtc-<denoiser>: only the endpointer's webrtcvad hears it denoised
        vad_denoiser = next((p.split("-", 1)[1] for p in parts if p.startswith(("vad-", "webrtc-deep"))), None)
        webrtc_only_denoised = any(p.startswith("webrtc-deep") for p in parts)
        heard, stream_cpu = item.pcm, time.process_time()
        if vad_denoiser is not None:
            heard = to_pcm(self.enhancer(vad_denoiser)(to_audio(item.pcm)))
        stream_cpu = time.process_time() - stream_cpu
        utterances = [u for f in frames(heard, vad.frame_ms) if (u := endpointer.feed(f)) is not None]
        if (tail := endpointer.flush()) is not None:
            utterances.append(tail)
        out = Outcome(speech_s=item.speech_s)
        listener = self.listener(lever)
        requests = []
        for utterance in utterances:
            if webrtc_only_denoised:
                at = heard.find(utterance.pcm)
                utterance = replace(utterance, pcm=item.pcm[at : at + len(utterance.pcm)])
            if listener.confirm_speech(utterance) is not None:
                out.skipped += 1
                continue
            cpu, wall = time.process_time(), time.perf_counter()
            pcm = utterance.pcm
            if heard is not item.pcm and not webrtc_only_denoised:  # that stretch of the original audio
                at = heard.find(pcm)
                pcm = item.pcm[at : at + len(pcm)]
            for name in parts:
                if name in ENHANCERS:
                    pcm = to_pcm(self.enhancer(name)(to_audio(pcm)))
            recognizer = (self.second_pass() if "second-pass" in parts
                          else self.recognizer("tiny.en", 5 if "beam" in parts else 1))
            first = recognizer.transcribe(pcm, initial_prompt=self.prompt)
            transcript = first
            out.first_logprob += [s.avg_logprob for s in first.segments]
            out.unsure += first.model != "tiny.en"  # the package's second pass answered
            second = next((p for p in parts if p in UNSURE), None)
            if second is not None and self.unsure(first):
                out.unsure += 1
                model = "tiny.en" if second == "unsure-beam" else "base"
                beam = 1 if second == "unsure-base" else 5
                transcript = self.recognizer(model, beam).transcribe(pcm, initial_prompt=self.prompt)
            # the stream's denoising is shared out among the utterances it served
            out.cpu_s.append(time.process_time() - cpu + stream_cpu / len(utterances))
            out.wall_s += time.perf_counter() - wall
            decision = listener.accept(transcript, utterance, utterance.ended_at)
            if decision.request is None:
                out.dropped += 1
            else:
                requests.append(decision.request)
        out.text = " ".join(requests)
        return out


def build_items(data: Path, limit: int | None, tail_s: float, categories: tuple[str, ...] = SPEECH) -> list[Item]:
    manifest = data / "manifest.tsv"
    speech = read_manifest(manifest, categories)[:limit]
    noises = [r for r in read_manifest(manifest, NOISE) if not any(w in r.path.name for w in NOT_NOISE)]
    rng = np.random.default_rng(SEED)
    items = []
    for i, row in enumerate(speech):
        clean = read_wav(row.path)
        noise = read_wav(noises[i % len(noises)].path)  # each recording its own noise, the same at every SNR
        start = int(rng.integers(len(noise)))
        for snr in SNRS:
            items.append(Item(f"{row.path.parent.name}/{row.path.name}", row.reference, snr,
                              mix(clean, noise, snr, tail_s, start), len(clean) / SAMPLE_RATE, row.category))
    return items


def as_streams(items: list[Item]) -> list[Item]:
    """One long recording per condition: every mix in a row, so the noise never stops between sentences
    (as in a room, and as `assistant simulate` hears a long file); the endpointer must find the sentences."""
    streams = []
    for snr in SNRS:
        chosen = [i for i in items if i.snr == snr]
        streams.append(Item(f"stream of {len(chosen)}", " ".join(i.reference for i in chosen), snr,
                            b"".join(i.pcm for i in chosen), sum(i.speech_s for i in chosen)))
    return streams


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "speech")
    parser.add_argument("--lever", action="append", help=f"one of {', '.join(LEVERS)}, or several joined by +")
    parser.add_argument("--unsure-logprob", type=float, default=AsrConfig().second_pass_below_logprob)
    parser.add_argument("--limit", type=int, help="only the first N speech recordings")
    parser.add_argument("--category", action="append", choices=SPEECH, help="only these speech categories")
    parser.add_argument("--stream", action="store_true", help="one continuous recording per condition")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    levers = args.lever or ["baseline"]
    for lever in levers:
        unknown = [p for p in lever.split("+") if p not in LEVERS]
        if unknown:
            parser.error(f"unknown lever {unknown[0]!r}")

    bench = Bench(args.unsure_logprob)
    items = build_items(args.data, args.limit, bench.config.vad.hangover_ms / 1000 + 0.5,
                        tuple(args.category or SPEECH))
    recordings = len(items) // len(SNRS)
    if args.stream:
        items = as_streams(items)
    scorer = Scorer()
    print(f"{recordings} recordings x {len(SNRS)} conditions; prompt {bench.prompt!r}", file=sys.stderr)
    results: dict[str, Any] = {}
    header = (f"{'lever':<28}" + "".join(f"{'WER ' + ('clean' if s is None else f'{s:g} dB'):>11}" for s in SNRS)
              + f"{'unsure clean/noisy':>20}{'dropped':>9}{'CPU ms':>8}{'RTF':>7}")
    rows: list[str] = []
    command_rows: list[str] = []
    for lever in levers:
        # warm-up: first calls load models and libraries
        bench.run(Item("warm-up", "", None, items[0].pcm[: 4 * SAMPLE_RATE * 2], 4.0), lever)
        per: dict[str, list[Outcome]] = {}
        errors: dict[str, list[int]] = {}
        command_errors: dict[str, list[int]] = {}  # as `assistant bench latency` scores commands
        files = []
        for item in items:
            key = "clean" if item.snr is None else f"{item.snr:g}"
            outcome = bench.run(item, lever)
            e, w = scorer.errors(item.reference, outcome.text)
            per.setdefault(key, []).append(outcome)
            errors.setdefault(key, [0, 0])
            errors[key][0] += e
            errors[key][1] += w
            if item.category == "asr_command":
                ce, cw = word_errors(item.reference, outcome.text)
                command_errors.setdefault(key, [0, 0])
                command_errors[key][0] += ce
                command_errors[key][1] += cw
            files.append({"file": item.name, "reference": item.reference, "snr": item.snr, "text": outcome.text,
                          "errors": e, "words": w,
                          "cpu_s": [round(c, 3) for c in outcome.cpu_s], "unsure": outcome.unsure,
                          "skipped": outcome.skipped, "dropped": outcome.dropped,
                          "first_logprob": [round(x, 3) for x in outcome.first_logprob]})
        wer = {k: errors[k][0] / max(1, errors[k][1]) for k in errors}
        everything = [o for os_ in per.values() for o in os_]
        noisy = [o for k, os_ in per.items() if k != "clean" for o in os_]
        cpu_ms = 1000 * statistics.median(c for o in everything for c in o.cpu_s)
        rtf = statistics.median(o.wall_s / o.speech_s for o in everything)
        unsure = (f"{sum(o.unsure for o in per['clean'])}/{sum(len(o.cpu_s) for o in per['clean'])} "
                  f"{sum(o.unsure for o in noisy)}/{sum(len(o.cpu_s) for o in noisy)}")
        lost = sum(o.skipped + o.dropped for o in everything)
        row = (f"{lever:<28}" + "".join(f"{wer['clean' if s is None else f'{s:g}']:>11.3f}" for s in SNRS)
               + f"{unsure:>20}{lost:>9}{cpu_ms:>8.0f}{rtf:>7.2f}")
        rows.append(row)
        if command_errors:
            commands = {k: e / max(1, w) for k, (e, w) in command_errors.items()}
            command_rows.append(f"{lever:<28}" + "".join(
                f"{commands['clean' if s is None else f'{s:g}']:>11.3f}" for s in SNRS))
        print(header + "\n" + row, file=sys.stderr, flush=True)
        results[lever] = {"wer": wer, "command_wer": commands if command_errors else None, "cpu_ms_median": cpu_ms,
                          "rtf_median": rtf, "lost_utterances": lost, "files": files}
    what = f"{recordings} recordings" + (" in one stream per condition" if args.stream else "")
    print(f"\nnoisy WER, {what}, seed {SEED}, tiny.en int8, unsure: avg_logprob < {args.unsure_logprob}")
    print(header)
    print("\n".join(rows))
    if command_rows:
        print("\nthe asr_command recordings alone, scored as `assistant bench latency` scores (bench.stats)")
        print(header[: 28 + 11 * len(SNRS)])
        print("\n".join(command_rows))
    if args.json:
        args.json.write_text(json.dumps({"unsure_logprob": args.unsure_logprob, "levers": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
