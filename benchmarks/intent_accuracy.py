"""Intent accuracy through ASR + matching, on real and synthesised spoken commands in noise.

The evaluation set:
- real recordings from ../shared/speech (the command-like ones; most are *not* commands of the example
  configs and must fall through to the LLM, which measures false accepts);
- espeak-ng voices speaking the example configs' commands and non-commands, resampled to 16 kHz with sox
  and mixed with the real noise recordings of ../shared/speech at a random 10-20 dB SNR.

Each utterance goes through the daemon's own recognizer (faster-whisper tiny.en int8 on the CPU, with the
initial prompt the daemon builds from the configured commands; ``--no-bias`` leaves it out) and the router
built from config/examples/home-assistant.yaml + config/examples/desktop-commands.yaml (dry run: nothing
executes).
A command is correct when both its intent and its slot values are right; a non-command is correct when
nothing matches.

    .venv/bin/python benchmarks/intent_accuracy.py [--speech-dir ../shared/speech] [--voices en-us,en-gb]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.app.router import build_router
from assistant.audio.sources import read_wav_pcm
from assistant.config.commands import CommandsConfig, SkillsConfig
from assistant.config.schema import Config, expand_env
from assistant.hearing.end_of_turn import judge
from assistant.hearing.speculative import takes_guess

REPO = Path(__file__).resolve().parent.parent
LIVING, KITCHEN, BEDROOM, HALL = "light.living_room", "light.kitchen", "light.bedroom", "light.hallway"

# (text to speak, expected intent or None, expected slots)
SPOKEN: list[tuple[str, str | None, dict[str, Any]]] = [
    ("turn on the kitchen lights", "light_power", {"state": "on", "room": KITCHEN}),
    ("turn off the bedroom light", "light_power", {"state": "off", "room": BEDROOM}),
    ("switch on the hallway lights", "light_power", {"state": "on", "room": HALL}),
    ("turn the living room lights off", "light_power", {"state": "off", "room": LIVING}),
    ("turn on the lounge lamp", "light_power", {"state": "on", "room": LIVING}),
    ("set the bedroom light to fifty percent", "light_brightness", {"room": BEDROOM, "brightness": 50}),
    ("dim the kitchen lights to twenty percent", "light_brightness", {"room": KITCHEN, "brightness": 20}),
    ("start the movie night scene", "scene", {"scene": "scene.movie_night"}),
    ("activate the dinner scene", "scene", {"scene": "scene.dinner"}),
    ("open the garage door", "garage_open", {}),
    ("lock the screen", "lock_screen", {}),
    ("what's the uptime", "uptime", {}),
    ("set the system volume to thirty percent", "system_volume", {"percent": 30}),
    ("how much memory is free", "free_memory", {}),
    ("free space on the home drive", "free_disk", {"mount": "/home"}),
    ("what time is it", "time", {}),
    ("what's the date today", "date", {}),
    ("set a timer for five minutes", "timer.set", {"timer_duration": 300}),
    ("set a timer for ten minutes", "timer.set", {"timer_duration": 600}),
    ("set a timer for one hour", "timer.set", {"timer_duration": 3600}),
    ("cancel the timer", "timer.cancel", {}),
    ("how long is left on the timer", "timer.remaining", {}),
    ("wake me up at seven thirty am", "alarm.set", {"alarm_time": "07:30"}),
    ("set an alarm for six am", "alarm.set", {"alarm_time": "06:00"}),
    ("stop", "stop", {}),
    ("never mind", "stop", {}),
    ("repeat that", "repeat", {}),
    ("what can you do", "help", {}),
    ("louder", "volume.up", {}),
    ("turn the volume down", "volume.down", {}),
    # Not commands: these must reach the LLM.
    ("tell me a joke", None, {}),
    ("who is the president of france", None, {}),
    ("play some jazz music", None, {}),
    ("what should I cook for dinner tonight", None, {}),
    ("how far away is the moon", None, {}),
    ("turn left at the next corner", None, {}),
]

# Real recordings from ../shared/speech: file -> expected (intent, slots).
RECORDED: dict[str, tuple[str | None, dict[str, Any]]] = {
    "wyoming-faster-whisper/turn_on_the_living_room_lamp.wav": ("light_power", {"state": "on", "room": LIVING}),
    "azure-speech-samples/whatstheweatherlike.wav": (None, {}),
    "azure-speech-samples/kws_computer_whatstheweatherlike.wav": (None, {}),
    "google-speech-samples/brooklyn_bridge.wav": (None, {}),
    "pocketsphinx-tests/goforward.wav": (None, {}),
    "google-speech-samples/dialogflow_book_a_room.wav": (None, {}),
    "google-speech-samples/dialogflow_half_an_hour.wav": (None, {}),
    "google-speech-samples/dialogflow_230pm.wav": (None, {}),
    "google-speech-samples/dialogflow_mountain_view.wav": (None, {}),
    "speech_recognition/english_one_two_three.wav": (None, {}),
    "tflite-micro-speech/yes_1000ms.wav": (None, {}),
    "tflite-micro-speech/no_1000ms.wav": (None, {}),
}
NOISES = ["speechbrain-tests/speechbrain_noise1.wav", "speechbrain-tests/speechbrain_noise2.wav",
          "speechbrain-tests/speechbrain_noise3.wav", "speechbrain-tests/speechbrain_noise4.wav",
          "speechbrain-tests/speechbrain_noise5.wav", "picovoice-leopard/picovoice_empty_noise.wav"]


@dataclass
class Case:
    name: str
    audio: np.ndarray  # float32, 16 kHz mono
    intent: str | None
    slots: dict[str, Any]


def read_wav(path: Path) -> np.ndarray:
    return np.frombuffer(read_wav_pcm(path), dtype=np.int16).astype(np.float32) / 32768


def synthesise(text: str, voice: str, tmp: Path) -> np.ndarray:
    raw, resampled = tmp / "espeak.wav", tmp / "16k.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(resampled)], check=True)
    return read_wav(resampled)


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float, rng: random.Random) -> np.ndarray:
    padded = np.concatenate([np.zeros(4800, np.float32), speech, np.zeros(4800, np.float32)])
    start = rng.randrange(0, max(1, len(noise) - len(padded)))
    segment = np.resize(noise[start:start + len(padded)], len(padded))
    speech_power = float(np.mean(speech ** 2))
    noise_power = float(np.mean(segment ** 2)) or 1e-12
    scale = np.sqrt(speech_power / (noise_power * 10 ** (snr_db / 10)))
    mixed = padded + scale * segment
    return (mixed / max(1.0, float(np.max(np.abs(mixed))))).astype(np.float32)


def build_cases(speech_dir: Path, voices: list[str], rng: random.Random, snr: tuple[float, float]) -> list[Case]:
    noises = [read_wav(speech_dir / n) for n in NOISES]
    cases = [Case(f"recorded:{name}", read_wav(speech_dir / name), intent, slots)
             for name, (intent, slots) in RECORDED.items()]
    with tempfile.TemporaryDirectory() as tmp:
        for voice in voices:
            for text, intent, slots in SPOKEN:
                snr_db = rng.uniform(*snr)
                audio = mix(synthesise(text, voice, Path(tmp)), rng.choice(noises), snr_db, rng)
                cases.append(Case(f"{voice}@{snr_db:.0f}dB:{text}", audio, intent, slots))
    return cases


def example_config(tmp: Path) -> tuple[Config, Path]:
    """Both example configs as one: home automation over HTTP plus desktop commands (with their includes)."""
    home = yaml.safe_load((REPO / "config/examples/home-assistant.yaml").read_text())
    desktop = yaml.safe_load((REPO / "config/examples/desktop-commands.yaml").read_text())
    commands = {"slots": {**home["commands"]["slots"], **desktop["commands"]["slots"]},
                "commands": home["commands"]["commands"] + desktop["commands"]["commands"],
                "include": desktop["commands"]["include"]}

    class ExampleConfig(Config):
        commands: CommandsConfig = CommandsConfig()
        skills: SkillsConfig = SkillsConfig()

    data = {"commands": commands, "skills": {"timers_file": str(tmp / "timers.json")}}
    return ExampleConfig.model_validate(expand_env(data)), REPO / "config/examples/desktop-commands.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech-dir", type=Path, default=REPO.parent / "shared" / "speech")
    parser.add_argument("--voices", default="en-us,en-gb,en-us+f3", help="espeak-ng voices, comma separated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--snr", default="10,20", help="SNR range in dB for the synthesised commands, e.g. 30,40")
    parser.add_argument("--no-bias", action="store_true",
                        help="no initial prompt from the configured commands (the daemon's asr.bias_vocabulary: false)")
    parser.add_argument("--no-rescore", action="store_true",
                        help="text matching only: near-miss commands are not scored against the audio")
    parser.add_argument("--model", default="tiny.en", help="asr.model: tiny.en, base (bundled), a path, ...")
    parser.add_argument("--json", type=Path, help="also write every utterance's outcome here")
    args = parser.parse_args()

    from assistant.hearing.listen import build_listener
    from assistant.hearing.whisper import WhisperRecognizer  # heavy: only when the benchmark runs

    rng = random.Random(args.seed)
    low, high = (float(v) for v in args.snr.split(","))
    cases = build_cases(args.speech_dir, args.voices.split(","), rng, (low, high))
    results = {"command": [0, 0], "non-command": [0, 0]}
    text_only = [0, 0]
    quick_used = [0, 0]  # short-window guesses the turn takes, of which right
    with_quick = [0, 0]  # right answers when such a guess is taken instead of the full transcript
    fuzzy_rescues = acoustic_rescues = 0
    asr_s: list[float] = []
    route_s: list[float] = []
    inexact_s: list[float] = []
    failures, rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        config, path = example_config(Path(tmp))
        config.asr.model = args.model
        recognizer = WhisperRecognizer(config.asr)
        router = build_router(config, config_path=path, dry_run=True)
        prompt = None if args.no_bias else build_listener(config, vocabulary=router.vocabulary()).initial_prompt
        for case in cases:
            pcm = (np.clip(case.audio, -1, 1) * 32767).astype("<i2").tobytes()
            transcript = recognizer.transcribe(pcm, initial_prompt=prompt)
            asr_s.append(transcript.asr_s)
            started = time.perf_counter()
            reply = router.route(transcript.text, None if args.no_rescore else transcript.scorer)
            route_s.append(time.perf_counter() - started)
            if reply.extra.get("exact") is not True:  # rescoring may have run: what it costs
                inexact_s.append(route_s[-1])
            got = (reply.intent if reply.handled_by in ("command", "skill") else None, reply.slots)
            ok = got == (case.intent, case.slots)
            # the end of turn's first guess (latency.adaptive_end): a short-window transcript not judged MORE
            # (trailing off) is what the turn uses (with the biasing prompt, only if it is a whole command)
            quick = recognizer.transcribe_quick(pcm)
            logprob = min((s.avg_logprob for s in quick.segments), default=None) if quick is not None else None
            verdict = judge(quick.text, router.is_complete_request, logprob) if quick is not None else None
            if quick is not None and verdict is not None and takes_guess(quick.text, verdict, bool(prompt),
                                                                         router.is_complete_request):
                guessed = router.route(quick.text)
                quick_right = (guessed.intent, guessed.slots) == (case.intent, case.slots)
                quick_used[0] += 1
                quick_used[1] += quick_right
                with_quick[0] += quick_right
                if not quick_right:
                    failures.append(f"  {case.name!r}: quick guess {quick.text!r} -> {guessed.intent} {guessed.slots}")
            else:
                with_quick[0] += ok
            with_quick[1] += 1
            bucket = results["command" if case.intent else "non-command"]
            bucket[0] += ok
            bucket[1] += 1
            acoustic = reply.extra.get("acoustic")
            acoustic_rescues += int(ok and acoustic is not None and case.intent is not None)
            fuzzy_rescues += int(ok and acoustic is None and reply.extra.get("exact") is False)
            if not case.name.startswith("recorded:"):
                spoken = case.name.split(":", 1)[1]
                typed = router.route(spoken)
                text_only[0] += (typed.intent if typed.handled_by != "fallback" else None) == case.intent
                text_only[1] += 1
            rows.append({"case": case.name, "heard": transcript.text, "intent": got[0], "slots": got[1], "ok": ok,
                         "expected": case.intent, "acoustic": acoustic})
            if not ok:
                failures.append(f"  {case.name!r}: heard {transcript.text!r} -> {got[0]} {got[1]} (score "
                                f"{reply.extra.get('score')}, acoustic {acoustic}), "
                                f"expected {case.intent} {case.slots}")
        router.close()
    total_ok = results["command"][0] + results["non-command"][0]
    total = results["command"][1] + results["non-command"][1]
    synthetic = total - len(RECORDED)
    print(f"utterances: {total} ({len(RECORDED)} recorded, {synthetic} espeak-ng in noise at {args.snr} dB SNR)")
    print(f"ASR: faster-whisper {config.asr.model} {config.asr.compute_type}, "
          f"prompt {'off' if args.no_bias else 'on'}: "
          f"median {1000 * statistics.median(asr_s):.0f} ms per utterance")
    print(f"routing{' (text only)' if args.no_rescore else ' with acoustic rescoring'}: median "
          f"{1000 * statistics.median(route_s):.1f} ms; not exact matches ({len(inexact_s)}): median "
          f"{1000 * statistics.median(inexact_s or [0]):.0f} ms, max {1000 * max(inexact_s or [0]):.0f} ms")
    for kind, (right, n) in results.items():
        print(f"{kind:<12} accuracy: {right}/{n} = {100 * right / n:.1f} %")
    print(f"overall      accuracy: {total_ok}/{total} = {100 * total_ok / total:.1f} %")
    print(f"the end of turn took the short-window guess (not judged MORE) on {quick_used[0]} utterances, right on "
          f"{quick_used[1]}; overall accuracy when those guesses are taken: {with_quick[0]}/{with_quick[1]} = "
          f"{100 * with_quick[0] / with_quick[1]:.1f} %")
    print(f"correct thanks to fuzzy matching: {fuzzy_rescues}; to acoustic rescoring: {acoustic_rescues}")
    print(f"same sentences typed (no ASR): {text_only[0]}/{text_only[1]}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if failures:
        print("errors:")
        print("\n".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
