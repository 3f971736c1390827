"""Brain turn logic: streaming sentence by sentence, tool-call validation, forgetting, timeouts, failures.

The thing under test here is the Brain, so the model is a small scripted backend that implements the LLM
protocol (what it says, how fast, whether it calls a tool). The real backends have their own tests
(tests/brain/llm/: test_llamacpp.py, test_hf.py, test_openai_compat.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.brain.brain import CANNOT_DO, CANNOT_SEE, FORGOT_ALL, FORGOT_LAST, Brain, build_brain
from assistant.brain.claims import HONEST
from assistant.brain.confidence import answer_confidence
from assistant.brain.llm.base import LLM, ChatMessage, Completion, LlmError, ToolCall
from assistant.config.llm import LlmConfig, MemoryConfig
from assistant.config.schema import Config
from assistant.events import Reply

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "set_volume",
            "description": "Set the speaker volume (0-10).",
            "parameters": {"type": "object", "properties": {"level": {"type": "integer"}}, "required": ["level"]},
        },
    }
]


class ScriptedLLM:
    """Says the given deltas (with an optional delay each), or fails, or calls a tool; records its prompts."""

    supports_native_tools = True

    def __init__(self, deltas: list[str], *, delay_s: float = 0.0, tool_call: ToolCall | None = None,
                 error: Exception | None = None, gate: threading.Event | None = None, images: bool = False) -> None:
        self.name = "scripted"
        self.supports_images = images
        self.deltas = deltas
        self.delay_s = delay_s
        self.tool_call = tool_call
        self.error = error
        self.gate = gate
        self.calls: list[dict[str, Any]] = []
        self.aborted = threading.Event()

    def stream(self, messages: list[ChatMessage], *, image: bytes | None = None, max_tokens: int,
               tools: list[dict[str, Any]] | None = None) -> Completion:
        self.calls.append({"messages": messages, "image": image, "tools": tools})
        completion = Completion(self.name)
        completion.on_abort(self.aborted.set)

        def run() -> Iterator[str]:
            if self.error is not None:
                raise self.error
            for i, delta in enumerate(self.deltas):
                if self.aborted.is_set():
                    return
                if i == 1 and self.gate is not None:
                    assert self.gate.wait(5), "the first sentence was not consumed before the rest was generated"
                time.sleep(self.delay_s)
                completion.completion_tokens += 1
                yield delta
            completion.tool_call = self.tool_call

        return completion.attach(run())

    def close(self) -> None:
        pass


def make(llm: ScriptedLLM, tmp_path: Path, **llm_overrides: object) -> Brain:
    config = LlmConfig.model_validate({"timeout_s": 5, "first_token_timeout_s": 5} | llm_overrides)
    assert isinstance(llm, LLM)
    return Brain(llm, config, memory_config=MemoryConfig(path=str(tmp_path)), backend="scripted")


def test_the_first_sentence_is_out_while_the_rest_is_generated(tmp_path: Path) -> None:
    gate = threading.Event()
    brain = make(ScriptedLLM(["Paris is the capital of France. ", "It is on the Seine."], gate=gate), tmp_path)
    answer = brain.answer("What is the capital of France?")
    assert next(answer) == "Paris is the capital of France."
    gate.set()  # only now may the model produce the second delta
    assert list(answer) == ["It is on the Seine."]
    stats = brain.last_stats
    assert stats.handled_by == "llm" and stats.ttft_ms is not None and stats.first_sentence_ms is not None
    assert stats.completion_tokens == 2 and stats.total_ms is not None


def test_memory_goes_into_the_next_prompt_and_forgetting_clears_it(tmp_path: Path) -> None:
    llm = ScriptedLLM(["Nice to meet you, Ada."])
    brain = make(llm, tmp_path, persona="Robo", system_prompt="You are {persona}.")
    list(brain.answer("My name is Ada."))
    list(brain.answer("What is my name?"))
    second = llm.calls[1]["messages"]
    assert [m.content for m in second] == ["You are Robo.", "My name is Ada.", "Nice to meet you, Ada.",
                                           "What is my name?"]
    assert list(brain.answer("Forget that.")) == [FORGOT_LAST]
    assert len(brain.memory) == 1
    assert list(brain.answer("New conversation")) == [FORGOT_ALL]
    assert len(brain.memory) == 0 and len(llm.calls) == 2 and brain.last_stats.handled_by == "memory"


def test_a_tool_call_is_validated_before_anything_runs(tmp_path: Path) -> None:
    llm = ScriptedLLM([], tool_call=ToolCall("set_volume", {"level": 4}))
    brain = make(llm, tmp_path)
    seen: list[tuple[str, dict[str, Any]]] = []

    def validator(name: str, args: dict[str, Any]) -> Reply | None:
        seen.append((name, args))
        return Reply("Volume set to 4.", handled_by="command", intent=name, slots=args)

    brain.set_tools(TOOLS, validator)
    assert list(brain.answer("Make it a bit quieter")) == ["Volume set to 4."]
    assert seen == [("set_volume", {"level": 4})]
    assert llm.calls[0]["tools"][0]["function"]["name"] == "set_volume"
    stats = brain.last_stats
    assert stats.handled_by == "command" and stats.reply is not None and stats.reply.slots == {"level": 4}
    assert brain.reply("Make it a bit quieter").intent == "set_volume"


def test_the_model_cannot_run_what_is_not_configured_or_invalid(tmp_path: Path) -> None:
    calls: list[str] = []

    def validator(name: str, args: dict[str, Any]) -> Reply | None:
        calls.append(name)
        return None  # e.g. a slot outside its domain

    unknown = make(ScriptedLLM([], tool_call=ToolCall("rm_rf", {"path": "/"})), tmp_path)
    unknown.set_tools(TOOLS, validator)
    assert list(unknown.answer("Delete everything")) == [CANNOT_DO]
    assert calls == [] and unknown.last_stats.error == "unknown command 'rm_rf'"

    invalid = make(ScriptedLLM([], tool_call=ToolCall("set_volume", {"level": 99})), tmp_path)
    invalid.set_tools(TOOLS, validator)
    assert list(invalid.answer("Volume to ninety nine")) == [CANNOT_DO]
    assert calls == ["set_volume"] and invalid.last_stats.handled_by == "apology"

    untooled = make(ScriptedLLM([], tool_call=ToolCall("set_volume", {"level": 1})), tmp_path)
    assert list(untooled.answer("Volume to one")) == [CANNOT_DO]  # no tools offered: nothing may run


def test_a_slow_model_is_cut_off_after_the_sentences_already_spoken(tmp_path: Path) -> None:
    llm = ScriptedLLM(["First part is here. ", "and then ", "it ", "goes ", "on ", "forever."], delay_s=0.4)
    brain = make(llm, tmp_path, timeout_s=1.0)
    started = time.monotonic()
    spoken = list(brain.answer("Tell me a long story"))
    assert spoken == ["First part is here."]
    assert time.monotonic() - started < 2.5
    assert brain.last_stats.timed_out and llm.aborted.wait(2)


def test_no_text_in_time_gets_the_timeout_apology(tmp_path: Path) -> None:
    brain = make(ScriptedLLM(["Too late."], delay_s=2.0), tmp_path, first_token_timeout_s=0.5)
    assert list(brain.answer("Hello")) == [brain.config.timeout_apology]
    assert brain.last_stats.error == "no text within 0.5 s"


@pytest.mark.parametrize("error", [LlmError("the server is gone"), RuntimeError("backend bug")])
def test_backend_failures_are_apologies(error: Exception, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    brain = make(ScriptedLLM([], error=error), tmp_path)
    with caplog.at_level(logging.ERROR):
        assert list(brain.answer("Hello")) == [brain.config.apology]
    assert "LLM turn failed" in caplog.text and str(error) in (brain.last_stats.error or "")
    assert len(brain.memory) == 0


def test_an_empty_reply_is_an_apology(tmp_path: Path) -> None:
    brain = make(ScriptedLLM(["  ", "\n"]), tmp_path)
    assert list(brain.answer("Hello")) == [brain.config.apology]


def test_images_for_a_text_only_model_are_declined_honestly(tmp_path: Path) -> None:
    llm = ScriptedLLM(["A cup."])
    brain = make(llm, tmp_path)
    assert list(brain.answer("What is this?", image=b"whatever")) == [CANNOT_SEE]
    assert llm.calls == []


def test_build_brain_none_and_default_backend(tmp_path: Path) -> None:
    assert build_brain(Config(llm=LlmConfig(backend="none"))) is None
    missing = Config(llm=LlmConfig(backend="llamacpp", model=str(tmp_path / "nope.gguf")),
                     memory=MemoryConfig(path=str(tmp_path)))
    with pytest.raises(LlmError, match=r"does not exist|needs llama-cpp-python"):
        build_brain(missing, strict=True)


@pytest.mark.parametrize("said, kind", [
    (["Okay, ", "I've turned off the kitchen light."], "action"),
    (["Turning on the lights now."], "action"),
    (["It's sunny today, ", "with a high of 20 degrees."], "live_fact"),
    (["The weather today is cloudy."], "live_fact"),
])
def test_a_claim_with_nothing_behind_it_is_not_said(tmp_path: Path, said: list[str], kind: str) -> None:
    """A small model answers "Turn off the kitchen light" with "I've turned off the kitchen light." when no
    command ran, or invents the weather: neither is spoken, and neither goes into the conversation memory."""
    brain = make(ScriptedLLM(said), tmp_path)
    spoken = list(brain.answer("Turn off the kitchen light." if kind == "action" else "What's it like out?"))
    assert spoken == [HONEST[kind]]
    assert brain.last_stats.handled_by == "refused_claim" and len(brain.memory) == 0


def test_a_claim_made_good_by_a_command_is_replaced_by_the_command_s_reply(tmp_path: Path) -> None:
    llm = ScriptedLLM(["Setting the volume to 4."], tool_call=ToolCall("set_volume", {"level": 4}))
    brain = make(llm, tmp_path)
    brain.set_tools(TOOLS, lambda name, args: Reply("Volume 40 percent.", "command", name, args))
    assert list(brain.answer("Volume 4")) == ["Volume 40 percent."]


def test_plain_facts_are_said(tmp_path: Path) -> None:
    brain = make(ScriptedLLM(["A spider has eight legs. ", "Water boils at 100 degrees Celsius."]), tmp_path)
    assert list(brain.answer("Tell me two facts")) == ["A spider has eight legs.",
                                                       "Water boils at 100 degrees Celsius."]


class ProbableLLM(ScriptedLLM):
    """Says its deltas, each token with the probability the test gives it."""

    def __init__(self, pieces: list[tuple[str, float]]) -> None:
        super().__init__([piece for piece, _ in pieces])
        self.pieces = pieces

    def stream(self, messages: list[ChatMessage], *, image: bytes | None = None, max_tokens: int,
               tools: list[dict[str, Any]] | None = None) -> Completion:
        completion = super().stream(messages, image=image, max_tokens=max_tokens, tools=tools)
        completion.token_probs.extend(self.pieces)
        return completion


@pytest.mark.parametrize("pieces, said", [
    ([("The", 0.9), (" capital", 0.9), (" of", 0.95), (" Australia", 0.9), (" is", 0.9), (" Sydney", 0.12),
      (".", 0.9)], [HONEST["unsure"]]),
    ([("The", 0.9), (" capital", 0.9), (" of", 0.95), (" Australia", 0.9), (" is", 0.9), (" Canberra", 0.6),
      (".", 0.9)], ["The capital of Australia is Canberra."]),
])
def test_a_first_new_word_the_model_doubted_is_not_said(tmp_path: Path, pieces: list[tuple[str, float]],
                                                        said: list[str]) -> None:
    brain = make(ProbableLLM(pieces), tmp_path, min_confidence=0.25)
    assert list(brain.answer("What is the capital of Australia?")) == said
    assert brain.last_stats.confidence == pieces[5][1]


@pytest.mark.parametrize("question, pieces, expected", [
    ("What is the capital of Japan?", [("The", .9), (" capital", .9), (" of", .9), (" Japan", .9), (" is", .9),
                                       (" Tok", .8), ("yo", .99), (".", .9)], 0.8),
    ("How many legs does a spider have?", [("A", .7), (" spider", .9), (" has", .9), (" ", .9), ("1", .2),
                                           ("0", .4), (" legs", .9)], 0.2),
    ("Hello!", [("Hello", .6), ("!", .9)], None),
    ("Hello!", [], None),
])
def test_answer_confidence_is_the_first_word_the_question_did_not_say(question: str,
                                                                        pieces: list[tuple[str, float]],
                                                                        expected: float | None) -> None:
    sentence = "".join(piece for piece, _ in pieces).strip()
    assert answer_confidence(question, pieces, sentence) == expected


def test_an_answer_that_says_nothing_new_to_a_question_is_not_said(tmp_path: Path) -> None:
    pieces = [("A", 0.8), (" mammal", 0.9), (" is", 0.9), (" a", 0.9), (" mammal", 0.9), (".", 0.9)]
    brain = make(ProbableLLM(pieces), tmp_path, min_confidence=0.25)
    assert list(brain.answer("What's the largest mammal?")) == [HONEST["unsure"]]
    greeting = make(ProbableLLM([("Hello", 0.6), ("!", 0.9)]), tmp_path, min_confidence=0.25)
    assert list(greeting.answer("Hello!")) == ["Hello!"]  # not a question: nothing new is the right answer


def test_a_request_that_is_not_a_question_of_fact_is_not_judged(tmp_path: Path) -> None:
    pieces = [("Why", 0.05), (" did", 0.9), (" the", 0.9), (" chicken", 0.3), (" cross", 0.9), ("?", 0.9)]
    brain = make(ProbableLLM(pieces), tmp_path, min_confidence=0.25)
    assert list(brain.answer("Tell me a joke.")) == ["Why did the chicken cross?"]
    assert brain.last_stats.confidence is None


def test_a_wake_word_s_persona_and_conversation_are_its_own(tmp_path: Path) -> None:
    from assistant.events import RequestContext

    llm = ScriptedLLM(["Noted."])
    brain = make(llm, tmp_path, persona="Robo", system_prompt="You are {persona}.")
    butler = RequestContext(wake_word="hey_mycroft", persona="Mycroft, a butler", conversation="butler")
    list(brain.answer("My name is Ada.", context=butler))
    list(brain.answer("What is my name?"))  # the default conversation has not heard it
    list(brain.answer("What is my name?", context=butler))
    plain, again = llm.calls[1]["messages"], llm.calls[2]["messages"]
    assert [m.content for m in plain] == ["You are Robo.", "What is my name?"]
    assert [m.content for m in again] == ["You are Mycroft, a butler.", "My name is Ada.", "Noted.", "What is my name?"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["butler.json", "default.json"]
