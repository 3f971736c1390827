"""Build the Router the pipeline and CLI use, from the whole config."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from assistant.brain.answers.chain import exact_answers, honest_refusals
from assistant.brain.check import check_commands
from assistant.brain.intents import build_matcher, gather
from assistant.brain.router import Fallback, Router
from assistant.brain.skills import Skills, SkillState, announcement
from assistant.brain.timers import Timer, TimerStore, default_timers_file
from assistant.config.schema import Config, ConfigError


def build_router(config: Config, *, speak: Callable[[str], None] | None = None, fallback: Fallback | None = None,
                 config_path: Path | None = None, dry_run: bool = False,
                 clock: Callable[[], datetime] = datetime.now) -> Router:
    """A router for this config. With ``speak``, due timers are announced through it (from router.start() on).
    ``clock`` is the local time every skill reads (a benchmark fixes it).

    Raises ConfigError if the commands have problems (see :func:`assistant.brain.check.check_commands`).
    """

    problems = check_commands(config, config_path, check_programs=False)
    if problems:
        raise ConfigError(problems, str(config_path) if config_path else "")
    commands_section, skills_section = config.commands, config.skills
    commands = gather(commands_section, config_path)
    matcher = build_matcher(commands, skills_section.enabled, commands_section.matching.threshold,
                            commands_section.matching.fuzzy)
    timers: TimerStore | None = None
    if "timers" in skills_section.enabled:
        path = Path(skills_section.timers_file).expanduser() if skills_section.timers_file else default_timers_file()

        def announce(timer: Timer) -> None:
            if speak is not None:
                speak(announcement(timer))

        timers = TimerStore(path, announce)  # announcing from router.start(), once the router is in use
    state = SkillState(volume=config.tts.volume, volume_step=skills_section.volume_step)
    skills = Skills(state, timers, clock)
    return Router(config.router, clock, matcher=matcher, commands=commands, skills=skills, fallback=fallback,
                  confirm_timeout_s=skills_section.confirm_timeout_s, dry_run=dry_run,
                  acoustic=commands_section.matching.acoustic,
                  exact=exact_answers(skills_section.enabled, config.llm.persona),
                  honest=honest_refusals(skills_section.enabled, commands))
