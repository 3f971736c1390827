"""Unit conversions (pint) from spoken requests; mass and volume are not mixed up; the rest goes on."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.brain.answers.base import prepare
from assistant.brain.answers.conversions import Conversions

NOW = datetime(2026, 12, 7, 10, 0)
CONVERT = Conversions()


def ask(question: str) -> str | None:
    answer = CONVERT.answer(prepare(question), NOW)
    return None if answer is None else answer.text


@pytest.mark.parametrize("question, reply", [
    ("How many feet are in a mile?", "1 mile is 5280 feet."),
    ("Convert 10 miles to kilometers.", "10 miles is about 16.09 kilometers."),
    ("What's 100 degrees Fahrenheit in Celsius?", "100 degrees Fahrenheit is about 37.78 degrees Celsius."),
    ("Convert 30 degrees celsius to fahrenheit.", "30 degrees Celsius is 86 degrees Fahrenheit."),
    ("What is 0 kelvin in celsius?", "0 kelvin is about minus 273.1 degrees Celsius."),
    ("How many tablespoons in a cup?", "1 cup is 16 tablespoons."),
    ("How many teaspoons in a tablespoon?", "1 tablespoon is 3 teaspoons."),
    ("How many cups are in a gallon?", "1 gallon is 16 cups."),
    ("What is 5 kilos in pounds?", "5 kilograms is about 11.02 pounds."),
    ("How many ounces in a pound?", "1 pound is 16 ounces."),
    ("How many grams in a pound?", "1 pound is about 453.6 grams."),
    ("What is 1 stone in kilograms?", "1 stone is about 6.35 kilograms."),
    ("What is 60 miles per hour in kilometers per hour?", "60 miles per hour is about 96.56 kilometers per hour."),
    ("How many seconds in a day?", "1 day is 86400 seconds."),
    ("How many centimeters is 6 feet?", "6 feet is about 182.9 centimeters."),
    ("How many liters is 2 gallons?", "2 gallons is about 7.571 liters."),
    ("How many minutes are in 3 and a half hours?", "3.5 hours is 210 minutes."),
    ("What is 3 cups in milliliters?", "3 cups is about 709.8 milliliters."),
    ("Convert 5 km to miles.", "5 kilometers is about 3.107 miles."),
    ("How many acres in a hectare?", "1 hectare is about 2.471 acres."),
    ("How many megabytes in a gigabyte?", "1 gigabyte is 1000 megabytes."),
    ("How many metres in a kilometre?", "1 kilometer is 1000 meters."),
    ("How many UK pints in a litre?", "1 liter is about 1.76 imperial pints."),
    ("Two hundred grams is how many ounces?", "200 grams is about 7.055 ounces."),
    ("How fast is 100 kilometers an hour in miles per hour?", "100 kilometers per hour is about 62.14 miles per hour."),
])
def test_conversions_are_exact(question: str, reply: str) -> None:
    assert ask(question) == reply


def test_a_cup_of_flour_has_no_weight_without_knowing_the_flour() -> None:
    reply = ask("How many grams in a cup of flour?")
    assert reply is not None and reply.startswith("I can't convert cups to grams") and "depends" in reply


@pytest.mark.parametrize("question", [
    "How many feet is it to the moon?", "What is the weather in Paris?", "How many legs does a spider have?",
    "Convert this file to PDF.", "What is 5 in pounds?", "How many people live in London?",
    "What time is it in Tokyo?", "How many days until Christmas?",
])
def test_what_is_not_a_conversion_goes_on(question: str) -> None:
    assert ask(question) is None
