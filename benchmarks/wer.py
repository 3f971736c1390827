"""Word error rate over a speech manifest, offline and through the daemon's live path.

    python benchmarks/wer.py [--manifest ../shared/speech/manifest.tsv] [--model tiny.en] [--realtime]
                             [--engine webrtc|silero|both] [--json out.json]

Three passes per file:
  offline   the whole file to faster-whisper in one call (no VAD, no prompt): the model's own accuracy
  live      the daemon's path: Capture -> Endpointer -> Listener (second-stage VAD, guards, mode
            `always`) -> WhisperRecognizer per utterance; the hypothesis is what reaches the router
  padded    (with --pad-s) the live path with that much silence put before each utterance, as proposed
            for WhisperRecognizer.transcribe: Whisper is less accurate when speech starts at sample 0
  biased    the live path with an initial prompt from a typical user vocabulary (none of it in the
            references): biasing must not hurt ordinary speech
WER is corpus-level (total errors / total reference words) after Whisper's English normaliser.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.audio.sources import read_wav_pcm
from assistant.bench.hearing import PRIMARY, Scorer, live
from assistant.bench.stats import DEFAULT_MANIFEST, read_manifest
from assistant.config.schema import Config
from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH, Transcript
from assistant.hearing.biasing import build_initial_prompt
from assistant.hearing.listen import Listener
from assistant.hearing.whisper import WhisperRecognizer

# What a user's config typically contributes: wake phrases, device names, command phrases, slot values.
TYPICAL_VOCABULARY = ["hey computer", "computer", "Lumière lamp", "Spotify", "Home Assistant", "living room",
                      "kitchen", "bedroom", "set a timer", "what time is it", "turn on", "turn off",
                      "volume up", "volume down", "next track", "pause the music"]


class PaddedRecognizer:
    """The recognizer with ``pad_s`` of digital silence before each utterance (the proposed change)."""

    def __init__(self, inner: WhisperRecognizer, pad_s: float) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.pad = bytes(int(pad_s * SAMPLE_RATE) * SAMPLE_WIDTH)

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        return self.inner.transcribe(self.pad + pcm, vad_filter=vad_filter, initial_prompt=initial_prompt)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--categories", default=",".join(PRIMARY), help="comma-separated manifest categories")
    parser.add_argument("--model", default="tiny.en", help="asr.model")
    parser.add_argument("--engine", default="webrtc", choices=["webrtc", "silero", "both"], help="vad.engine")
    parser.add_argument("--realtime", action="store_true", help="pace the live path like a microphone")
    parser.add_argument("--pad-s", type=float, default=0.0, help="add the 'padded' pass with this lead-in silence")
    parser.add_argument("--no-biased", action="store_true", help="skip the biased pass")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    config = Config()
    config.asr.model = args.model
    recognizer = WhisperRecognizer(config.asr)
    listener = Listener(engine=args.engine)
    prompt = build_initial_prompt(TYPICAL_VOCABULARY)
    scorer = Scorer()
    rows = read_manifest(args.manifest, args.categories.split(","))
    passes = ["offline", "live"] + (["padded"] if args.pad_s > 0 else []) + ([] if args.no_biased else ["biased"])
    padded = PaddedRecognizer(recognizer, args.pad_s)
    totals: dict[str, dict[str, list[int]]] = {p: defaultdict(lambda: [0, 0]) for p in passes}
    files: list[dict[str, Any]] = []
    started = time.monotonic()
    for row in rows:
        result: dict[str, Any] = {"file": str(row.path.relative_to(args.manifest.parent)),
                                  "category": row.category, "reference": row.reference}
        hyps = {"offline": recognizer.transcribe(read_wav_pcm(row.path)).text}
        for name, pass_prompt in (("live", None), ("padded", None), ("biased", prompt)):
            if name not in passes:
                continue
            requests, segments = [], []
            pass_recognizer = padded if name == "padded" else recognizer
            for heard in live(row.path, config, pass_recognizer, prompt=pass_prompt, realtime=args.realtime,
                              confirm=listener.confirm_speech):
                decision = listener.accept(heard.transcript, heard.utterance, heard.utterance.ended_at)
                segments += [{"no_speech_prob": round(s.no_speech_prob, 3), "avg_logprob": round(s.avg_logprob, 3),
                              "compression_ratio": round(s.compression_ratio, 3), "voiced_s": heard.utterance.voiced_s,
                              "text": s.text, "dropped": decision.reason if decision.request is None else None}
                             for s in heard.transcript.segments]
                if decision.request is not None:
                    requests.append(decision.request)
            hyps[name] = " ".join(requests)
            result[f"{name}_segments"] = segments
        for name in passes:
            errors, words = scorer.errors(row.reference, hyps[name])
            for key in (row.category, "all"):
                totals[name][key][0] += errors
                totals[name][key][1] += words
            result[name] = {"text": hyps[name], "errors": errors, "words": words}
        files.append(result)
        print(f"{result['file']:<66} " + "  ".join(f"{p} {result[p]['errors']}/{result[p]['words']}" for p in passes),
              file=sys.stderr)

    categories = [*sorted(k for k in totals["offline"] if k != "all"), "all"]
    table = {c: {p: round(100 * totals[p][c][0] / max(1, totals[p][c][1]), 2) for p in passes} for c in categories}
    print(f"\nWER % ({args.model}, vad.engine {args.engine}, live path {'real-time' if args.realtime else 'unpaced'})")
    print(f"{'category':<24}{'files':>6}{'words':>7}" + "".join(f"{p:>10}" for p in passes))
    for c in categories:
        n = len(rows) if c == "all" else sum(r.category == c for r in rows)
        print(f"{c:<24}{n:>6}{totals['offline'][c][1]:>7}" + "".join(f"{table[c][p]:>10.2f}" for p in passes))
    print(f"({time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"model": args.model, "engine": args.engine, "realtime": args.realtime,
                                         "pad_s": args.pad_s, "prompt": prompt, "wer_percent": table,
                                         "files": files}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
