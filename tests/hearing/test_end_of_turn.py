"""The end-of-turn verdict on what Whisper wrote so far (the speculative pass's text)."""

from __future__ import annotations

import pytest

from assistant.hearing.end_of_turn import Verdict, judge


@pytest.mark.parametrize("text", [
    "What time is it?", "Turn on the living room lamp.", "Yes.", "Stop!", "How old is the Brooklyn Bridge?",
    "1, 2, 3.", "Seven of clubs.",
])
def test_a_finished_sentence_is_done(text: str) -> None:
    assert judge(text) is Verdict.DONE


@pytest.mark.parametrize("text", [
    "Set a timer for.", "Turn on the.", "Remind me to", "What's the weather in...", "And so my fellow Americans,",
    "I want to, um", "Play some music and", "Call mum —", "Um.", "7.", "Two.", "1,",
])
def test_a_phrase_that_trails_off_wants_more(text: str) -> None:
    assert judge(text) is Verdict.MORE


@pytest.mark.parametrize("text", ["", "  ", "...", "ten of clubs seven of hearts"])
def test_no_words_or_no_punctuation_leave_it_to_the_hangover(text: str) -> None:
    assert judge(text) is Verdict.UNSURE


def test_a_whole_command_is_done_whatever_its_punctuation() -> None:
    def is_request(text: str) -> bool:
        return text.lower().strip(" .") == "lights on"

    assert judge("Lights on", is_request) is Verdict.DONE
    assert judge("Lights on", None) is Verdict.UNSURE


def test_a_finished_sentence_whisper_is_unsure_of_is_left_to_the_hangover() -> None:
    # cut inside a word, tiny.en finishes the sentence itself, less surely (figures from the shared set)
    assert judge("Turn on the lip.", logprob=-0.42) is Verdict.UNSURE
    assert judge("The horizon seems extremely distant.", logprob=-0.08) is Verdict.DONE
    assert judge("Turn on the living room lamp.", lambda text: True, logprob=-0.9) is Verdict.DONE  # a command
    assert judge("Yes.", logprob=-0.89) is Verdict.DONE and judge("no", logprob=-1.0) is Verdict.DONE


def test_a_phrase_the_language_model_finds_unfinished_wants_more() -> None:
    asked: list[str] = []

    def sentence_end(text: str) -> float:  # the policy is under test here; the real model has its own tests
        asked.append(text)
        return -3.0 if text.startswith("The pencils") else -2.0 if text.startswith("The horizon") else -0.5

    assert judge("The pencils have", sentence_end=sentence_end) is Verdict.MORE
    assert judge("The pencils have.", logprob=-0.5, sentence_end=sentence_end) is Verdict.MORE  # Whisper was unsure
    assert judge("A thin stripe runs down the middle", sentence_end=sentence_end) is Verdict.UNSURE
    assert judge("The horizon.", logprob=-0.47, sentence_end=sentence_end) is Verdict.MAYBE  # an end, but unlikely
    # what the words alone settle is never asked: a command, a one-word answer, a trailing word, a finished
    # sentence Whisper is sure of (the model's time would delay every such turn)
    asked.clear()
    assert judge("The pencils have.", sentence_end=sentence_end) is Verdict.DONE
    assert judge("Turn on the lamp", lambda text: text == "Turn on the lamp", sentence_end=sentence_end) \
        is Verdict.DONE
    assert judge("Yes.", sentence_end=sentence_end) is Verdict.DONE
    assert judge("Remind me to", sentence_end=sentence_end) is Verdict.MORE
    assert asked == []
