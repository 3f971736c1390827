"""Dates in words, both ways: what a phrase names ("christmas next year", "the 25th", "in 3 weeks", "friday",
"my birthday on march 3") as a date counted from today, and a date or a span said for the ear ("Friday,
December 25", "2 weeks and 4 days"). Used by the calendar and world-clock skills.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from assistant.brain.answers.numbers import parse_number

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES, 1)}
# Whisper sometimes writes "Dec 25"; prepare() drops the full stop. Read them, never say them.
MONTHS.update({"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
                "oct": 10, "nov": 11, "dec": 12})
_WEEKDAYS = {name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)}

_ORDINAL_UNITS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9}
_ORDINALS = {**_ORDINAL_UNITS, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
             "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
             "twentieth": 20, "thirtieth": 30, "thirty first": 31,
             **{f"twenty {word}": 20 + value for word, value in _ORDINAL_UNITS.items()}}
_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_DAY = r"(?P<day>\d{1,2}(?:st|nd|rd|th)?|" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + ")"
_WEEKDAY = "(?P<weekday>" + "|".join(_WEEKDAYS) + ")"

# ---- holidays -------------------------------------------------------------------------------------------


def easter(year: int) -> date:
    """Western Easter Sunday: the anonymous Gregorian computus (Meeus/Jones/Butcher), exact for every year."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    moon_correction = (century - (century + 8) // 25 + 1) // 3
    epact = (19 * golden + century - leap_centuries - moon_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    to_sunday = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    late = (golden + 11 * epact + 22 * to_sunday) // 451
    month, day = divmod(epact + to_sunday - 7 * late + 114, 31)
    return date(year, month, day + 1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The nth (1-based) given weekday of a month, or the last one when n is -1: Thanksgiving is (11, 3, 4)."""
    if n == -1:
        following = date(year + month // 12, month % 12 + 1, 1)
        last = following - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


@dataclass(frozen=True)
class Holiday:
    name: str  # as the reply says it
    on: Callable[[int], date]
    fixed: bool  # the same day every year, so the reply need not repeat the date


def _fixed(name: str, month: int, day: int) -> Holiday:
    return Holiday(name, lambda year: date(year, month, day), True)


def _moving(name: str, on: Callable[[int], date]) -> Holiday:
    return Holiday(name, on, False)


_CHRISTMAS = _fixed("Christmas", 12, 25)
_NEW_YEARS_DAY = _fixed("New Year's Day", 1, 1)
_EASTER = _moving("Easter", easter)
_THANKSGIVING = _moving("Thanksgiving", lambda year: nth_weekday(year, 11, 3, 4))
# Keys as prepare() leaves the name with apostrophes removed ("new year's" -> "new years") and "the" dropped.
# US dates where countries differ (Thanksgiving, Mother's Day), as the brief for this assistant asks.
HOLIDAYS = {
    "new year": _fixed("New Year", 1, 1), "new years": _fixed("New Year", 1, 1),
    "new years day": _NEW_YEARS_DAY, "new year day": _NEW_YEARS_DAY,
    "new years eve": _fixed("New Year's Eve", 12, 31), "new year eve": _fixed("New Year's Eve", 12, 31),
    "valentines day": _fixed("Valentine's Day", 2, 14), "valentines": _fixed("Valentine's Day", 2, 14),
    "saint valentines day": _fixed("Valentine's Day", 2, 14),
    "st patricks day": _fixed("Saint Patrick's Day", 3, 17), "saint patricks day": _fixed("Saint Patrick's Day", 3, 17),
    "st patricks": _fixed("Saint Patrick's Day", 3, 17), "saint patricks": _fixed("Saint Patrick's Day", 3, 17),
    "halloween": _fixed("Halloween", 10, 31),
    "christmas eve": _fixed("Christmas Eve", 12, 24),
    "christmas": _CHRISTMAS, "christmas day": _CHRISTMAS, "xmas": _CHRISTMAS,
    "boxing day": _fixed("Boxing Day", 12, 26),
    "independence day": _fixed("Independence Day", 7, 4),
    "fourth of july": _fixed("The Fourth of July", 7, 4), "4th of july": _fixed("The Fourth of July", 7, 4),
    "easter": _EASTER, "easter sunday": _EASTER,
    "good friday": _moving("Good Friday", lambda year: easter(year) - timedelta(days=2)),
    "easter monday": _moving("Easter Monday", lambda year: easter(year) + timedelta(days=1)),
    "thanksgiving": _THANKSGIVING, "thanksgiving day": _THANKSGIVING,
    "mothers day": _moving("Mother's Day", lambda year: nth_weekday(year, 5, 6, 2)),
    "fathers day": _moving("Father's Day", lambda year: nth_weekday(year, 6, 6, 3)),
    "memorial day": _moving("Memorial Day", lambda year: nth_weekday(year, 5, 0, -1)),
    "labor day": _moving("Labor Day", lambda year: nth_weekday(year, 9, 0, 1)),
}

# ---- what the question asks about -------------------------------------------------------------------------

Kind = Literal["named", "date", "weekday", "relative"]
# Which occurrence of a yearly date: the next one from today on, strictly after or before today, the most
# recent up to today, or that of a given year.
Pick = Literal["upcoming", "after", "before", "recent"] | int


@dataclass(frozen=True)
class Target:
    day: date
    label: str  # how the reply names it: "Christmas", "Friday", "Tomorrow", "In 3 weeks"; "" for a plain date
    kind: Kind  # named: a holiday or "my birthday on ..."; date: a calendar date; relative: "tomorrow", "in 3 days"
    known: bool = False  # the label already tells its date (Christmas, March 3), so the reply needn't repeat it
    year_said: bool = False  # the user named the year, so the reply names it too
    clause: bool = False  # a relative label that reads "In 3 weeks it will be", not "Tomorrow is"


_RELATIVE_DAYS = {"tomorrow": ("Tomorrow", 1), "yesterday": ("Yesterday", -1),
                  "the day after tomorrow": ("The day after tomorrow", 2),
                  "day after tomorrow": ("The day after tomorrow", 2),
                  "the day before yesterday": ("The day before yesterday", -2),
                  "day before yesterday": ("The day before yesterday", -2)}
_UNIT = r"(?P<unit>days?|weeks?|fortnights?|months?|years?)"
_IN = re.compile(rf"^in (?P<amount>.+?) {_UNIT}(?: time)?$")
_FROM_NOW = re.compile(rf"^(?P<amount>.+?) {_UNIT} (?P<how>from now|from today|later|hence|ago|back|earlier)$")
_FROM_ANCHOR = re.compile(rf"^(?P<amount>.+?) {_UNIT} (?P<how>from|after|before) (?P<anchor>.+)$")
_WEEKDAY_TARGET = re.compile(rf"^(?:(?P<which>this coming|coming|this|next|last|on) )?{_WEEKDAY}"
                             r"(?: (?P<week>this week|next week|last week))?$")
_LABELLED = re.compile(r"^(?P<owner>my|our) (?P<what>[a-z']+(?: [a-z']+){0,3}?) (?:is )?on (?P<date>.+)$")
_MONTH_DAY = re.compile(rf"^{_MONTH} (?:the )?{_DAY}$")
_DAY_MONTH = re.compile(rf"^(?:the )?{_DAY} (?:of )?{_MONTH}$")
_DAY_OF_MONTH = re.compile(rf"^the {_DAY}(?: of (?P<which>this|next|the) month)?$")
_YEAR_DIGITS = re.compile(r"^(?P<rest>.+?) (?:in |of )?(?:the year )?(?P<year>\d{4})$")
_CENTURIES = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20}
_FIRST_YEAR = 1583  # the first whole year of the Gregorian calendar; earlier weekdays would need the Julian one


def find_target(words: str, today: date, default: Pick = "upcoming") -> Target | None:
    """What ``words`` names as a date, or None unless all of it parses. ``default`` picks which year's
    occurrence a yearly date means when the words don't say."""
    words = re.sub(r" (?:fall|falls|land|lands|be|come|comes)(?: on)?(?= |$)", "", words)
    words = re.sub(r" on(?=$| this year| next year| last year| in \d{4})", "", words)
    try:
        return (_relative(words, today) or _offset(words, today) or _weekday(words, today)
                or _labelled(words, today, default) or _yearly(words, today, default))
    except (OverflowError, ValueError):  # past year 9999 or before year 1
        return None


def _relative(words: str, today: date) -> Target | None:
    if words not in _RELATIVE_DAYS:
        return None
    label, days = _RELATIVE_DAYS[words]
    return Target(today + timedelta(days=days), label, "relative")


def _offset(words: str, today: date) -> Target | None:
    """'in 3 weeks', '10 days from now', '2 weeks ago', 'a week after christmas'."""
    if match := _IN.match(words):
        span = _span(match["amount"], match["unit"])
        return None if span is None else Target(_shift(today, span, 1), f"In {span[2]}", "relative", clause=True)
    if match := _FROM_NOW.match(words):
        span = _span(match["amount"], match["unit"])
        if span is None:
            return None
        if match["how"] in ("ago", "back", "earlier"):
            return Target(_shift(today, span, -1), f"{span[2]} ago", "relative", clause=True)
        return Target(_shift(today, span, 1), f"{span[2]} from now", "relative", clause=True)
    if match := _FROM_ANCHOR.match(words):
        span = _span(match["amount"], match["unit"])
        anchor = find_target(match["anchor"], today)
        if span is None or anchor is None or (anchor.kind == "relative" and anchor.clause):
            return None
        sign = -1 if match["how"] == "before" else 1
        anchor_name = anchor.label if anchor.kind != "date" else month_day(anchor.day, anchor.year_said)
        if anchor.kind == "relative" or anchor_name.split()[0] in ("Next", "Last", "This", "The"):
            anchor_name = anchor_name[0].lower() + anchor_name[1:]  # mid-sentence: "2 days after next Friday"
        return Target(_shift(anchor.day, span, sign), f"{span[2]} {match['how']} {anchor_name}", "relative")
    return None


def _span(amount: str, unit: str) -> tuple[int, str, str] | None:
    """('3 weeks' parts) -> (count, 'days' or 'months', '3 weeks' as said back); None unless a whole count."""
    value = 1.0 if amount in ("a", "an", "one") else parse_number(amount)
    if value is None or value != int(value) or not 0 < value <= 100_000:
        return None
    count, singular = int(value), unit.rstrip("s")
    said = f"a {singular}" if count == 1 else f"{count} {singular}s"  # "in a week" is how people say it
    if singular in ("month", "year"):
        return count * (12 if singular == "year" else 1), "months", said
    return count * {"day": 1, "week": 7, "fortnight": 14}[singular], "days", said


def _shift(start: date, span: tuple[int, str, str], sign: int) -> date:
    count, unit, _ = span
    return start + timedelta(days=sign * count) if unit == "days" else add_months(start, sign * count)


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter (January 31 + 1 -> February 28)."""
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    day = start.day
    while True:
        try:
            return date(year, month0 + 1, day)
        except ValueError:
            if day <= 28:
                raise
            day -= 1


def _weekday(words: str, today: date) -> Target | None:
    """'friday', 'next friday', 'last friday', 'this friday', 'friday next week'."""
    match = _WEEKDAY_TARGET.match(words)
    if match is None or (match["which"] and match["week"]):
        return None
    weekday, which, week = _WEEKDAYS[match["weekday"]], match["which"] or "", match["week"]
    name = WEEKDAY_NAMES[weekday]
    if week:  # Monday-to-Sunday weeks: "friday next week" is in the week after this one
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks={"this": 0, "next": 1, "last": -1}[
            week.split()[0]])
        return Target(monday + timedelta(days=weekday), f"{name} {week}", "weekday")
    ahead = (weekday - today.weekday()) % 7
    if which == "last":
        return Target(today - timedelta(days=(today.weekday() - weekday) % 7 or 7), f"Last {name}", "weekday")
    if which in ("this", "this coming") and ahead == 0:
        return Target(today, f"This {name}", "weekday")
    # A bare or "next" weekday is the coming one, never today: asked on a Friday, "until Friday" means a week.
    label = {"next": f"Next {name}", "this": f"This {name}"}.get(which, name)
    return Target(today + timedelta(days=ahead or 7), label, "weekday")


def _labelled(words: str, today: date, default: Pick) -> Target | None:
    """'my birthday on march 3': the user's own event, on a date they give."""
    match = _LABELLED.match(words)
    if match is None:
        return None
    when = _yearly(match["date"], today, default)
    if when is None or when.kind != "date":
        return None
    return Target(when.day, f"your {match['what']}", "named", known=True, year_said=when.year_said)


def _yearly(words: str, today: date, default: Pick) -> Target | None:
    """A holiday or calendar date, with the year or which occurrence: 'easter next year', 'march 3rd 2027',
    'last christmas', 'the 25th', 'july 4 1976'."""
    if match := _DAY_OF_MONTH.match(words):
        return _day_of_month(_day_number(match["day"]), match["which"], today)
    if words in ("the end of the year", "end of the year"):
        return Target(date(today.year, 12, 31), "the end of the year", "named")
    words, pick, year_said = _which_year(words, today, default)
    holiday = HOLIDAYS.get(words.removeprefix("the ").replace("'", ""))
    if holiday is not None:
        day = _occurrence(holiday.on, today, pick)
        return None if day is None else Target(day, holiday.name, "named", holiday.fixed, year_said)
    match = _MONTH_DAY.match(words) or _DAY_MONTH.match(words)
    if match is None:
        return None
    month, day_of_month = MONTHS[match["month"]], _day_number(match["day"])
    day = _occurrence(lambda year: date(year, month, day_of_month), today, pick)
    return None if day is None else Target(day, "", "date", True, year_said)


def _which_year(words: str, today: date, default: Pick) -> tuple[str, Pick, bool]:
    """Split off 'next year', '2027', 'nineteen seventy six', or a leading 'next'/'last'/'this'."""
    for suffix, year in ((" this year", today.year), (" next year", today.year + 1), (" last year", today.year - 1)):
        if words.endswith(suffix):
            return words.removesuffix(suffix), year, True
    if match := _YEAR_DIGITS.match(words):
        return match["rest"], int(match["year"]), True
    tokens = words.split()
    for size in (4, 3, 2):
        spoken = _spoken_year(tokens[-size:]) if len(tokens) > size else None
        if spoken is not None:
            return " ".join(tokens[:-size]), spoken, True
    prefixes: tuple[tuple[str, Pick], ...] = (("next ", "after"), ("last ", "before"), ("this ", today.year))
    for prefix, pick in prefixes:
        if words.startswith(prefix):
            return words.removeprefix(prefix), pick, False
    return words, default, False


def _spoken_year(tokens: list[str]) -> int | None:
    """'nineteen seventy six' -> 1976, 'twenty twenty seven' -> 2027, 'two thousand and one' -> 2001."""
    value = parse_number(" ".join(tokens))
    if value is None and tokens[0] in _CENTURIES:
        rest = tokens[1:]
        if rest == ["hundred"]:
            value = 100.0 * _CENTURIES[tokens[0]]
        elif rest[:1] == ["oh"] and len(rest) == 2:
            digit = parse_number(rest[1])
            value = None if digit is None or digit >= 10 else 100.0 * _CENTURIES[tokens[0]] + digit
        else:
            tail = parse_number(" ".join(rest))
            value = None if tail is None or not 10 <= tail < 100 else 100.0 * _CENTURIES[tokens[0]] + tail
    if value is None or value != int(value) or not _FIRST_YEAR <= value <= 9999:
        return None
    return int(value)


def _occurrence(on: Callable[[int], date], today: date, pick: Pick) -> date | None:
    """The date ``on(year)`` for the year ``pick`` means; a date some years lack (February 29) skips them."""
    if isinstance(pick, int):
        return _on(on, pick) if _FIRST_YEAR <= pick <= 9999 else None
    step = 1 if pick in ("upcoming", "after") else -1
    for year in range(today.year - step, today.year + 9 * step, step):  # 8 years always holds a February 29
        day = _on(on, year)
        if day is not None and {"upcoming": day >= today, "after": day > today, "before": day < today,
                                "recent": day <= today}[pick]:
            return day
    return None


def _on(on: Callable[[int], date], year: int) -> date | None:
    try:
        return on(year)
    except ValueError:  # February 29 in a common year, June 31
        return None


def _day_of_month(day_of_month: int, which: str | None, today: date) -> Target | None:
    """'the 25th': this month's if it is still to come, else the next month that has one; 'the 25th of next
    month' or 'of this month' (even if past) when said."""
    first = today.replace(day=1)
    if which:
        day = _with_day(add_months(first, 1 if which == "next" else 0), day_of_month)
        return None if day is None else Target(day, "", "date", known=True)
    for months in range(3):  # within 3 months some month has a 29th, 30th or 31st
        day = _with_day(add_months(first, months), day_of_month)
        if day is not None and day >= today:
            return Target(day, "", "date", known=True)
    return None


def _with_day(first: date, day_of_month: int) -> date | None:
    try:
        return first.replace(day=day_of_month)
    except ValueError:  # the 31st of a 30-day month
        return None


def _day_number(day: str) -> int:
    return _ORDINALS[day] if day in _ORDINALS else int(day.rstrip("stndrh"))


# ---- how the reply says it ------------------------------------------------------------------------------


def say_day(day: date, today: date) -> str:
    """'Friday, December 25', with the year when it is not this year."""
    return f"{WEEKDAY_NAMES[day.weekday()]}, {month_day(day, day.year != today.year)}"


def month_day(day: date, with_year: bool) -> str:
    return f"{MONTH_NAMES[day.month - 1]} {day.day}" + (f", {day.year}" if with_year else "")


def plural(count: int, unit: str) -> str:
    return f"{count} {unit}" + ("" if count == 1 else "s")


def say_span(start: date, end: date, unit: str) -> str:
    """The time from ``start`` to ``end`` (end later) in days, weeks and days, or months and days."""
    days = (end - start).days
    if unit == "weeks" and days >= 7:
        weeks, rest = divmod(days, 7)
        return plural(weeks, "week") + (f" and {plural(rest, 'day')}" if rest else "")
    if unit == "months":
        months = (end.year - start.year) * 12 + end.month - start.month
        if add_months(start, months) > end:
            months -= 1
        if months > 0:
            rest = (end - add_months(start, months)).days
            return plural(months, "month") + (f" and {plural(rest, 'day')}" if rest else "")
    return plural(days, "day")


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def say_subject(target: Target, today: date) -> str:
    if target.kind == "date":  # the year when said, or when it is not the coming one (February 29, 2028)
        return month_day(target.day, target.year_said or abs((target.day - today).days) > 366)
    return capital(target.label)
