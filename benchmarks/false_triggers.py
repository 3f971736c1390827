"""How many transcripts reach the router from noise and music, with and without the hearing guards.

    python benchmarks/false_triggers.py [--manifest ../shared/speech/manifest.tsv] [--json out.json]

Every file of the non-speech categories (nonspeech, nonspeech_music, mixed_speech_music) goes through
the daemon's endpointer; each utterance is transcribed once without and once with a typical biasing
prompt, then judged by several configurations:
  unguarded   today's pipeline: any non-empty transcript is routed
  webrtc      Listener guards, vad.engine webrtc (no second-stage VAD)
  silero      Listener guards + Silero must confirm speech before ASR
  both        Listener guards + Silero must confirm, and agree with webrtc on most of the voiced audio
Then the wake-phrase check: in `wake_phrase` mode the openwakeword negative reference speech must trigger
nothing, and each wake clip must trigger when its phrase is configured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.bench.hearing import NON_SPEECH, endpoint
from assistant.bench.stats import DEFAULT_MANIFEST, read_manifest
from assistant.config.hearing import ListenConfig
from assistant.config.schema import Config
from assistant.hearing.biasing import build_initial_prompt
from assistant.hearing.listen import Listener, prompt_for
from assistant.hearing.whisper import WhisperRecognizer

TYPICAL_VOCABULARY = ["hey computer", "computer", "Lumière lamp", "Spotify", "Home Assistant", "living room",
                      "kitchen", "set a timer", "what time is it", "turn on", "turn off", "next track"]
WAKE_CLIPS = {"openwakeword/alexa_test.wav": "alexa", "openwakeword/hey_mycroft_test.wav": "hey mycroft",
              "azure-speech-samples/kws_computer_whatstheweatherlike.wav": "computer"}
NEGATIVE = "openwakeword/negative_reference.wav"


def judge(config: Config, recognizer: WhisperRecognizer, path: Path, prompt: str | None) -> list[dict[str, Any]]:
    listeners = {name: Listener(guards=config.guards, engine=name) for name in ("webrtc", "silero", "both")}
    out = []
    for utterance in endpoint(path, config):
        transcript = recognizer.transcribe(utterance.pcm, initial_prompt=prompt)
        verdicts: dict[str, str | None] = {"unguarded": transcript.text or None}
        for name, listener in listeners.items():
            reason = listener.confirm_speech(utterance)
            decision = None if reason else listener.accept(transcript, utterance, utterance.ended_at)
            verdicts[name] = decision.request if decision else None
        out.append({"start_s": round(utterance.start_s, 2), "end_s": round(utterance.end_s, 2),
                    "voiced_s": round(utterance.voiced_s, 2), "text": transcript.text,
                    "segments": [[round(s.no_speech_prob, 3), round(s.avg_logprob, 3), round(s.compression_ratio, 3)]
                                 for s in transcript.segments],
                    "routed": verdicts})
    return out


def wake_check(config: Config, recognizer: WhisperRecognizer, root: Path) -> list[dict[str, Any]]:
    phrases = ["hey computer", *sorted(set(WAKE_CLIPS.values()))]
    listen = ListenConfig(mode="wake_phrase", wake_phrases=phrases)
    # the prompt build_listener makes for this config (wake phrases first, then the user's vocabulary)
    prompt = prompt_for(listen, vocabulary=[t for t in TYPICAL_VOCABULARY if "computer" not in t])
    results = []
    for name in [*WAKE_CLIPS, NEGATIVE]:
        listener = Listener(listen, config.guards, engine="both", initial_prompt=prompt)
        outcomes = []
        for utterance in endpoint(root / name, config):
            transcript = recognizer.transcribe(utterance.pcm, initial_prompt=listener.initial_prompt)
            decision = listener.accept(transcript, utterance, utterance.ended_at)
            triggered = decision.request is not None or decision.reason.startswith("wake phrase only")
            outcomes.append({"text": transcript.text, "triggered": triggered, "reason": decision.reason})
        results.append({"prompt": prompt, "file": name, "expected": WAKE_CLIPS.get(name), "utterances": outcomes,
                        "triggered": any(o["triggered"] for o in outcomes)})
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--silero-min-fraction", type=float, help="override guards.silero_min_fraction")
    args = parser.parse_args()
    config = Config()
    config.asr.model = args.model
    if args.silero_min_fraction is not None:
        config.guards.silero_min_fraction = args.silero_min_fraction
    recognizer = WhisperRecognizer(config.asr)
    prompt = build_initial_prompt(TYPICAL_VOCABULARY)
    names = ["unguarded", "webrtc", "silero", "both"]
    report: dict[str, Any] = {"model": args.model, "prompt": prompt, "files": []}
    print(f"{'file':<58}{'category':<20}{'utts':>5}" + "".join(f"{n:>10}" for n in names) + "   (plain / prompted)")
    totals = {(n, p): 0 for n in names for p in ("plain", "prompted")}
    for row in read_manifest(args.manifest, NON_SPEECH):
        entry: dict[str, Any] = {"file": str(row.path.relative_to(args.manifest.parent)), "category": row.category}
        for label, pass_prompt in (("plain", None), ("prompted", prompt)):
            entry[label] = judge(config, recognizer, row.path, pass_prompt)
        counts = {}
        for n in names:
            for label in ("plain", "prompted"):
                count = sum(u["routed"][n] is not None for u in entry[label])
                counts[f"{n}/{label}"] = count
                if row.category != "mixed_speech_music":
                    totals[(n, label)] += count
        entry["routed_counts"] = counts
        report["files"].append(entry)
        print(f"{entry['file'][-57:]:<58}{row.category:<20}{len(entry['plain']):>5}"
              + "".join(f"{counts[n + '/plain']:>6}/{counts[n + '/prompted']:<3}" for n in names))
    print(f"{'TOTAL routed from the 13 noise/music files':<83}"
          + "".join(f"{totals[(n, 'plain')]:>6}/{totals[(n, 'prompted')]:<3}" for n in names))
    report["totals_non_speech"] = {f"{n}/{p}": v for (n, p), v in totals.items()}
    report["wake"] = wake_check(config, recognizer, args.manifest.parent)
    print("\nwake_phrase mode, vad.engine both")
    for w in report["wake"]:
        texts = "; ".join(f"{o['text']!r} -> {o['reason']}" for o in w["utterances"])
        print(f"  {w['file']:<58} triggered={w['triggered']!s:<5} expected={w['expected'] is not None!s:<5} {texts}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
