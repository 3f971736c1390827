"""Routing time: transcript -> intent for a config with 200 templates (plus the built-in skills).

Prints the median and 95th percentile per kind of transcript: exact matches, near-misses that the fuzzy
matcher rescues, and requests no command handles (these go to the LLM, after the full fuzzy search).

    .venv/bin/python benchmarks/routing.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

from assistant.app.router import build_router
from assistant.config.commands import CommandsConfig, SkillsConfig
from assistant.config.schema import Config

DEVICES = ["lamp", "fan", "heater", "speaker", "tv", "radio", "printer", "kettle", "blinds", "camera"]
ROOMS = {"living room": ["lounge"], "kitchen": [], "bedroom": [], "office": ["study"], "hall": ["hallway"],
         "bathroom": [], "garage": [], "garden": ["yard"]}
VERBS = ["start", "stop", "check", "reset", "pause"]


def benchmark_config(tmp: Path) -> Config:
    """50 commands x 4 templates = 200 templates, with list and number slots."""
    commands = []
    for i in range(50):
        device = DEVICES[i % len(DEVICES)]
        verb = VERBS[i // len(DEVICES)]
        commands.append({
            "name": f"{verb}_{device}",
            "templates": [f"{verb} the {{room}} {device}", f"{verb} [the] {device} in the {{room}}",
                          f"please {verb} the {device}", f"{verb} the {device} for {{minutes}} minutes"],
            "action": {"type": "say", "reply": f"{verb} {device}"},
        })
    data = {"commands": {"slots": {"room": {"type": "list", "values": ROOMS},
                                   "minutes": {"type": "number", "min": 1, "max": 120}},
                         "commands": commands},
            "skills": {"timers_file": str(tmp / "timers.json")}}

    class BenchConfig(Config):
        commands: CommandsConfig = CommandsConfig()
        skills: SkillsConfig = SkillsConfig()

    return BenchConfig.model_validate(data)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    import tempfile

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        config = benchmark_config(Path(tmp))
        started = time.perf_counter()
        router = build_router(config, dry_run=True)
        build_s = time.perf_counter() - started
        rooms = list(ROOMS)
        exact = [f"{VERBS[i // 10]} the {rng.choice(rooms)} {DEVICES[i % 10]}" for i in rng.choices(range(50), k=300)]
        # One ASR-style slip each: a misheard word, a dropped word, or a misheard slot value.
        slips = [lambda t: t.replace("the", "de", 1), lambda t: t.replace(" the", "", 1),
                 lambda t: t.replace(t.split()[-1], t.split()[-1] + "s"), lambda t: t.replace("room", "rum")]
        fuzzy = [slips[i % len(slips)](t) for i, t in enumerate(exact[:150])]
        unmatched = ["what's the weather like tomorrow", "tell me a joke about penguins",
                     "how old is the brooklyn bridge", "who wrote pride and prejudice",
                     "can you explain how a heat pump works", "what should i cook tonight"] * 25
        kinds = {"exact": exact, "near-miss": fuzzy, "unmatched (to LLM)": unmatched}
        user = sum(len(i.templates) for i in router.matcher.intents[:50])
        builtin = sum(len(i.templates) for i in router.matcher.intents[50:])
        print(f"router built in {build_s * 1000:.0f} ms; templates: {user} configured + {builtin} built-in")
        print(f"{'transcripts':<22}{'n':>5}{'matched':>9}{'median ms':>11}{'p95 ms':>9}")
        for kind, texts in kinds.items():
            times, matched = [], 0
            for text in texts:
                t0 = time.perf_counter()
                reply = router.route(text)
                times.append((time.perf_counter() - t0) * 1000)
                matched += reply.handled_by == "command"
            median, p95 = statistics.median(times), percentile(times, 0.95)
            print(f"{kind:<22}{len(texts):>5}{matched:>9}{median:>11.2f}{p95:>9.2f}")
        router.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
