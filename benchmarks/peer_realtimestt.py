"""Ours beside RealtimeSTT 1.1.2: the same recordings, the same run, the same origin (issue 21).

    python benchmarks/peer_realtimestt.py --peer-python /work/peer-venv/bin/python
        [--manifest ../shared/speech/manifest.tsv] [--category asr_command ...] [--limit N]
        [-c config.yaml] [--variant defaults --variant fast] [--json out.json]

1. Ours: ``assistant.bench.latency.run`` (what ``assistant bench latency`` runs): each recording played in real
   time through the daemon's pipeline; the default config with ``llm.backend: none`` unless ``-c`` names one.
2. The peer: benchmarks/peer_realtimestt_runner.py, run by ``--peer-python`` (a venv installed from
   benchmarks/requirements-peer.lock; RealtimeSTT is a benchmark dependency, never the assistant's), feeds
   the same 16 kHz samples to ``AudioToTextRecorder(use_microphone=False)`` in real time, with the same
   Whisper tiny.en folder, int8, on the CPU, English; it times each final transcript (``recorder.text()``
   returning).
3. Both counted from the true end of speech (``assistant.bench.speech_end.true_end_s``): ours' transcript and
   first reply sample, the peer's transcript (and its endpoint: its recording stopped).

Prints a row per recording, the medians, and the ratios ours / peer (our first reply sample against its
transcript, which is where it stops: it has no reply; and transcript against transcript).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.audio.sources import read_wav_pcm
from assistant.bench import latency
from assistant.bench.speech_end import true_end_s
from assistant.bench.stats import (
    COMMAND_CATEGORIES,
    DEFAULT_MANIFEST,
    Recording,
    fmt,
    read_manifest,
    summary,
    word_errors,
)
from assistant.config.schema import Config, load_file, validate
from assistant.hearing.models import resolve_whisper

RUNNER = Path(__file__).resolve().with_name("peer_realtimestt_runner.py")
# RealtimeSTT settings per variant, on top of the runner's BASE_OPTIONS (model, cpu, int8, English, file-fed).
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},  # beam 5, 0.6 s of silence ends a recording, batched faster-whisper with its own VAD filter
    "fast": {"beam_size": 1, "post_speech_silence_duration": 0.3},  # greedy, half the silence: its quickest sane
    # and its own speculation (as ours transcribes 90 ms into the silence): Whisper starts 0.1 s into the 0.3 s
    "fast-early": {"beam_size": 1, "post_speech_silence_duration": 0.3, "early_transcription_on_silence": 0.1},
}
SAMPLE_RATE = 16000
CHUNK_SAMPLES = 512  # RealtimeSTT's own buffer_size: what its microphone reader would hand over


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer-python", required=True, type=Path, help="python of the venv with RealtimeSTT "
                        "(benchmarks/requirements-peer.lock)")
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="TSV manifest (file, "
                        "reference_transcript, category)")
    parser.add_argument("--category", action="append", help="manifest categories (repeatable; default: "
                        + ", ".join(COMMAND_CATEGORIES) + ")")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N recordings")
    parser.add_argument("-c", "--config", type=Path, help="our config file (default: the defaults, no LLM)")
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="RealtimeSTT settings "
                        "(repeatable; default: all)")
    parser.add_argument("--settle-s", type=float, default=2.0, help="silence fed to the peer after its last "
                        "event before the next recording")
    parser.add_argument("--json", type=Path, help="also write every number here")
    return parser.parse_args(argv)


def build_config(path: Path | None) -> Config:
    # Without a file: the defaults, minus the LLM (the recordings are commands; a reply is what we time).
    return load_file(path) if path else validate({"llm": {"backend": "none"}}, "peer benchmark defaults")


def pick_recordings(args: argparse.Namespace) -> list[Recording]:
    if not args.manifest.is_file():
        raise SystemExit(f"no manifest at {args.manifest}: pass --manifest PATH")
    rows = read_manifest(args.manifest, args.category or COMMAND_CATEGORIES)
    if not rows:
        raise SystemExit(f"{args.manifest}: no rows in categories {args.category or list(COMMAND_CATEGORIES)}")
    return rows[: args.limit] if args.limit else rows


class Peer:
    """The runner in the peer venv, asked for one recording at a time (see peer_realtimestt_runner.py)."""

    def __init__(self, python: Path, job: dict[str, Any], folder: Path) -> None:
        (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")
        # The peer's python must not see our venv's packages: no PYTHONPATH; and the hub stays off.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HF_HUB_OFFLINE": "1"}
        self.process = subprocess.Popen([str(python), str(RUNNER), str(folder / "job.json")], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info: dict[str, Any] = self._answer()["ready"]

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the peer runner stopped (exit {self.process.wait()}); its output is above")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def play(self, variant: str, pcm: Path) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"variant": variant, "pcm": str(pcm)}) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # end of input: the runner shuts its recorders down and exits
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def write_pcm(recordings: list[Recording], folder: Path) -> list[Path]:
    """Each recording as our pipeline hears it (converted exactly as our WavSource converts it), for the peer."""
    paths = []
    for index, recording in enumerate(recordings):
        paths.append(folder / f"{index:03d}.raw")
        paths[-1].write_bytes(read_wav_pcm(recording.path))
    return paths


def run_interleaved(args: argparse.Namespace, config: Config, recordings: list[Recording],
                    folder: Path) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Per recording, ours and each peer variant one after the other, the order rotated from one to the next:
    the shared machine's load drifts over minutes, and this way every side meets the same drift."""
    pcm = write_pcm(recordings, folder)
    variants = args.variant or list(VARIANTS)
    job = {"model": resolve_whisper(config.asr.model, config.asr.cache_dir).location,  # the same folder
           "sample_rate": SAMPLE_RATE, "chunk_samples": CHUNK_SAMPLES, "settle_s": args.settle_s, "max_wait_s": 15.0,
           "warm_up_pcm": str(pcm[0]), "variants": [{"name": name, "options": VARIANTS[name]} for name in variants]}
    ours: list[dict[str, Any]] = []
    theirs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    peer = Peer(args.peer_python, job, folder)
    try:
        sides = ["ours", *variants]
        for index, recording in enumerate(recordings):
            for side in sides[index % len(sides):] + sides[: index % len(sides)]:
                if side == "ours":  # a fresh pipeline on warmed models, as `assistant bench latency` plays it
                    ours.append(latency.run(config, [recording])["utterances"][0])
                else:
                    theirs[side].append(peer.play(side, pcm[index]))
            print(f"{recording.path.name}: ours {ours[-1]['transcript']!r}, " + ", ".join(
                f"{name} {theirs[name][-1]['transcript']!r}" for name in variants), file=sys.stderr, flush=True)
    finally:
        peer.close()
    return ours, theirs, peer.info


