"""Per-person behaviour once the speaker is known: commands only some people may run (refused politely for
anyone else, an unknown voice or a typed request included), timers and alarms each person's own,
conversation memory per person, and the LLM told who it talks with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.app.router import build_router
from assistant.brain.brain import Brain
from assistant.brain.llm.base import ChatMessage, Completion
from assistant.brain.router import Router
from assistant.brain.skills import announcement
from assistant.brain.timers import Timer
from assistant.config.llm import LlmConfig, MemoryConfig
from assistant.config.schema import ConfigError
from assistant.events import Reply, RequestContext
from support.config import make_config

ALICE, BOB, NOBODY = RequestContext(speaker="alice"), RequestContext(speaker="bob"), RequestContext()

DOOR = {"name": "open_door", "templates": ["open the front door"], "speakers": ["Alice", "bob"],
        "action": {"type": "say", "reply": "Opening the front door."}}
HEATING = {"name": "heating_off", "templates": ["turn off the heating"], "speakers": ["alice"], "confirm": True,
           "action": {"type": "say", "reply": "Heating off."}}
LIGHT = {"name": "light_on", "templates": ["turn on the light"], "action": {"type": "say", "reply": "Light on."}}


def router(tmp_path: Path, fallback: object = None) -> Router:
    config = make_config({"commands": {"commands": [DOOR, HEATING, LIGHT]},
                          "skills": {"timers_file": str(tmp_path / "timers.json")}})
    return build_router(config, fallback=fallback)  # type: ignore[arg-type]


def test_a_restricted_command_runs_only_for_the_people_it_names(tmp_path: Path) -> None:
    r = router(tmp_path)
    assert r.route("open the front door", context=ALICE).text == "Opening the front door."
    assert r.route("open the front door", context=BOB).text == "Opening the front door."
    carol = r.route("open the front door", context=RequestContext(speaker="carol"))  # enrolled, not named
    assert carol.text == "Sorry, only Alice and Bob can do that."
    assert (carol.handled_by, carol.intent, carol.extra["refused"]) == ("command", "open_door", "speaker")
    assert r.route("open the front door", context=NOBODY).text == "Sorry, only Alice and Bob can do that."
    assert r.route("open the front door").text == "Sorry, only Alice and Bob can do that."  # typed: nobody's voice
    assert r.route("turn on the light", context=NOBODY).text == "Light on."  # unrestricted: anyone


def test_a_confirmation_must_come_from_someone_allowed(tmp_path: Path) -> None:
    r = router(tmp_path)
    assert r.route("turn off the heating", context=BOB).text == "Sorry, only Alice can do that."  # not even asked
    assert r.route("turn off the heating", context=ALICE).text == "Are you sure?"
    assert r.route("yes", context=BOB).text == "Sorry, only Alice can do that."  # bob cannot say yes for her
    assert r.route("turn off the heating", context=ALICE).text == "Are you sure?"
    assert r.route("yes", context=ALICE).text == "Heating off."


def test_the_llm_cannot_run_a_restricted_command_for_someone_else(tmp_path: Path) -> None:
    asked: list[RequestContext | None] = []
    holder: list[Router] = []

    def llm(text: str, context: RequestContext | None) -> Reply:
        asked.append(context)

        def stream() -> Iterator[str]:  # as the brain does: the tool is called while the answer streams
            reply = holder[0].call_tool("open_door", {})
            assert reply is not None
            yield reply.text

        return Reply("", "llm", stream=stream())

    r = router(tmp_path, fallback=llm)
    holder.append(r)
    assert r.route("let me in please", context=NOBODY).spoken_text() == "Sorry, only Alice and Bob can do that."
    assert r.route("let me in please", context=ALICE).spoken_text() == "Opening the front door."
    assert asked == [NOBODY, ALICE]  # the model is told who speaks


def test_command_speakers_must_be_names(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a usable name"):
        make_config({"commands": {"commands": [{**DOOR, "speakers": ["alice smith"]}]}})
    from assistant.config.schema import validate

    with pytest.raises(ConfigError, match=r"commands.commands.0.speakers: '\*' is not a usable name"):
        validate({"commands": {"commands": [{**DOOR, "speakers": ["*"]}]}})


def test_timers_are_each_person_s_own(tmp_path: Path) -> None:
    r = router(tmp_path)
    assert r.route("set a timer for 5 minutes", context=ALICE).text == "Timer set for 5 minutes."
    assert r.route("set a timer for 10 minutes", context=BOB).text == "Timer set for 10 minutes."
    assert r.route("how long is left", context=NOBODY).text == "There's no timer running."
    assert r.route("how long is left", context=ALICE).text == "5 minutes left."  # hers, not bob's 10
    assert r.route("cancel my timer", context=BOB).text == "Cancelled the timer."
    assert r.route("how long is left", context=BOB).text == "There's no timer running."
    saved = json.loads((tmp_path / "timers.json").read_text())
    assert [t["owner"] for t in saved] == ["alice"]
    assert announcement(Timer("x", "timer", 0.0, "5 minutes", "alice")) == "Alice, your 5 minutes timer is done."
    assert announcement(Timer("x", "timer", 0.0, "5 minutes")) == "Your 5 minutes timer is done."
    assert announcement(Timer("x", "alarm", 0.0, "7:30 AM", "bob")) == "Bob, it's 7:30 AM. This is your alarm."


def test_a_timers_file_from_before_owners_still_loads(tmp_path: Path) -> None:
    (tmp_path / "timers.json").write_text(json.dumps([{"id": "a1", "kind": "timer", "due": 9e12,
                                                       "label": "5 minutes"}]))
    r = router(tmp_path)
    r.start()
    try:
        assert r.route("how long is left", context=NOBODY).text.endswith("left.")
        assert r.route("how long is left", context=ALICE).text == "There's no timer running."
    finally:
        r.close()


class Recording:
    """An LLM that says "Noted." and keeps every prompt it was given."""

    name = "recording"
    supports_images = False
    supports_native_tools = False

    def __init__(self) -> None:
        self.prompts: list[list[str]] = []

    def stream(self, messages: list[ChatMessage], *, image: bytes | None = None, max_tokens: int,
               tools: list[dict[str, Any]] | None = None) -> Completion:
        self.prompts.append([m.content for m in messages])
        return Completion(self.name).attach(iter(["Noted."]))

    def close(self) -> None:
        pass


def test_each_person_has_their_own_conversation_and_is_named_to_the_model(tmp_path: Path) -> None:
    llm = Recording()
    brain = Brain(llm, LlmConfig(persona="Robo", system_prompt="You are {persona}."),
                  memory_config=MemoryConfig(path=str(tmp_path)), backend="recording")
    list(brain.answer("My name is Ada.", context=ALICE))
    list(brain.answer("What is my name?", context=BOB))  # bob's conversation has not heard it
    list(brain.answer("What is my name?", context=ALICE))
    list(brain.answer("What is my name?", context=NOBODY))  # nor has the household's
    assert llm.prompts[1] == ["You are Robo. You are talking with Bob.", "What is my name?"]
    assert llm.prompts[2] == ["You are Robo. You are talking with Alice.", "My name is Ada.", "Noted.",
                              "What is my name?"]
    assert llm.prompts[3] == ["You are Robo.", "What is my name?"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.alice.json", "default.bob.json", "default.json"]
    woken = RequestContext("hey_mycroft", "Mycroft", "butler", "alice")  # a wake word's conversation, per person
    assert brain.memory_for(woken.conversation, woken.speaker).path.name == "butler.alice.json"
