"""Spoken numbers, both ways: 'two hundred and fifty' / '3.5' / 'a half' -> a value, and a value -> words
a speech synthesiser reads well ('56', '0.33', '1.5 million')."""

from __future__ import annotations

import math
import re

from assistant.brain.text import TENS_WORDS, UNIT_WORDS

_SMALL = {**UNIT_WORDS, **TENS_WORDS, "nought": 0}  # the words slots read, one more British zero
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_DIGIT_WORDS = {w: v for w, v in _SMALL.items() if v < 10}
_FRACTIONS = {"half": 0.5, "halves": 0.5, "third": 1 / 3, "thirds": 1 / 3, "quarter": 0.25, "quarters": 0.25,
              "fourth": 0.25, "fourths": 0.25, "fifth": 0.2, "fifths": 0.2, "tenth": 0.1, "tenths": 0.1}
_DIGITS = re.compile(r"\d+(?:\.\d+)?|\.\d+")

# Words that may make up a number; a parser finds the longest run of them, then asks parse_number.
NUMBER_WORDS = frozenset({*_SMALL, *_SCALES, "hundred", "and", "point", "a", "an", "minus", "negative",
                          *_FRACTIONS})


def parse_number(words: str) -> float | None:
    """The value of a whole spoken or written number, or None if ``words`` is not exactly one.

    '42', '2.5', 'minus 3', 'forty two', 'two hundred and fifty', 'one thousand two hundred', 'three point
    one four', 'a half', 'three quarters', 'two and a half', '1.5 million', 'a dozen'.
    """
    tokens = words.split()
    if not tokens:
        return None
    sign = 1.0
    if tokens[0] in ("minus", "negative"):
        sign, tokens = -1.0, tokens[1:]
    value = _unsigned(tokens)
    return None if value is None else sign * value


def _unsigned(tokens: list[str]) -> float | None:
    if not tokens:
        return None
    if len(tokens) == 1 and tokens[0] in ("dozen",):
        return 12.0
    if tokens[:1] == ["a"] and tokens[1:] == ["dozen"]:
        return 12.0
    # "two and a half", "one and three quarters": a whole number and a fraction
    if "and" in tokens:
        at = len(tokens) - 1 - tokens[::-1].index("and")
        fraction = _fraction(tokens[at + 1:])
        if fraction is not None and at > 0:
            whole = _integer_or_decimal(tokens[:at])
            return None if whole is None else whole + fraction
    fraction = _fraction(tokens)
    if fraction is not None:
        return fraction
    return _integer_or_decimal(tokens)


def _fraction(tokens: list[str]) -> float | None:
    """'a half', 'one third', 'three quarters', 'half' -> the value; else None."""
    if len(tokens) == 1 and tokens[0] in ("half", "quarter"):
        return _FRACTIONS[tokens[0]]
    if len(tokens) != 2 or tokens[1] not in _FRACTIONS:
        return None
    count = 1.0 if tokens[0] in ("a", "an") else _integer_or_decimal(tokens[:1])
    if count is None or (count != 1 and not tokens[1].endswith("s") and tokens[1] != "half"):
        return None
    return count * _FRACTIONS[tokens[1]]


def _integer_or_decimal(tokens: list[str]) -> float | None:
    if "point" in tokens:
        at = tokens.index("point")
        whole = _integer(tokens[:at]) if at else 0.0
        digits = tokens[at + 1:]
        if whole is None or not digits:
            return None
        if len(digits) == 1 and digits[0].isdigit():
            return float(f"{int(whole)}.{digits[0]}")
        if not all(d in _DIGIT_WORDS for d in digits):
            return None
        return float(f"{int(whole)}." + "".join(str(_DIGIT_WORDS[d]) for d in digits))
    return _integer(tokens)


def _integer(tokens: list[str]) -> float | None:
    """'forty two', 'two hundred and five', '1.5 million', '3 thousand', 'twelve hundred'."""
    if not tokens:
        return None
    if len(tokens) == 1 and _DIGITS.fullmatch(tokens[0]):
        return float(tokens[0])
    if len(tokens) == 2 and _DIGITS.fullmatch(tokens[0]) and tokens[1] in _SCALES:
        return float(tokens[0]) * _SCALES[tokens[1]]
    if len(tokens) == 2 and _DIGITS.fullmatch(tokens[0]) and tokens[1] == "hundred":
        return float(tokens[0]) * 100
    total, current, seen, last = 0, 0, False, ""
    for i, word in enumerate(tokens):
        if word == "and":
            # only inside a number: "two hundred and five", "one thousand and one"
            if not seen or i == len(tokens) - 1 or last not in ("hundred", *_SCALES):
                return None
        elif word in ("a", "an") and i == 0 and len(tokens) > 1 and tokens[1] in ("hundred", *_SCALES):
            current = 1
        elif word in _SMALL:
            value = _SMALL[word]
            if seen and last in _SMALL and ((_SMALL[last] < 20 and value < 100) or _SMALL[last] % 10 != 0
                                            or value >= 10):
                return None  # "five six" or "twenty thirty" is two numbers, not one
            current += value
        elif word == "hundred":
            if current >= 100:
                return None
            current = (current or 1) * 100
        elif word in _SCALES:
            total += (current or 1) * _SCALES[word]
            current = 0
        else:
            return None
        seen, last = True, word
    return float(total + current) if seen else None


def say_number(value: float, digits: int = 4) -> str:
    """A number as a synthesiser should read it: integers whole, others to ``digits`` significant digits,
    negatives with the word, never scientific notation: '56', '0.3333', '16.09', 'minus 4', '1000000'."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"not a number to say: {value}")
    value = float(f"{value:.12g}")  # 0.1 + 0.2 is 0.3: float noise is not a digit anyone wants to hear
    if value == int(value) and abs(value) < 1e15:
        text = str(int(value))
    else:
        magnitude = math.floor(math.log10(abs(value)))
        text = f"{value:.{max(0, digits - 1 - magnitude)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    return "minus " + text[1:] if text.startswith("-") else text


def is_said_exactly(value: float, said: str) -> bool:
    """Whether ``said`` (from say_number) is the whole value, or a rounding of it (then say "about")."""
    return float(said.replace("minus ", "-")) == float(f"{value:.12g}")