def ms_after(stream_s: float | None, end_s: float | None) -> float:
    """Milliseconds from the true end of speech to a stream time (NaN when either is missing)."""
    return math.nan if stream_s is None or end_s is None else (stream_s - end_s) * 1000


def our_row(utterance: dict[str, Any]) -> dict[str, Any]:
    lat = utterance["latency_ms"]
    delay = lat["end_delay"]  # the user's last sound as the endpointer heard it (our origin) behind the true end
    return {"transcript": utterance["transcript"], "endpoint_ms": lat["endpoint"] + delay,
            "transcript_ms": lat["transcript"] + delay, "reply_audio_ms": lat["reply_audio_true"],
            "latency_ms": lat, "cpu_s": utterance["cpu_s"]}


def peer_row(utterance: dict[str, Any], end_s: float | None) -> dict[str, Any]:
    stops = utterance["recording_stops_s"]
    return {"transcript": utterance["transcript"], "transcript_ms": ms_after(utterance["transcript_s"], end_s),
            "endpoint_ms": ms_after(stops[-1] if stops else None, end_s), "events": utterance["events"]}


def wer(references: list[str], transcripts: list[str]) -> float:
    counts = [word_errors(ref, hyp) for ref, hyp in zip(references, transcripts, strict=True)]
    return sum(e for e, _ in counts) / max(1, sum(n for _, n in counts))


