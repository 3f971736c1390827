"""Normalising transcripts and reading spoken numbers, durations and times of day.

Whisper writes "Set a timer for 5 minutes." or "seven thirty a.m."; templates are written in plain lower
case. Both sides go through :func:`normalise` so matching compares like with like.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_MERIDIEM = re.compile(r"(?<=[\d\s])([ap])\.?\s?m\b\.?")
_DECIMAL_OR_CLOCK = re.compile(r"(?<=\d)[.:](?=\d)")
_NEGATIVE = re.compile(r"(?<![\w.])[-−](?=\d)")  # "-5" must not lose its sign and become "5"
_NOT_WORD = re.compile(r"[^a-z0-9'\x00\x01\u00c0-\u024f]+")


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces; keeps digits, apostrophes and clock colons."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = text.replace("%", " percent ")
    text = _NEGATIVE.sub(" minus ", text)
    text = _MERIDIEM.sub(lambda m: f" {m.group(1)}m", text)
    # Keep "7:30" and "2.5" together: their separators become placeholders the punctuation pass keeps.
    text = text.replace("\x00", " ").replace("\x01", " ")
    text = _DECIMAL_OR_CLOCK.sub(lambda m: "\x00" if m.group(0) == ":" else "\x01", text)
    text = _NOT_WORD.sub(" ", text)
    text = text.replace("\x00", ":").replace("\x01", ".")
    words = [w.strip("'") for w in text.split()]
    return " ".join(w for w in words if w)


UNIT_WORDS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
              "ninety": 90}
NUMBER_WORDS = (*UNIT_WORDS, *TENS_WORDS, "hundred")

_DIGITS = r"\d+(?:\.\d+)?"
_NUMBER_WORD = "(?:" + "|".join(NUMBER_WORDS) + ")"
_WORD_NUMBER = rf"{_NUMBER_WORD}(?: {_NUMBER_WORD})*"
NUMBER_PATTERN = rf"(?:{_DIGITS}|{_WORD_NUMBER})"

_UNIT_SECONDS = {
    "second": 1, "seconds": 1, "sec": 1, "secs": 1,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600,
}
_UNIT = "(?:" + "|".join(sorted(_UNIT_SECONDS, key=len, reverse=True)) + ")"
_AMOUNT = rf"(?:{NUMBER_PATTERN}|an?)(?: and a half)?"
_PART = rf"(?:{_AMOUNT} {_UNIT}(?: and a half)?|half an? {_UNIT})"
DURATION_PATTERN = rf"{_PART}(?:,? (?:and )?{_PART})*"
_DURATION_PART = re.compile(
    rf"half an? (?P<hunit>{_UNIT})|(?P<amount>{_AMOUNT}) (?P<unit>{_UNIT})(?P<half> and a half)?"
)

_HOUR = r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_MINUTE_WORD = "(?:" + "|".join([*UNIT_WORDS, *TENS_WORDS]) + ")"
_MINUTES = rf"(?:\d{{2}}|oh \w+|o \w+|{_MINUTE_WORD}(?: (?:{'|'.join(UNIT_WORDS)}))?)"
# "7:30", "7.30" and "730" are all how Whisper writes "seven thirty"; a bare hour means the next one on the clock.
TIME_PATTERN = (rf"(?:noon|midnight|\d{{1,2}}[:.]\d{{2}}(?: [ap]m)?|\d{{3,4}}(?: [ap]m)?|"
                rf"{_HOUR}(?: {_MINUTES})?(?: [ap]m| o'?clock| o clock)?)")


def parse_number(text: str) -> float | None:
    """'42', '2.5', 'forty two', 'one hundred twenty' -> the number; anything else -> None."""
    text = text.strip()
    if re.fullmatch(_DIGITS, text):
        return float(text)
    total, current, seen = 0, 0, False
    for word in text.split():
        if word in UNIT_WORDS:
            current += UNIT_WORDS[word]
        elif word in TENS_WORDS:
            current += TENS_WORDS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            return None
        seen = True
    return float(total + current) if seen else None


def _parse_amount(text: str) -> float | None:
    half = text.endswith(" and a half")
    if half:
        text = text[: -len(" and a half")]
    value = 1.0 if text in ("a", "an") else parse_number(text)
    if value is None:
        return None
    return value + 0.5 if half else value


def parse_duration(text: str) -> float | None:
    """'5 minutes', 'an hour and a half', 'half an hour', '1 hour 30 minutes' -> seconds; else None."""
    text = text.replace(",", " ").strip()
    if not re.fullmatch(DURATION_PATTERN, text):
        return None
    total = 0.0
    for part in _DURATION_PART.finditer(text):
        if part.group("hunit"):
            total += 0.5 * _UNIT_SECONDS[part.group("hunit")]
            continue
        amount = _parse_amount(part.group("amount"))
        if amount is None:
            return None
        if part.group("half"):
            amount += 0.5
        total += amount * _UNIT_SECONDS[part.group("unit")]
    return total


def parse_time_of_day(text: str) -> tuple[int, int] | None:
    """'7:30 am', 'seven thirty pm', '6 o'clock', 'noon' -> (hour 0-23, minute); else None."""
    text = text.strip()
    if text == "noon":
        return 12, 0
    if text == "midnight":
        return 0, 0
    if not re.fullmatch(TIME_PATTERN, text):
        return None
    meridiem = None
    for suffix in (" am", " pm"):
        if text.endswith(suffix):
            meridiem, text = suffix.strip(), text[: -len(suffix)]
    text = re.sub(r" o'?clock$| o clock$", "", text)
    if ":" in text or "." in text:
        hour_text, minute_text = re.split(r"[:.]", text, maxsplit=1)
    elif text.isdigit() and len(text) >= 3:
        hour_text, minute_text = text[:-2], text[-2:]
    else:
        hour_text, _, minute_text = text.partition(" ")
        minute_text = re.sub(r"^o ", "oh ", minute_text)
        minute_text = minute_text.removeprefix("oh ")
    hour = parse_number(hour_text)
    minute = parse_number(minute_text) if minute_text else 0.0
    if hour is None or minute is None or not hour.is_integer() or not minute.is_integer():
        return None
    h, m = int(hour), int(minute)
    if meridiem is not None:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if meridiem == "pm" else 0)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        return None
    return h, m


def say_clock(moment: datetime) -> str:
    """'3:05 AM': a time of day as the replies say it."""
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def say_duration(seconds: float, joined: bool = True) -> str:
    """Seconds as words for a reply: '5 minutes', '1 hour and 2 minutes', '30 seconds' ('1 hour 2 minutes'
    without ``joined``, as a transcript of a command writes it)."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    units = ((hours, "hour"), (minutes, "minute"), (secs, "second"))
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in units if n]
    if not parts:
        return "0 seconds"
    if len(parts) == 1 or not joined:
        return " ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
