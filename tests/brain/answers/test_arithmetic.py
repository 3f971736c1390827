"""Arithmetic from spoken requests, as Whisper writes them: exact answers, and everything else left alone."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.brain.answers.arithmetic import Arithmetic
from assistant.brain.answers.base import prepare
from assistant.brain.answers.numbers import parse_number, say_number

NOW = datetime(2026, 12, 7, 10, 0)


def ask(question: str) -> str | None:
    answer = Arithmetic().answer(prepare(question), NOW)
    return None if answer is None else answer.text


@pytest.mark.parametrize("question, reply", [
    ("What is seven times eight?", "7 times 8 is 56."),
    ("What is 7 times 8?", "7 times 8 is 56."),
    ("What's 7 x 8?", "7 times 8 is 56."),
    ("Seven times eight.", "7 times 8 is 56."),
    ("What is twelve percent of two hundred and fifty?", "12 percent of 250 is 30."),
    ("What's 12% of 250?", "12 percent of 250 is 30."),
    ("What is the square root of eighty one?", "The square root of 81 is 9."),
    ("Square root of 2.", "The square root of 2 is about 1.414."),
    ("What's 2 to the power of 10?", "2 to the power of 10 is 1024."),
    ("What is 3 to the 4th?", "3 to the power of 4 is 81."),
    ("What is 9 squared?", "9 squared is 81."),
    ("What is 15 divided by 4?", "15 divided by 4 is 3.75."),
    ("What is 10 divided by 3?", "10 divided by 3 is about 3.333."),
    ("What is 1,250 + 3,000?", "1250 plus 3000 is 4250."),
    ("How much is 3 and 4?", "3 plus 4 is 7."),
    ("What is the sum of 3 and 4?", "3 plus 4 is 7."),
    ("What is two hundred and fifty plus seventeen?", "250 plus 17 is 267."),
    ("What is 100 minus 7 minus 3?", "100 minus 7 minus 3 is 90."),
    ("What is 2 plus 2 times 3?", "2 plus 2 times 3 is 8."),
    ("What is minus 5 times 3?", "Minus 5 times 3 is minus 15."),
    ("What is 2 minus 7?", "2 minus 7 is minus 5."),
    ("What is 0.1 plus 0.2?", "0.1 plus 0.2 is 0.3."),
    ("What is 5 factorial?", "5 factorial is 120."),
    ("What is half of 90?", "Half of 90 is 45."),
    ("What is a third of 100?", "A third of 100 is about 33.33."),
    ("Calculate 144 / 12.", "144 divided by 12 is 12."),
    ("What is 25 * 4?", "25 times 4 is 100."),
    ("What is 17 mod 5?", "17 modulo 5 is 2."),
    ("Hey, what is 6 times 7, please?", "6 times 7 is 42."),
    ("What does 99 plus 1 equal?", "99 plus 1 is 100."),
    ("What is one thousand two hundred divided by forty?", "1200 divided by 40 is 30."),
    ("What is 10 divided by 0?", "You can't divide by zero."),
    ("What is 2 to the power of 5000?", "That number is too big for me to say."),
    ("What is the square root of minus 4?", "A negative number has no real square root."),
])
def test_sums_are_answered_exactly(question: str, reply: str) -> None:
    assert ask(question) == reply


@pytest.mark.parametrize("question", [
    "What is 5?", "What is the capital of France?", "What's the weather like?", "Turn on the lights.",
    "What is 2 plus?", "What is 15 percent of 60 dollars?", "What is the time?", "Set a timer for 5 minutes.",
    "What is love?", "What is two plus the moon?", "Times Square.", "How many legs does a spider have?",
])
def test_what_is_not_a_whole_sum_goes_on(question: str) -> None:
    assert ask(question) is None


@pytest.mark.parametrize("words, value", [
    ("42", 42), ("2.5", 2.5), ("minus 3", -3), ("forty two", 42), ("two hundred and fifty", 250),
    ("one thousand two hundred", 1200), ("three point one four", 3.14), ("a half", 0.5), ("three quarters", 0.75),
    ("two and a half", 2.5), ("1.5 million", 1_500_000), ("a dozen", 12), ("twelve hundred", 1200),
    ("twenty one thousand three hundred and forty five", 21345), ("a hundred", 100),
])
def test_spoken_numbers(words: str, value: float) -> None:
    assert parse_number(words) == value


@pytest.mark.parametrize("words", ["five six", "twenty thirty", "one hundred and", "point", "and", "cat", ""])
def test_words_that_are_not_one_number(words: str) -> None:
    assert parse_number(words) is None


@pytest.mark.parametrize("value, said", [(56.0, "56"), (1 / 3, "0.3333"), (16.09344, "16.09"), (-4.0, "minus 4"),
                                         (1e6, "1000000"), (0.1 + 0.2, "0.3"), (123456.789, "123457")])
def test_numbers_are_said_for_the_ear(value: float, said: str) -> None:
    assert say_number(value) == said
