"""Property tests: adversarial transcripts can only select configured commands with in-domain slot values.

Transcripts mix command words with shell metacharacters, command substitution, template syntax, newlines,
unicode confusables and very long strings. Whatever is heard, a match names a configured intent, every
slot value lies in its declared domain, and the only program that ever runs is the configured one with
arguments built from those values.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.app.router import build_router
from assistant.brain.router import Router
from support.config import make_config

ROOMS = {"light.kitchen": ["kitchen"], "light.living_room": ["living room", "lounge"], "light.hall": ["hall"]}
CANONICAL_ROOMS = set(ROOMS)
PWNED = Path("/tmp") / f"assistant-pwned-{uuid.uuid4().hex}"

WORDS = ["turn", "on", "off", "the", "light", "lights", "kitchen", "living", "room", "lounge", "hall", "set", "to",
         "percent", "brightness", "for", "minutes", "timer", "a", "and", "5", "50", "100", "101", "-1", "forty",
         "two", "hundred", "wait", "please", "stop", "yes"]
PAYLOADS = ["; rm -rf /", f"; touch {PWNED}", f"$(touch {PWNED})", f"`touch {PWNED}`", "| sh", "&& reboot", "\n",
            "\r\n", "\x00", "{room}", "{level}", "{stdout}", "[", "]", "(", ")", "|", "{", "}", "%s", "{0}", "${HOME}",
            "../../etc/passwd", "kitchen; rm", "kіtchen", "ｋｉｔｃｈｅｎ", "lоunge", "50%; ls", "1e9", "0x32", "NaN",
            "−5", "٥٠", "５０", "'", '"', "\\", "*", "?", "~", "--help", "-rf"]

transcripts = st.one_of(
    st.text(max_size=120),
    st.lists(st.sampled_from(WORDS + PAYLOADS), max_size=16).map(" ".join),
    st.lists(st.sampled_from(WORDS + PAYLOADS), max_size=16).map("".join),
    st.builds(lambda a, b, c: f"{a} {b} {c}", st.sampled_from(["turn on the", "set the", "dim the"]),
              st.sampled_from(PAYLOADS + WORDS), st.sampled_from(["light", "lights to 50", "light to 50 percent"])),
    st.integers(min_value=1000, max_value=20000).map(lambda n: "turn on the " + "kitchen " * (n // 8)),
)


RECORD = "import json, sys; open(sys.argv[1], 'a').write(json.dumps(sys.argv[2:]) + '\\n')"


def _config(recorder_log: Path) -> dict[str, Any]:
    argv = [sys.executable, "-c", RECORD, str(recorder_log)]
    return {"commands": {
        "slots": {"room": {"type": "list", "values": ROOMS}, "level": {"type": "number", "min": 0, "max": 100},
                  "state": {"type": "list", "values": {"on": [], "off": []}},
                  "wait": {"type": "duration", "min_s": 1, "max_s": 600}},
        "commands": [
            {"name": "power", "templates": ["turn {state} the {room} light[s]"],
             "action": {"type": "exec", "argv": [*argv, "power", "{state}", "{room}"]}},
            {"name": "dim", "templates": ["(set|dim) the {room} light[s] to {level} [percent]"],
             "action": {"type": "exec", "argv": [*argv, "dim", "{room}", "level={level}"]}},
            {"name": "later", "templates": ["wait for {wait}"],
             "action": {"type": "exec", "argv": [*argv, "later", "{wait}"]}},
            {"name": "web", "templates": ["ping the {room}"],
             "action": {"type": "http", "url": "http://127.0.0.1:9/rooms/{room}", "json_body": {"r": "{room}"}}},
        ]}}


def _router(tmp: Path, dry_run: bool) -> tuple[Router, Path]:
    log = tmp / "argv.log"
    config = make_config({**_config(log), "skills": {"timers_file": str(tmp / "timers.json")}})
    return build_router(config, config_path=tmp / "config.yaml", dry_run=dry_run), log


def _allowed(args: list[str]) -> bool:
    """Arguments the recorder may receive: a configured form filled with in-domain values."""
    kind, *rest = args
    if kind == "power":
        return len(rest) == 2 and rest[0] in ("on", "off") and rest[1] in CANONICAL_ROOMS
    if kind == "dim":
        return (len(rest) == 2 and rest[0] in CANONICAL_ROOMS and rest[1].startswith("level=")
                and rest[1][6:].isdigit() and 0 <= int(rest[1][6:]) <= 100)
    if kind == "later":
        return len(rest) == 1 and rest[0].isdigit() and 1 <= int(rest[0]) <= 600
    return False


def _slots_in_domain(intent: str | None, slots: dict[str, Any]) -> bool:
    checks = {"room": lambda v: v in CANONICAL_ROOMS, "state": lambda v: v in ("on", "off"),
              "level": lambda v: isinstance(v, int) and 0 <= v <= 100,
              "wait": lambda v: isinstance(v, int | float) and 1 <= v <= 600,
              "timer_duration": lambda v: isinstance(v, int | float) and 1 <= v <= 7 * 86400,
              "alarm_time": lambda v: isinstance(v, str) and len(v) == 5 and v[2] == ":"}
    return all(name in checks and checks[name](value) for name, value in slots.items())


ROUTER_DRY, _ = _router(Path("/tmp") / f"assistant-safety-{uuid.uuid4().hex}", dry_run=True)
INTENTS = {"power", "dim", "later", "web"}
# skills that answer, never act
ANSWERS = {"calendar", "world_clock", "math", "convert", "spell", "small_talk", "live_data"}


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(transcripts)
def test_any_transcript_selects_only_configured_commands_with_in_domain_values(text: str) -> None:
    reply = ROUTER_DRY.route(text)
    assert reply.handled_by in ("command", "skill", "fallback")
    if reply.handled_by == "skill" and (reply.intent or "").split(".")[0] in ANSWERS:
        assert reply.action is None, (text, reply)  # a sum, a date or an honest refusal: it acts on nothing
        return
    assert _slots_in_domain(reply.intent, reply.slots), (text, reply)
    if reply.handled_by == "command":
        assert reply.intent in INTENTS
        action = reply.action or {}
        if action.get("type") == "exec":
            assert action["argv"][:3] == [sys.executable, "-c", RECORD]
            assert _allowed(action["argv"][4:]), (text, action)
        elif action.get("type") == "http":
            room = action["url"].rsplit("/", 1)[1]
            assert action["url"].startswith("http://127.0.0.1:9/rooms/") and room in CANONICAL_ROOMS


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(transcripts, st.sampled_from(["turn on the lounge lights; rm -rf /", "dim the kitchen to 100",
                                               f"turn off the hall light $(touch {PWNED})"])))
def test_programs_that_really_run_get_only_configured_in_domain_arguments(text: str) -> None:
    router, log = REAL
    router.route(text)
    assert not PWNED.exists()
    if log.exists():
        for line in log.read_text().splitlines():
            assert _allowed(json.loads(line)), (text, line)


REAL = _router(Path("/tmp") / f"assistant-safety-{uuid.uuid4().hex}", dry_run=False)


def test_known_attacks_run_nothing_or_only_the_configured_form(tmp_path: Path) -> None:
    router, log = _router(tmp_path, dry_run=False)
    for attack in ("turn on the kitchen light; touch " + str(PWNED), "turn on the $(touch x) light",
                   "turn on the `id` light", "turn on the {room} light", "turn on the kitchen\nlight",
                   "dim the kitchen light to 1000", "dim the kitchen light to -5", "dim the kitchen light to 2.5"):
        router.route(attack)
    assert not PWNED.exists()
    ran = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    assert all(_allowed(args) for args in ran)
    # The one that only adds a newline is still a legitimate request, so it did run.
    assert ["power", "on", "light.kitchen"] in ran
    assert not any(args[0] == "dim" for args in ran)
