"""Built-in skills: time, date, timers and alarms (persisted, announced), stop, repeat, help, volume."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from pathlib import Path

from assistant.app.router import build_router
from assistant.brain.router import Router
from assistant.brain.skills import Skills, SkillState, next_occurrence
from assistant.brain.timers import Timer, TimerStore
from support.config import make_config

MONDAY_MORNING = datetime(2026, 3, 2, 9, 5)


def skills_router(tmp_path: Path, now: datetime = MONDAY_MORNING, epoch: float = 1_000_000.0) -> Router:
    """A router whose skills see a fixed wall clock and epoch, with timers in tmp_path."""
    from assistant.brain.intents import CommandSet, build_matcher
    from assistant.config.commands import SKILL_NAMES
    from assistant.config.schema import RouterConfig

    store = TimerStore(tmp_path / "timers.json", announce=lambda t: None, clock=lambda: epoch)
    skills = Skills(SkillState(volume=0.5, volume_step=0.2), store, clock=lambda: now, epoch=lambda: epoch)
    return Router(RouterConfig(), matcher=build_matcher(CommandSet(), SKILL_NAMES), skills=skills)


def test_time_and_date(tmp_path: Path) -> None:
    router = skills_router(tmp_path)
    assert router.route("What time is it?").text == "It's 9:05 AM."
    assert router.route("what's the date today").text == "Today is Monday, March 2, 2026."
    assert router.route("What time is it?").handled_by == "skill"


def test_timer_set_remaining_cancel_and_persistence(tmp_path: Path) -> None:
    router = skills_router(tmp_path)
    reply = router.route("Set a timer for 5 minutes.")
    assert (reply.intent, reply.slots, reply.text) == ("timer.set", {"timer_duration": 300}, "Timer set for 5 minutes.")
    saved = json.loads((tmp_path / "timers.json").read_text())
    assert [(t["kind"], t["due"], t["label"]) for t in saved] == [("timer", 1_000_300.0, "5 minutes")]
    later = skills_router(tmp_path, epoch=1_000_100.0)  # a restart 100 s later reads the same file
    assert later.route("how long is left").text == "3 minutes and 20 seconds left."
    assert later.route("cancel the timer").text == "Cancelled the timer."
    assert later.route("how much time is left").text == "There's no timer running."
    assert json.loads((tmp_path / "timers.json").read_text()) == []


def test_alarm_is_set_for_the_next_occurrence(tmp_path: Path) -> None:
    router = skills_router(tmp_path)
    assert router.route("Wake me up at 7:30 a.m.").text == "Alarm set for 7:30 AM tomorrow."
    assert router.route("set an alarm for seven thirty pm").text == "Alarm set for 7:30 PM today."
    assert next_occurrence(MONDAY_MORNING, "09:05") == datetime(2026, 3, 3, 9, 5)
    assert router.route("cancel all my alarms").text == "Cancelled 2 alarms."


def test_due_timer_is_announced_by_the_background_thread(tmp_path: Path) -> None:
    heard: list[Timer] = []
    done = threading.Event()

    def announce(timer: Timer) -> None:
        heard.append(timer)
        done.set()

    store = TimerStore(tmp_path / "t.json", announce)
    store.start()
    try:
        store.add("timer", time.time() + 0.3, "1 second")
        assert done.wait(5)
    finally:
        store.close()
    assert [t.label for t in heard] == ["1 second"]
    assert json.loads((tmp_path / "t.json").read_text()) == []


def test_timer_that_fell_due_while_down_is_announced_at_start(tmp_path: Path) -> None:
    path = tmp_path / "timers.json"
    TimerStore(path, announce=lambda t: None).add("timer", time.time() - 30, "10 minutes")
    spoken: list[str] = []
    done = threading.Event()
    config = make_config({"skills": {"timers_file": str(path)}})

    def speak(text: str) -> None:
        spoken.append(text)
        done.set()

    router = build_router(config, speak=speak)
    assert not done.wait(0.2)  # announcing starts when the router is put in use, not when it is built
    router.start()
    try:
        assert done.wait(5)
    finally:
        router.close()
    assert spoken == ["Your 10 minutes timer is done."]


def test_stop_repeat_volume_and_help(tmp_path: Path) -> None:
    router = skills_router(tmp_path)
    assert router.route("repeat that").text == "I haven't said anything yet."
    router.route("what time is it")
    stop = router.route("Never mind.")
    assert (stop.intent, stop.action, stop.text) == ("stop", {"type": "stop"}, "")
    assert router.route("say that again").text == "It's 9:05 AM."
    louder = router.route("louder")
    assert louder.action == {"type": "volume", "level": 0.7}
    assert router.route("turn it up").action == {"type": "volume", "level": 0.9}
    assert router.route("volume up").action == {"type": "volume", "level": 1.0}
    assert router.route("quieter").action == {"type": "volume", "level": 0.8}
    assert "timers" in router.route("what can you do").text


def test_help_lists_configured_commands(tmp_path: Path) -> None:
    config = make_config({"commands": {"commands": [
        {"name": "hello", "description": "say hello", "templates": ["say hello"], "action": {"reply": "Hello!"}},
    ]}, "skills": {"timers_file": str(tmp_path / "t.json")}})
    router = build_router(config)
    assert "say hello" in router.route("what can you do").text
    assert router.route("say hello").text == "Hello!"


def test_disabled_skills_do_not_answer(tmp_path: Path) -> None:
    config = make_config({"skills": {"enabled": ["time"], "timers_file": str(tmp_path / "t.json")}})
    router = build_router(config)
    assert router.route("what time is it").intent == "time"
    assert router.route("set a timer for 5 minutes").handled_by == "fallback"
