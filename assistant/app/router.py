"""Build the Router the pipeline and CLI use, from the whole config."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from assistant.brain.answers.chain import AnswerChain, exact_answers, honest_refusals
from assistant.brain.camera import open_camera
from assistant.brain.check import check_commands
from assistant.brain.intents import build_matcher, gather
from assistant.brain.llm_fallback import LlmFallback
from assistant.brain.router import Fallback, Router
from assistant.brain.skills import Skills, SkillState, announcement
from assistant.brain.timers import Timer, TimerStore, default_timers_file
from assistant.brain.vision.answers import VisionAnswers
from assistant.brain.vision.scene import shared_vision
from assistant.config.schema import Config, ConfigError


def build_router(config: Config, *, speak: Callable[[str], None] | None = None, fallback: Fallback | None = None,
                 config_path: Path | None = None, dry_run: bool = False,
                 clock: Callable[[], datetime] = datetime.now, image: bytes | None = None) -> Router:
    """A router for this config. With ``speak``, due timers are announced through it (from router.start() on).
    ``clock`` is the local time every skill reads (a benchmark fixes it). ``image``: what the seeing skills look
    at on the next request instead of the camera (`assistant ask --image`).

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
                  exact=_with_vision(exact_answers(skills_section.enabled, config.llm.persona), config, fallback,
                                     image),
                  honest=honest_refusals(skills_section.enabled, commands))


def _with_vision(chain: AnswerChain, config: Config, fallback: Fallback | None, image: bytes | None) -> AnswerChain:
    """The seeing skills first ("read this" is not a sum or a spelling), when enabled."""
    if "vision" not in config.skills.enabled or not config.camera.vision:
        return chain
    seeing = VisionAnswers(open_camera(config.camera), shared_vision(config.camera), config.camera.read_part_chars,
                           model_sees=fallback.sees_images if isinstance(fallback, LlmFallback) else lambda: False)
    seeing.next_image = image
    return AnswerChain([seeing, *chain.answerers])
