"""The text plumbing shared by every backend: sentence splitting, stop strings, prompts, the JSON tool protocol."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from assistant.brain.llm.base import ChatMessage, Completion
from assistant.brain.llm.prompts import (
    apply_stops,
    completion_prompt,
    json_tool_instructions,
    normalise_tools,
    parse_tool_json,
    split_json_tool,
    with_tool_instructions,
)
from assistant.brain.llm.sentences import sentences

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "set_volume",
            "description": "Set the speaker volume.",
            "parameters": {"type": "object", "properties": {"level": {"type": "integer", "minimum": 0}}},
        },
    },
    {"name": "lights_off", "description": "Turn the lights off."},
]


def chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_sentences_are_emitted_as_soon_as_they_end() -> None:
    seen: list[str] = []

    def deltas() -> object:
        yield "The capital of France"
        yield " is Paris. It is"
        assert seen == ["The capital of France is Paris."], "first sentence must be out before more text arrives"
        yield " a big city! Is it"
        yield " old?"

    for sentence in sentences(deltas()):  # type: ignore[arg-type]
        seen.append(sentence)
    assert seen == ["The capital of France is Paris.", "It is a big city!", "Is it old?"]


def test_sentences_do_not_split_abbreviations_numbers_or_short_fragments() -> None:
    text = "Dr. Smith paid 3.50 dollars. Yes. It was e.g. cheap.\nNext line here"
    assert list(sentences(chunks(text, 3))) == [
        "Dr. Smith paid 3.50 dollars.",
        "Yes. It was e.g. cheap.",
        "Next line here",
    ]


def test_the_first_piece_may_be_a_long_enough_clause() -> None:
    text = "The Brooklyn Bridge opened in 1883, which makes it about 140 years old. It crosses, as you know, a river."
    assert list(sentences(chunks(text, 4))) == [
        "The Brooklyn Bridge opened in 1883,",  # spoken while the model writes the rest
        "which makes it about 140 years old.",
        "It crosses, as you know, a river.",  # later sentences stay whole
    ]
    assert list(sentences(chunks("Yes, of course. Paris is the capital.", 4))) == [
        "Yes, of course.", "Paris is the capital."]  # a clause too short to be said alone waits
    assert next(iter(sentences(chunks(text, 4), first_clause_chars=None))).endswith("140 years old.")


PIECES = ["Hello", " there", ".", " ", "!", "?", "\n", "Mr.", "ok", "3.5", "…", '"', ", and the rest", " -"]


@given(st.lists(st.sampled_from(PIECES), max_size=40), st.integers(min_value=1, max_value=7))
def test_sentences_keep_every_word_in_order(pieces: list[str], size: int) -> None:
    text = "".join(pieces)
    out = list(sentences(chunks(text, size)))
    assert all(s and s == s.strip() for s in out)
    assert " ".join(out).split() == text.split()


@given(st.text(alphabet="ab\nU:ser ", max_size=60), st.integers(min_value=1, max_value=5))
def test_apply_stops_cuts_at_the_first_stop_string(text: str, size: int) -> None:
    stops = ["\n", "User:"]
    out = "".join(apply_stops(iter(chunks(text, size)), stops))
    cuts = [i for i in (text.find(s) for s in stops) if i >= 0]
    assert out == text[: min(cuts)] if cuts else out == text


def test_completion_prompt_is_a_few_shot_transcript_ending_with_the_question() -> None:
    messages = [
        ChatMessage("system", "You are Ada."),
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "What is  two\nplus two?"),
    ]
    prompt = completion_prompt(messages, [("Q1?", "A1.")])
    assert prompt == "You are Ada.\n\nUser: Q1?\nAssistant: A1.\nUser: Hi\nAssistant: Hello!\n" \
                     "User: What is two plus two?\nAssistant:"


def test_tool_specs_are_normalised_and_described() -> None:
    specs = normalise_tools(TOOLS)
    assert [s["function"]["name"] for s in specs] == ["set_volume", "lights_off"]
    assert specs[1]["function"]["parameters"] == {"type": "object", "properties": {}}
    text = json_tool_instructions(TOOLS)
    assert "set_volume" in text and '"level"' in text and "lights_off" in text
    merged = with_tool_instructions([ChatMessage("system", "Be nice."), ChatMessage("user", "x")], TOOLS)
    assert merged[0].content.startswith("Be nice.\n") and "set_volume" in merged[0].content and len(merged) == 2


def test_parse_tool_json_accepts_calls_and_rejects_prose() -> None:
    names = {"set_volume"}
    assert parse_tool_json('{"tool": "set_volume", "arguments": {"level": 3}}', names).arguments == {"level": 3}  # type: ignore[union-attr]
    call = parse_tool_json('```json\n{"name": "set_volume", "arguments": "{\\"level\\": 5}"}\n```', names)
    assert call is not None and call.name == "set_volume" and call.arguments == {"level": 5}
    assert parse_tool_json("It is sunny.", names) is None
    assert parse_tool_json('{"tool": 3}', names) is None
    assert parse_tool_json("{not json}", names) is None


def test_split_json_tool_passes_speech_through_and_captures_calls() -> None:
    spoken = Completion("m")
    assert "".join(split_json_tool(iter(["  It", " is ", "sunny."]), spoken, {"x"})) == "  It is sunny."
    assert spoken.tool_call is None

    called = Completion("m")
    pieces = [" {", '"tool": "set_volume",', ' "arguments": {"level": 2}}']
    out = list(split_json_tool(iter(pieces), called, {"set_volume"}))
    assert out == [] and called.tool_call is not None and called.tool_call.arguments == {"level": 2}

    broken = Completion("m")
    assert list(split_json_tool(iter(['{"tool": ', "oops"]), broken, {"set_volume"})) == []
    assert broken.tool_call is None


def test_completion_records_first_token_time_and_rate() -> None:
    completion = Completion("m").attach(iter(["", "a", "b", "c"]))
    completion.completion_tokens = 3
    assert list(completion) == ["", "a", "b", "c"]
    assert completion.ttft_ms is not None and completion.ttft_ms >= 0
    assert completion.finished_at is not None
    assert re.fullmatch(r"m", completion.model)
