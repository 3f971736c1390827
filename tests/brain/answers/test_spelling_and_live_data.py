"""Spelling aloud, who the assistant is, and honest refusals for live data and actions that nothing configured
provides."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.brain.answers.base import prepare
from assistant.brain.answers.live_data import LiveData
from assistant.brain.answers.small_talk import SmallTalk
from assistant.brain.answers.spelling import Spelling
from assistant.brain.claims import claim_in

NOW = datetime(2026, 12, 7, 10, 0)


@pytest.mark.parametrize("question, reply", [
    ("How do you spell necessary?", "Necessary: N, E, C, E, S, S, A, R, Y."),
    ("Spell rhythm.", "Rhythm: R, H, Y, T, H, M."),
    ("How is definitely spelled?", "Definitely: D, E, F, I, N, I, T, E, L, Y."),
    ("Can you spell ice cream for me?", "Ice cream: I, C, E, space, C, R, E, A, M."),
    ("What's the spelling of accommodate?", "Accommodate: A, C, C, O, M, M, O, D, A, T, E."),
])
def test_spelling(question: str, reply: str) -> None:
    answer = Spelling().answer(prepare(question), NOW)
    assert answer is not None and answer.text == reply


@pytest.mark.parametrize("question", ["How is the weather?", "Spell check my document please.", "How are you?"])
def test_not_spelling(question: str) -> None:
    assert Spelling().answer(prepare(question), NOW) is None


@pytest.mark.parametrize("question, topic", [
    ("What's the weather like?", "weather"), ("Will it rain tomorrow?", "weather"),
    ("What is the weather in Paris?", "weather"), ("Do I need an umbrella today?", "weather"),
    ("What's the news?", "news"), ("What is the price of bitcoin?", "prices"),
    ("How are my stocks doing?", "prices"), ("Who won the game last night?", "sports"),
    ("How is the traffic?", "traffic"), ("Is the front door locked?", "device_state"),
    ("Are the lights on in the kitchen?", "device_state"), ("Turn off the kitchen light.", "action"),
    ("Can you turn on the TV?", "action"), ("Play some music.", "action"), ("Open the garage door.", "action"),
    ("Call mum.", "action"), ("Add milk to my shopping list.", "action"), ("Do I have any new emails?", "personal"),
    ("What's on my calendar today?", "personal"),
])
def test_live_data_and_unconfigured_actions_are_refused_honestly(question: str, topic: str) -> None:
    answer = LiveData().answer(prepare(question), NOW)
    assert answer is not None and answer.intent == f"live_data.{topic}"
    assert "can't" in answer.text or "don't" in answer.text


@pytest.mark.parametrize("question", [
    "What is the capital of France?", "How many legs does a spider have?", "Tell me a joke.",
    "What temperature does water boil at?", "Set a timer for 5 minutes.", "Stop.", "Start a timer.",
    "What's the date today?", "Who wrote Hamlet?", "Call me Ada.", "Play a word game with me.",
])
def test_ordinary_questions_are_not_refused(question: str) -> None:
    assert LiveData().answer(prepare(question), NOW) is None


def test_a_configured_command_lets_the_model_answer_its_topic() -> None:
    live = LiveData("lights turn {state} the {room} light[s] weather: what's the weather from home assistant")
    assert live.answer(prepare("Turn off the kitchen light."), NOW) is None  # the model may call the command
    assert live.answer(prepare("What's the weather like?"), NOW) is None
    refused = live.answer(prepare("Open the garage door."), NOW)
    assert refused is not None and refused.intent == "live_data.action"


@pytest.mark.parametrize("sentence, kind", [
    ("It's sunny today.", "live_fact"), ("The weather today is sunny with a high of 20.", "live_fact"),
    ("I've turned off the kitchen light.", "action"), ("Turning off the kitchen light.", "action"),
    ("The kitchen light is now off.", "action"), ("Okay, the lights are off.", "action"), ("Done.", "action"),
    ("A spider has 8 legs.", None), ("The capital of Italy is Rome.", None),
    ("Water boils at 100 degrees Celsius.", None), ("I can't turn off lights.", None),
    ("Sure, I can help with that.", None),
])
def test_claims_in_a_model_s_sentence(sentence: str, kind: str | None) -> None:
    assert claim_in(sentence) == kind


@pytest.mark.parametrize("question, reply", [
    ("What's your name?", "My name is Robo. I'm a voice assistant running on this computer."),
    ("Are you a human?", "No, I'm a voice assistant: a program running on this computer."),
    ("Are you a robot?", "No, I'm a voice assistant: a program running on this computer."),
    ("How are you today?", "I'm fine, thanks. What can I do for you?"),
    ("Thank you very much.", "You're welcome."),
    ("What's your favourite colour?", None), ("Are you sure?", None), ("Thanks for nothing, you idiot.", None),
])
def test_small_talk(question: str, reply: str | None) -> None:
    answer = SmallTalk("Robo").answer(prepare(question), NOW)
    assert (answer.text if answer else None) == reply