def combine(recordings: list[Recording], ends: list[float | None], ours: list[dict[str, Any]],
            theirs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for index, (recording, end) in enumerate(zip(recordings, ends, strict=True)):
        rows.append({"file": recording.path.name, "reference": recording.reference, "true_end_s": end,
                     "ours": our_row(ours[index]),
                     "peer": {name: peer_row(results[index], end) for name, results in theirs.items()}})
    refs = [r.reference for r in recordings]
    medians = {"ours_endpoint": summary([r["ours"]["endpoint_ms"] for r in rows]),
               "ours_transcript": summary([r["ours"]["transcript_ms"] for r in rows]),
               "ours_reply_audio": summary([r["ours"]["reply_audio_ms"] for r in rows])}
    wers = {"ours": wer(refs, [r["ours"]["transcript"] for r in rows])}
    ratios = {}
    for name in theirs:
        medians[f"{name}_transcript"] = summary([r["peer"][name]["transcript_ms"] for r in rows])
        medians[f"{name}_endpoint"] = summary([r["peer"][name]["endpoint_ms"] for r in rows])
        wers[name] = wer(refs, [r["peer"][name]["transcript"] for r in rows])
        peer_median = medians[f"{name}_transcript"]["median"]
        ratios[name] = {"first_audio_vs_transcript": medians["ours_reply_audio"]["median"] / peer_median,
                        "transcript_vs_transcript": medians["ours_transcript"]["median"] / peer_median}
    return {"rows": rows, "medians": medians, "wer": wers, "ratios": ratios}


def table(result: dict[str, Any]) -> str:
    names = list(result["ratios"])
    head = f"{'file':34} {'end s':>6} {'ours tr':>8} {'ours au':>8} " + " ".join(f"{n + ' tr':>12}" for n in names)
    lines = [head]
    for row in result["rows"]:
        end = fmt(row["true_end_s"] if row["true_end_s"] is not None else math.nan, 2)
        lines.append(f"{row['file'][:34]:34} {end:>6} {fmt(row['ours']['transcript_ms']):>8} "
                     f"{fmt(row['ours']['reply_audio_ms']):>8} "
                     + " ".join(f"{fmt(row['peer'][n]['transcript_ms']):>12}" for n in names))
        lines.append(f"{'':34} ours {row['ours']['transcript']!r}; "
                     + "; ".join(f"{n} {row['peer'][n]['transcript']!r}" for n in names))
    medians = result["medians"]
    for key in ("median", "p90"):
        lines.append(f"{key:34} {'':>6} {fmt(medians['ours_transcript'][key]):>8} "
                     f"{fmt(medians['ours_reply_audio'][key]):>8} "
                     + " ".join(f"{fmt(medians[n + '_transcript'][key]):>12}" for n in names))
    lines.append("(end s: the true end of speech in the recording; then ms from it: ours tr/au = our transcript "
                 "ready / first reply sample out; <variant> tr = RealtimeSTT's final transcript returned by text())")
    for name in names:
        ratio = result["ratios"][name]
        lines.append(f"ours / RealtimeSTT {name}: first reply sample / its transcript "
                     f"{ratio['first_audio_vs_transcript']:.2f}, transcript / transcript "
                     f"{ratio['transcript_vs_transcript']:.2f} (its endpoint: median "
                     f"{fmt(medians[name + '_endpoint']['median'])} ms after the true end, ours "
                     f"{fmt(medians['ours_endpoint']['median'])} ms)")
    lines.append("WER " + ", ".join(f"{k} {v:.3f}" for k, v in result["wer"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = build_config(args.config)
    recordings = pick_recordings(args)
    # The common origin: where each recording's speech really ends (the function our latency bench uses).
    ends = [true_end_s(r.path, np.frombuffer(read_wav_pcm(r.path), dtype="<i2"))[0] for r in recordings]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="peer-realtimestt-") as folder:
        ours, theirs, info = run_interleaved(args, config, recordings, Path(folder))
    result = combine(recordings, ends, ours, theirs)
    result["machine"] = latency.machine() | {"load_avg_before": [round(x, 2) for x in load_before]}
    result["peer"] = info | {"variants": {name: VARIANTS[name] for name in theirs}}
    result["ours_config"] = {"asr": config.asr.model_dump(), "vad": config.vad.model_dump(),
                             "latency": config.latency.model_dump()}
    print(table(result))
    print(f"load average before {result['machine']['load_avg_before']}, after {result['machine']['load_avg']}")
    if args.json:
        args.json.write_text(latency.dumps(result) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
