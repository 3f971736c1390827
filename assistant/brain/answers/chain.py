"""The exact-answer skills in the order the router asks them, built from `skills.enabled`."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from assistant.brain.answers.arithmetic import Arithmetic
from assistant.brain.answers.base import Answer, Answerer, prepare
from assistant.brain.answers.calendar import CalendarAnswers
from assistant.brain.answers.conversions import Conversions
from assistant.brain.answers.live_data import LiveData
from assistant.brain.answers.small_talk import SmallTalk
from assistant.brain.answers.spelling import Spelling
from assistant.brain.answers.world_clock import WorldClock
from assistant.brain.intents import CommandSet

log = logging.getLogger(__name__)


class AnswerChain:
    """Asks each skill in turn; the first that understood the whole request answers."""

    def __init__(self, answerers: list[Answerer]) -> None:
        self.answerers = answerers

    def answer(self, text: str, now: datetime) -> Answer | None:
        prepared = prepare(text)
        for answerer in self.answerers:
            try:
                answer = answerer.answer(prepared, now)
            except Exception:  # a skill's bug must not cost the turn: the next skill, or the LLM, answers
                log.exception("the %s skill failed on %r", answerer.name, prepared)
                continue
            if answer is not None:
                return answer
        return None

    def prefetch(self, text: str) -> None:
        """Let skills that fetch something slow (the camera's frame) start on a likely request early."""
        for answerer in self.answerers:
            prefetch = getattr(answerer, "prefetch", None)
            if callable(prefetch):
                prefetch(text)

    def load(self) -> None:
        """Whatever a skill loads on first use (pint's registry), loaded now: off the turn's clock."""
        for answerer in self.answerers:
            load = getattr(answerer, "load", None)  # Conversions' units, the seeing skills' models
            if callable(load):
                load()


def exact_answers(enabled: Collection[str], persona: str = "Assistant") -> AnswerChain:
    """Skills that answer a question exactly, asked before a near-miss command match or the model."""
    made: list[Answerer] = [CalendarAnswers(), WorldClock(), Arithmetic(), Conversions(), Spelling(),
                            SmallTalk(persona)]
    return AnswerChain([a for a in made if a.name in enabled])


def honest_refusals(enabled: Collection[str], commands: CommandSet) -> AnswerChain:
    """Requests for data or actions nothing configured provides: refused before the model may invent."""
    return AnswerChain([LiveData.for_commands(commands)] if "live_data" in enabled else [])
