"""Built-in skills: time, date, timers and alarms, stop, repeat, help, volume.

Each skill is a set of templates (matched like user commands) and a handler that returns a Reply. Effects
on the pipeline itself travel in ``Reply.action`` (see :mod:`assistant.brain.router`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from assistant.brain.slots import DurationSlotType, SlotType, TimeOfDaySlotType
from assistant.brain.text import say_clock, say_duration
from assistant.brain.timers import Timer, TimerStore
from assistant.config.speakers import display_name
from assistant.events import Reply

Clock = Callable[[], datetime]

# Slot names the built-ins use; user slots may not reuse them.
BUILTIN_SLOTS: dict[str, SlotType] = {
    "timer_duration": DurationSlotType(min_s=1, max_s=7 * 86400),
    "alarm_time": TimeOfDaySlotType(),
}

# skill (as enabled in config) -> intent name -> templates
TEMPLATES: dict[str, dict[str, list[str]]] = {
    "time": {"time": ["what time is it [now]", "what's the time [now]", "what is the time [now]",
                      "tell me the time", "[do you know] what time it is", "time"]},
    "date": {"date": ["what's the date [today]", "what is the date [today]", "what day is (it|today)",
                      "what's today's date", "what is today's date", "(today's|the) date", "what's today"]},
    "timers": {
        "timer.set": ["set a timer for {timer_duration}", "(set|start) a {timer_duration} timer",
                      "timer for {timer_duration}", "remind me in {timer_duration}"],
        "timer.cancel": ["(cancel|stop|delete|remove) (the|my|all|all the|all my) timer[s]", "cancel timer[s]"],
        "timer.remaining": ["how (long|much time) is left [on (the|my) timer]", "how long (left|remains)",
                            "how much time (is left|remains) [on (the|my) timer]", "time left [on the timer]"],
        "alarm.set": ["set an alarm (for|at) {alarm_time}", "wake me [up] at {alarm_time}",
                      "alarm (for|at) {alarm_time}"],
        "alarm.cancel": ["(cancel|stop|delete|remove) (the|my|all|all the|all my) alarm[s]"],
    },
    "stop": {"stop": ["stop", "cancel", "never mind", "nevermind", "forget it", "be quiet", "quiet",
                      "shut up", "stop talking", "that's enough", "silence"]},
    "repeat": {"repeat": ["repeat [that|please|the last answer]", "say (that|it) again", "what did you say",
                          "come again", "pardon", "sorry what"]},
    "help": {"help": ["what can you do", "what (commands|things) do you (know|understand)", "help"]},
    "volume": {
        "volume.up": ["louder", "volume up", "turn (it|the volume) up", "speak up", "(increase|raise) [the] volume"],
        "volume.down": ["quieter", "[be] softer", "volume down", "turn (it|the volume) down",
                        "(decrease|lower) [the] volume"],
    },
}


def say_time(now: datetime) -> str:
    return f"It's {say_clock(now)}."


def say_date(now: datetime) -> str:
    return f"Today is {now.strftime('%A')}, {now.strftime('%B')} {now.day}, {now.year}."


def next_occurrence(now: datetime, hhmm: str) -> datetime:
    hour, minute = (int(p) for p in hhmm.split(":"))
    due = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return due if due > now else due + timedelta(days=1)


def announcement(timer: Timer) -> str:
    """What a due timer says; one an enrolled person set says whose it is."""
    alarm = timer.kind == "alarm"
    text = f"It's {timer.label}. This is your alarm." if alarm else f"Your {timer.label} timer is done."
    return text if timer.owner is None else f"{display_name(timer.owner)}, {text[0].lower()}{text[1:]}"


@dataclass
class SkillState:
    volume: float
    volume_step: float
    last_reply: str = ""
    command_help: list[str] = field(default_factory=list)  # one phrase per configured command


class Skills:
    """Answers built-in intents. ``timers`` may be None when the timers skill is disabled."""

    def __init__(self, state: SkillState, timers: TimerStore | None, clock: Clock = datetime.now,
                 epoch: Callable[[], float] = time.time) -> None:
        self.state = state
        self._timers = timers
        self._clock = clock
        self._epoch = epoch
        self._speaker: str | None = None  # who asked for the request being handled
        self._handlers: dict[str, Callable[[dict[str, Any]], Reply]] = {
            "time": lambda s: self._reply("time", say_time(self._clock())),
            "date": lambda s: self._reply("date", say_date(self._clock())),
            "timer.set": self._set_timer,
            "timer.cancel": lambda s: self._cancel("timer"),
            "timer.remaining": self._remaining,
            "alarm.set": self._set_alarm,
            "alarm.cancel": lambda s: self._cancel("alarm"),
            "stop": lambda s: self._reply("stop", "", {"type": "stop"}),
            "repeat": lambda s: self._reply("repeat", self.state.last_reply or "I haven't said anything yet."),
            "help": lambda s: self._reply("help", self._help()),
            "volume.up": lambda s: self._volume(+1),
            "volume.down": lambda s: self._volume(-1),
        }

    def start(self) -> None:
        """Start announcing timers as they come due."""
        if self._timers is not None:
            self._timers.start()

    def close(self) -> None:
        if self._timers is not None:
            self._timers.close()

    def handles(self, intent: str) -> bool:
        return intent in self._handlers

    def handle(self, intent: str, slots: dict[str, Any], speaker: str | None = None) -> Reply:
        """``speaker``: who asked (timers and alarms are each person's own; None: the unknown voices')."""
        self._speaker = speaker
        reply = self._handlers[intent](slots)
        return Reply(reply.text, "skill", intent, dict(slots), reply.action)

    @staticmethod
    def _reply(intent: str, text: str, action: dict[str, Any] | None = None) -> Reply:
        return Reply(text, "skill", intent, {}, action)

    def _set_timer(self, slots: dict[str, Any]) -> Reply:
        seconds = float(slots["timer_duration"])
        label = say_duration(seconds)
        if self._timers is None:
            return self._reply("timer.set", "Timers are turned off.")
        timer = self._timers.add("timer", self._epoch() + seconds, label, self._speaker)
        return self._reply("timer.set", f"Timer set for {label}.", {"type": "timer", "id": timer.id, "due": timer.due})

    def _set_alarm(self, slots: dict[str, Any]) -> Reply:
        if self._timers is None:
            return self._reply("alarm.set", "Alarms are turned off.")
        now = self._clock()
        due = next_occurrence(now, str(slots["alarm_time"]))
        label = say_time(due).removeprefix("It's ").rstrip(".")
        seconds = (due - now).total_seconds()
        timer = self._timers.add("alarm", self._epoch() + seconds, label, self._speaker)
        when = "tomorrow" if due.date() != now.date() else "today"
        return self._reply("alarm.set", f"Alarm set for {label} {when}.", {"type": "alarm", "id": timer.id,
                                                                          "due": timer.due})

    def _cancel(self, kind: str) -> Reply:
        gone = self._timers.cancel(kind, self._speaker) if self._timers is not None else []
        if not gone:
            return self._reply(f"{kind}.cancel", f"There's no {kind} running.")
        count = f"{len(gone)} {kind}s" if len(gone) > 1 else f"the {kind}"
        return self._reply(f"{kind}.cancel", f"Cancelled {count}.")

    def _remaining(self, slots: dict[str, Any]) -> Reply:
        pending = self._timers.pending("timer", self._speaker) if self._timers is not None else []
        if not pending:
            return self._reply("timer.remaining", "There's no timer running.")
        now = self._epoch()
        parts = [say_duration(t.due - now) for t in pending]
        if len(parts) == 1:
            return self._reply("timer.remaining", f"{parts[0]} left.")
        return self._reply("timer.remaining", f"{len(parts)} timers: " + ", ".join(parts) + " left.")

    def _help(self) -> str:
        builtin = "tell the time and date, set timers and alarms, repeat myself and change my volume"
        if not self.state.command_help:
            return f"I can {builtin}."
        return f"I can {builtin}. You also set up: " + "; ".join(self.state.command_help) + "."

    def _volume(self, direction: int) -> Reply:
        level = round(min(1.0, max(0.0, self.state.volume + direction * self.state.volume_step)), 3)
        self.state.volume = level
        intent = "volume.up" if direction > 0 else "volume.down"
        return self._reply(intent, f"Volume {round(level * 100)} percent.", {"type": "volume", "level": level})
