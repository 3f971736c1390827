"""The brain: one LLM turn with conversation memory, an optional camera frame, tool calls and timeouts.

``Brain.answer`` yields spoken sentences as soon as each is generated, so speech can start on the first while
the rest is still being written. It never raises for backend problems: a dead server, a missing model, a
corrupt image or a turn that runs past ``llm.timeout_s`` all end in a logged error and a short apology.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from assistant.brain.brain_stats import BrainStats
from assistant.brain.camera import Camera, ImageError, open_camera
from assistant.brain.claims import HONEST, WHY_NOT, claim_in
from assistant.brain.confidence import is_a_guess
from assistant.brain.llm.base import LLM, ChatMessage, Completion, LlmError, ToolCall
from assistant.brain.llm.factory import build_llm, effective_backend
from assistant.brain.llm.prompts import normalise_tools
from assistant.brain.llm.sentences import sentences
from assistant.brain.memory import Memory
from assistant.brain.vision.facts import PROBLEM_WORDS
from assistant.brain.vision.grounding import Sight, with_facts
from assistant.brain.vision.scene import Vision, shared_vision
from assistant.config.llm import CameraConfig, LlmConfig, MemoryConfig
from assistant.config.schema import Config
from assistant.config.speakers import display_name
from assistant.events import Reply, RequestContext

log = logging.getLogger(__name__)

# (command name, arguments from the model) -> the router's validated reply, or None when it is rejected.
ToolValidator = Callable[[str, dict[str, Any]], Reply | None]

FORGOT_LAST = "Okay, I've forgotten that."
FORGOT_ALL = "Okay, let's start a new conversation."
CANNOT_DO = "Sorry, I can't do that."
BAD_IMAGE = "Sorry, I couldn't read that image."
NO_CAMERA = "Sorry, I couldn't get a picture from the camera."
CANNOT_SEE = "Sorry, the model I'm using can't see images."
UNSEEABLE = "I can't make anything out: {problem}."


class BrokenLLM:
    """Stands in for a backend that failed to load, so every turn apologises instead of the daemon dying."""

    supports_images = False
    supports_native_tools = False

    def __init__(self, name: str, error: LlmError) -> None:
        self.name = name
        self.error = error

    def stream(self, messages: list[ChatMessage], *, image: bytes | None = None, max_tokens: int,
               tools: list[dict[str, Any]] | None = None) -> Completion:
        raise self.error

    def close(self) -> None:
        pass


class _Timeout(Exception):
    pass


class _Failed(Exception):
    pass


class Brain:
    def __init__(
        self,
        llm: LLM,
        llm_config: LlmConfig,
        camera_config: CameraConfig | None = None,
        memory_config: MemoryConfig | None = None,
        *,
        camera: Camera | None = None,
        backend: str = "",
        vision: Vision | None = None,
    ) -> None:
        self.llm = llm
        self.config = llm_config
        self.camera_config = camera_config or CameraConfig()
        self.camera = camera
        self.sight = Sight(camera, self.camera_config, llm_config.image_max_side, vision)  # frames and facts
        self._memory_config = memory_config or MemoryConfig()
        self.memory = Memory(self._memory_config)  # the configured conversation's
        self._memories = {self._memory_config.conversation: self.memory}  # and those wake words talk in
        self.backend = backend or llm_config.backend
        self.last_stats = BrainStats(model=llm.name, backend=self.backend)
        self._tools: list[dict[str, Any]] = []
        self._validator: ToolValidator | None = None

    def set_tools(self, tools: list[dict[str, Any]], validator: ToolValidator) -> None:
        """Offer configured commands to the model; every call it makes goes through ``validator`` first."""
        self._tools = normalise_tools(tools) if self.config.tools != "off" else []
        self._validator = validator

    def memory_for(self, conversation: str | None, speaker: str | None = None) -> Memory:
        """The memory of a named conversation (None: the configured one), loaded on first use; a known
        speaker has their own of each ("default.alice")."""
        name = (conversation or self._memory_config.conversation) + (f".{speaker}" if speaker else "")
        if name not in self._memories:
            self._memories[name] = Memory(self._memory_config.model_copy(update={"conversation": name}))
        return self._memories[name]

    def _system_prompt(self, context: RequestContext | None) -> str:
        persona = context.persona if context is not None and context.persona else self.config.persona
        prompt = self.config.system_prompt.replace("{persona}", persona)
        if context is not None and context.speaker:  # at the end: the cached start of the prompt stays the same
            prompt += f" You are talking with {display_name(context.speaker)}."
        return prompt

    def warm_up(self) -> None:
        """Process the fixed start of the prompt (system prompt, examples, memory) once, at load time.

        llama.cpp keeps the evaluated prompt and reuses its longest common prefix, so the first real
        question only pays for its own words (measured: first token ~1 s -> ~0.1 s on 2 cores).
        """
        messages = [ChatMessage("system", self._system_prompt(None)), *self.memory.messages(),
                    ChatMessage("user", "Hello.")]
        try:
            for _ in self.llm.stream(messages, max_tokens=1, tools=self._tools or None):
                pass
        except Exception as exc:  # a model that can't answer will say so on the first real turn
            log.warning("LLM warm-up failed: %s", exc)

    def reply(self, text: str, *, image: bytes | None = None) -> Reply:
        """The whole answer at once, for callers that want a Reply (the router's fallback)."""
        spoken = " ".join(self.answer(text, image=image))
        stats = self.last_stats
        if stats.reply is not None:
            return stats.reply
        # Apologies and "forget that" are still the brain's answers; `intent` says which kind they were.
        intent = None if stats.handled_by == "llm" else stats.handled_by
        return Reply(spoken, handled_by="llm", intent=intent, extra={"llm": stats.as_dict()})

    # -- one turn -----------------------------------------------------------------------------------------

    def answer(self, text: str, *, image: bytes | None = None, context: RequestContext | None = None) -> Iterator[str]:
        """``context``: a wake word's persona and conversation, when it has its own."""
        started = time.monotonic()
        stats = self.last_stats = BrainStats(model=self.llm.name, backend=self.backend)
        try:
            yield from self._turn(text, image, stats, started, context)
        finally:
            stats.total_ms = (time.monotonic() - started) * 1000.0

    def _say(self, stats: BrainStats, text: str, handled_by: str, error: str | None = None) -> Iterator[str]:
        stats.handled_by = handled_by
        if error:
            stats.error = error
        for sentence in sentences([text], first_clause_chars=None):  # our own text is whole: no need to hurry
            stats.sentences.append(sentence)
            yield sentence

    def _turn(self, text: str, image: bytes | None, stats: BrainStats, started: float,
              context: RequestContext | None) -> Iterator[str]:
        memory = self.memory_for(context.conversation, context.speaker) if context else self.memory_for(None)
        forget = memory.command(text)
        if forget == "forget_all":
            memory.clear()
            yield from self._say(stats, FORGOT_ALL, "memory")
            return
        if forget == "forget_last":
            memory.forget_last()
            yield from self._say(stats, FORGOT_LAST, "memory")
            return

        sighting = self.sight.for_turn(text, image, self.llm.supports_images)
        stats.capture_ms, stats.error = sighting.capture_ms, sighting.error
        if sighting.facts is not None:
            stats.vision_ms = sighting.facts.timings_ms.get("total")
        if sighting.trouble is not None:
            problem = sighting.facts.quality.problem if sighting.facts is not None else None
            apology = {"cannot_see": CANNOT_SEE, "bad_image": BAD_IMAGE, "no_camera": NO_CAMERA,
                       "unseeable": UNSEEABLE.format(problem=PROBLEM_WORDS.get(problem or "", ""))}
            yield from self._say(stats, apology[sighting.trouble], "apology", stats.error)
            return
        frame = sighting.frame
        stats.image = frame is not None

        messages = [ChatMessage("system", self._system_prompt(context)), *memory.messages(),
                    ChatMessage("user", with_facts(text, sighting.prompt))]
        tools = self._tools or None
        spoken: list[str] = []
        completion: list[Completion] = []
        claimed: str | None = None  # what the model claimed with nothing behind it; the rest goes unsaid
        try:
            for sentence in sentences(self._deltas(messages, frame, tools, stats, started, completion)):
                claimed = claimed or claim_in(sentence) or (None if spoken else self._unsure(text, sentence,
                                                                                             completion, stats))
                if claimed is not None:
                    log.warning("not saying the model's %r: it %s", sentence, WHY_NOT[claimed])
                    continue
                if stats.first_sentence_ms is None:
                    stats.first_sentence_ms = (time.monotonic() - started) * 1000.0
                spoken.append(sentence)
                stats.sentences.append(sentence)
                yield sentence
        except _Timeout as timeout:
            stats.timed_out = True
            stats.error = str(timeout)
            log.error("LLM turn timed out (%s, model %s)", stats.error, self.llm.name)
            if not spoken:
                yield from self._say(stats, self.config.timeout_apology, "apology", stats.error)
            return
        except _Failed as failure:
            stats.error = str(failure)
            log.error("LLM turn failed: %s", failure)
            if not spoken:
                yield from self._say(stats, self.config.apology, "apology", stats.error)
            return
        finally:
            if completion:
                done = completion[0]
                stats.prompt_tokens = done.prompt_tokens
                stats.completion_tokens = done.completion_tokens
                stats.tokens_per_s = done.tokens_per_s
                stats.image = done.image_used
                stats.tool_call = done.tool_call

        if stats.tool_call is not None:
            yield from self._tool(stats.tool_call, text, stats, memory)
            return
        if claimed is not None:  # a deed or a live fact that no command gave, or a guess: say what is true
            handled_by = "unsure" if claimed == "unsure" else "refused_claim"
            yield from self._say(stats, HONEST[claimed], handled_by, f"the model's answer: {WHY_NOT[claimed]}")
            return
        if not spoken:
            yield from self._say(stats, self.config.apology, "apology", "the model gave an empty reply")
            log.warning("LLM gave an empty reply to %r", text)
            return
        memory.add(text, " ".join(spoken))

    def _unsure(self, question: str, sentence: str, completion: list[Completion], stats: BrainStats) -> str | None:
        probs = list(completion[0].token_probs) if completion else []
        guess, stats.confidence = is_a_guess(question, probs, sentence, self.config.min_confidence)
        return "unsure" if guess else None

    def _tool(self, call: ToolCall, text: str, stats: BrainStats, memory: Memory) -> Iterator[str]:
        names = {t["function"]["name"] for t in self._tools}
        if call.name not in names or self._validator is None:
            log.warning("rejected a tool call for %r: not a configured command", call.name)
            yield from self._say(stats, CANNOT_DO, "apology", f"unknown command {call.name!r}")
            return
        try:
            reply = self._validator(call.name, dict(call.arguments))
        except Exception as exc:  # the router's validation must not take the turn down with it
            log.exception("validating the tool call %r failed", call.name)
            yield from self._say(stats, CANNOT_DO, "apology", f"validation failed: {exc}")
            return
        if reply is None:
            log.warning("rejected a tool call %s(%s): invalid arguments", call.name, call.arguments)
            yield from self._say(stats, CANNOT_DO, "apology", f"invalid arguments for {call.name!r}")
            return
        stats.reply = reply
        yield from self._say(stats, reply.text, "command")
        memory.add(text, reply.text)

    def _deltas(
        self,
        messages: list[ChatMessage],
        image: bytes | None,
        tools: list[dict[str, Any]] | None,
        stats: BrainStats,
        started: float,
        holder: list[Completion],
    ) -> Iterator[str]:
        """Text deltas from a worker thread, under the first-token and whole-turn deadlines."""
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()
        ready = threading.Event()

        def work() -> None:
            try:
                completion = self.llm.stream(messages, image=image, max_tokens=self.config.max_tokens, tools=tools)
                holder.append(completion)
                ready.set()
                for delta in completion:
                    if stop.is_set():
                        break
                    events.put(("delta", delta))
                completion.close()
                events.put(("end", None))
            except (LlmError, ImageError) as exc:
                events.put(("error", str(exc)))
            except Exception as exc:  # a backend bug must cost one turn, not the daemon
                log.exception("LLM backend crashed")
                events.put(("error", f"{type(exc).__name__}: {exc}"))
            finally:
                ready.set()

        worker = threading.Thread(target=work, name="brain-turn", daemon=True)
        worker.start()
        deadline = started + self.config.timeout_s
        first_deadline = started + self.config.first_token_timeout_s
        try:
            while True:
                now = time.monotonic()
                limit = deadline if stats.ttft_ms is not None else min(deadline, first_deadline)
                try:
                    kind, value = events.get(timeout=max(0.0, limit - now))
                except queue.Empty:
                    if stats.ttft_ms is None and first_deadline < deadline:
                        raise _Timeout(f"no text within {self.config.first_token_timeout_s:g} s") from None
                    raise _Timeout(f"the turn took longer than {self.config.timeout_s:g} s") from None
                if kind == "end":
                    return
                if kind == "error":
                    raise _Failed(value)
                if stats.ttft_ms is None and value:
                    stats.ttft_ms = (time.monotonic() - started) * 1000.0
                yield value
        finally:
            stop.set()
            # Stop a generation nobody is listening to (timeout, barge-in): frees the CPU or the server.
            if ready.wait(0.05) and holder and worker.is_alive():
                holder[0].abort()

    def close(self) -> None:
        self.llm.close()


def build_brain(config: Config, *, strict: bool = False, camera: Camera | None = None) -> Brain | None:
    """The brain the root config describes; None for ``llm.backend: none``.

    A model that fails to load is logged and every turn apologises (the daemon keeps running), unless
    ``strict``: then the LlmError is raised (for `llm-check` and other one-shot commands).
    """
    llm_config, camera_config, memory_config = config.llm, config.camera, config.memory
    backend = effective_backend(llm_config)
    if backend == "none":
        return None
    llm: LLM
    try:
        built = build_llm(llm_config)
        assert built is not None
        llm = built
    except LlmError as exc:
        if strict:
            raise
        log.error("the %s LLM could not be loaded: %s; every question will get an apology", backend, exc)
        llm = BrokenLLM(llm_config.model, exc)
    return Brain(llm, llm_config, camera_config, memory_config,
                 camera=camera if camera is not None else open_camera(camera_config), backend=backend,
                 vision=shared_vision(camera_config) if camera_config.vision else None)
