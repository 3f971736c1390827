"""Decides what answers a request: user commands and built-in skills, then the LLM, then a fallback reply.

``Router.route(text)`` is called once per transcript from a worker thread and returns a Reply.

``Reply.action`` types, for the pipeline to act on:
- ``{"type": "stop"}``: stop speaking now and drop queued speech (a pending confirmation is already dropped).
- ``{"type": "volume", "level": 0.0-1.0}``: set the assistant's own output volume.
- ``{"type": "await_confirmation", "timeout_s": s}``: the reply asked "Are you sure?"; the next utterance
  within ``timeout_s`` is the answer (listen without a wake word if there is one).

Reports of what already happened (nothing for the pipeline to do):
- ``{"type": "exec", "argv": [...], "exit_status": n, "timed_out": bool, "stdout": "..."}``
- ``{"type": "http", "method": "POST", "url": "...", "status": n, "error": str | None}``
- ``{"type": "say"}``, ``{"type": "timer" | "alarm", "id": "...", "due": epoch_s}``
- with ``"dry_run": true`` when the router was built with ``dry_run=True`` (nothing ran).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.brain.acoustic import choose
from assistant.brain.actions import describe, run_action
from assistant.brain.answers.chain import AnswerChain
from assistant.brain.intents import CommandSet, build_matcher
from assistant.brain.matcher import IntentMatcher, Match
from assistant.brain.skills import Skills, SkillState
from assistant.brain.templates import GLUED_SUFFIX
from assistant.brain.text import normalise
from assistant.brain.tools import tool_specs, validate_call
from assistant.config.commands import SKILL_NAMES, Command, ListSlot
from assistant.config.schema import RouterConfig
from assistant.config.speakers import say_names
from assistant.events import Reply, RequestContext, SentenceScorer

log = logging.getLogger(__name__)
_TEMPLATE_SYNTAX = re.compile(r"\{[^}]*\}|[\[\]()|]")

Clock = Callable[[], datetime]
Fallback = Callable[[str, RequestContext | None], Reply]  # the LLM: (request, who it was said to)

YES = frozenset({"yes", "yeah", "yep", "yes please", "sure", "do it", "go ahead", "confirm", "okay", "ok", "correct",
                 "yes do it", "affirmative"})
NO = frozenset({"no", "nope", "no thanks", "don't", "cancel", "stop", "never mind", "nevermind", "abort", "no don't"})


@dataclass
class _Pending:
    command: Command
    slots: dict[str, Any]
    expires: float  # monotonic


class Router:
    """Maps a transcript to a Reply; safe to call from several threads (one request at a time)."""

    def __init__(self, config: RouterConfig, clock: Clock = datetime.now, *, matcher: IntentMatcher | None = None,
                 commands: CommandSet | None = None, skills: Skills | None = None, fallback: Fallback | None = None,
                 confirm_timeout_s: float = 30.0, dry_run: bool = False, acoustic: bool = True,
                 exact: AnswerChain | None = None, honest: AnswerChain | None = None) -> None:
        self._config = config
        self._clock = clock
        self._exact = exact or AnswerChain([])  # exact answers (sums, conversions, dates): before near misses
        self._honest = honest or AnswerChain([])  # live data or actions nothing provides: before the model
        self._command_set = commands or CommandSet()
        self._commands = {c.name: c for c in self._command_set.commands}
        self._matcher = matcher or build_matcher(commands or CommandSet(), [s for s in SKILL_NAMES if s != "timers"])
        self._skills = skills or Skills(SkillState(volume=1.0, volume_step=0.1), None, clock)
        self._fallback = fallback
        self._confirm_timeout_s = confirm_timeout_s
        self._dry_run = dry_run
        self._acoustic = acoustic  # rescoring near misses against the audio, when route() gets a scorer
        self._pending: _Pending | None = None
        self._context: RequestContext | None = None  # the request being routed's (under _lock)
        self._lock = threading.Lock()
        self._skills.state.command_help = [c.description or c.templates[0] for c in self._commands.values()
                                           if c.templates]

    @property
    def fallback(self) -> Fallback | None:
        return self._fallback

    def start(self) -> None:
        """Start announcing timers (through the ``speak`` the router was built with)."""
        self._skills.start()

    def warm_up(self) -> None:
        """Load what the exact answers load on first use (pint's units), so no turn waits for it."""
        self._exact.load()

    def close(self) -> None:
        """Stop the timer thread (timers stay saved for the next start). The LLM is its builder's to close."""
        self._skills.close()

    @property
    def matcher(self) -> IntentMatcher:
        return self._matcher

    def route(self, text: str, scorer: SentenceScorer | None = None, context: RequestContext | None = None) -> Reply:
        """``scorer`` (from the transcript) lets near-miss commands be chosen by how they sound; ``context``
        (the wake word's persona and conversation) goes to the LLM."""
        with self._lock:
            self._context = context
            reply = self._route(text, scorer)
            if reply.text and reply.intent != "repeat":
                self._skills.state.last_reply = reply.text
            return reply

    def _route(self, text: str, scorer: SentenceScorer | None) -> Reply:
        pending, self._pending = self._pending, None
        if pending is not None and time.monotonic() < pending.expires:
            answer = normalise(text)
            if answer in YES:  # the one who confirms must be allowed too
                return self._refusal(pending.command) or self._run(pending.command, pending.slots)
            if answer in NO:
                return Reply("Okay, I won't.", "command", pending.command.name, pending.slots, None)
            # Anything else is a new request; the unanswered question is dropped.
        match = self._matcher.match(text)
        if match is None or not match.exact:
            # "what time is it in Tokyo" is near the time skill's phrase, but it is not that question
            exact = self._exact.answer(text, self._clock())
            if exact is not None:
                return exact.reply()
        evidence = None
        # Acoustic choice is a kind of near-miss matching: off with commands.matching.fuzzy too.
        if scorer is not None and self._acoustic and self._matcher.fuzzy and (match is None or not match.exact):
            chosen, evidence = choose(self._matcher, text, scorer) or (None, None)
            if chosen is not None and evidence is not None:
                log.info("heard %r as %r (%s)", text, evidence["sentence"], evidence)
                match = chosen
            elif match is not None and evidence is not None and not evidence["plausible"]:
                log.info("%r is not %r by its sound (%s): not acting on it", text, match.template, evidence)
                match, evidence = None, None
            else:
                evidence = None
        if match is None:
            return self._unmatched(text)
        if match.intent in self._commands:
            return self._command(match, evidence)
        reply = self._skills.handle(match.intent, match.slots, self._context.speaker if self._context else None)
        return _with_score(reply, match, evidence)

    def is_complete_request(self, text: str) -> bool:
        """Whether ``text`` is exactly a whole command or skill request (adaptive end of turn: no need to
        wait out the hangover). Exact matches only: a near miss may be a sentence still going on."""
        return self._matcher.match_exact(normalise(text)) is not None

    def prefetch(self, text: str) -> None:
        """A speculative transcript, before the turn ends: skills may start fetching (the seeing skills look)."""
        self._exact.prefetch(text)

    def vocabulary(self) -> list[str]:
        """Words the user's commands expect (slot synonyms, template words): Whisper is primed with them.

        Templates become their words ("turn {state} the {room} light[s]" -> "turn the lights"). Measured on
        benchmarks/intent_accuracy.py (tiny.en): this 91.7 %, template words split into a word list 88.3 %,
        slot values only 85.8 %; whole example sentences were worse still (Whisper went on reciting them).
        """
        words: list[str] = []
        for spec in self._command_set.slots.values():
            if isinstance(spec, ListSlot):
                for canonical, synonyms in spec.values.items():
                    words += synonyms or ([canonical] if canonical.replace(" ", "").isalpha() else [])
        for command in self._command_set.commands:
            for template in command.templates:
                plural = GLUED_SUFFIX.sub(r"\1\2", template)  # "light[s]" is said "lights", not "light s"
                words.append(" ".join(_TEMPLATE_SYNTAX.sub(" ", plural).split()))
        return [w for w in words if w]

    def tool_specs(self) -> list[dict[str, Any]]:
        """The configured commands as LLM tools (see assistant.brain.tools)."""
        return tool_specs(self._command_set)

    def call_tool(self, name: str, arguments: dict[str, Any]) -> Reply | None:
        """Run a command the LLM chose, validated like a spoken one (slot domains, confirmation).

        None when the call is not exactly a configured command with in-domain values.
        """
        checked = validate_call(self._command_set, name, arguments)
        if checked is None:
            return None
        command, slots = checked
        with self._lock:
            refusal = self._refusal(command)
            if refusal is not None:
                return refusal
            if command.confirm:
                self._pending = _Pending(command, slots, time.monotonic() + self._confirm_timeout_s)
                action = {"type": "await_confirmation", "timeout_s": self._confirm_timeout_s}
                return Reply("Are you sure?", "command", command.name, slots, action)
            return self._run(command, slots)

    def _command(self, match: Match, acoustic: dict[str, Any] | None = None) -> Reply:
        command = self._commands[match.intent]
        refusal = self._refusal(command)
        if refusal is not None:
            return _with_score(refusal, match, acoustic)
        if command.confirm:
            self._pending = _Pending(command, match.slots, time.monotonic() + self._confirm_timeout_s)
            action = {"type": "await_confirmation", "timeout_s": self._confirm_timeout_s}
            return _with_score(Reply("Are you sure?", "command", command.name, match.slots, action), match, acoustic)
        return _with_score(self._run(command, match.slots), match, acoustic)

    def _refusal(self, command: Command) -> Reply | None:
        """A polite no when the command names the people who may run it and the request's voice is not one
        of theirs (an unknown voice, or a typed request, is nobody's)."""
        speaker = self._context.speaker if self._context is not None else None
        if not command.speakers or speaker in command.speakers:
            return None
        log.info("%s: refused for %s (only %s)", command.name, speaker or "an unknown voice", command.speakers)
        return Reply(f"Sorry, only {say_names(command.speakers)} can do that.", "command", command.name, {}, None,
                     {"refused": "speaker", "speaker": speaker})

    def _run(self, command: Command, slots: dict[str, Any]) -> Reply:
        if self._dry_run:
            return Reply("", "command", command.name, slots, describe(command.action, slots))
        outcome = run_action(command.action, slots)
        return Reply(outcome.reply, "command", command.name, slots, outcome.action, {"ok": outcome.ok})

    def _unmatched(self, text: str) -> Reply:
        refusal = self._honest.answer(text, self._clock())
        if refusal is not None:
            return refusal.reply()
        if self._fallback is not None:
            return self._fallback(text, self._context)
        return Reply(self._config.acknowledgement.format(text=text.strip()), handled_by="fallback")


def _with_score(reply: Reply, match: Match, acoustic: dict[str, Any] | None = None) -> Reply:
    extra = {**reply.extra, "score": round(match.score, 3), "exact": match.exact, "template": match.template}
    if acoustic is not None:
        extra["acoustic"] = acoustic
    return Reply(reply.text, reply.handled_by, reply.intent, reply.slots, reply.action, extra)
