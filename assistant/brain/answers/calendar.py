"""Date questions answered by arithmetic: holidays, days until a date, the date N days away, weekdays of dates.

Everything counts from the ``now`` the router passes (local time) and never reads the clock, so answers are
reproducible. A question whose target does not parse whole ("what day is the meeting") returns None and goes
to the LLM. "What day is it" and "what's the date" (today) are the date skill's; this skill never takes them.
"""

from __future__ import annotations

import re
from calendar import isleap, monthrange
from datetime import date, datetime

from assistant.brain.answers.base import Answer
from assistant.brain.answers.dates import (
    MONTH_NAMES,
    MONTHS,
    WEEKDAY_NAMES,
    Pick,
    Target,
    capital,
    find_target,
    month_day,
    plural,
    say_day,
    say_span,
    say_subject,
)

# ---- the questions --------------------------------------------------------------------------------------

# "what day is christmas", "what day of the week was july 4 1976", "what's the date in 3 weeks",
# "what date will it be in 10 days", "what day is it tomorrow", "when is easter next year"
_ASK_DAY = re.compile(
    r"^(?:(?:what|which)(?:'s| is| was| will| would)? (?:be )?(?:the )?"
    r"(?P<kind>day of the week|day and date|date|day|weekday)(?: of| for)?"
    r"(?: (?P<verb>is|was|will|would|does|did|do|falls?))?(?: it)?(?: (?:be|fall|land))?(?: on| for)?"
    r"|when(?P<when_verb>'s| is| was| will| does| did)?)"
    r" (?P<target>.+)$"
)
_ASK_NAMED_DAY = re.compile(r"^what(?:'s| is| was| will be)? (?:the date )?(?P<target>tomorrow|yesterday|the day after "
                            r"tomorrow|the day before yesterday)(?:'s date| be)?$")
_DURING = r"(?: (?:is it|are there|is there|are left|is left|left|do we have|do i have|to go|now|more))*"
# "how many days until christmas", "how long until friday", "how many weeks till my birthday on march 3"
_ASK_UNTIL = re.compile(
    r"^(?:how (?:many (?:more )?(?P<unit>days|weeks|months)|long)" + _DURING + r"|(?P<bare>days|weeks)(?: left)?)"
    r" (?:until|till|til|to|before) (?P<target>.+?)(?: from (?:now|today))?$"
)
_ASK_AWAY = re.compile(r"^how (?:many (?P<unit>days|weeks|months) |far |long )?away is (?P<target>.+)$")
# "how many days since christmas", "how long ago was halloween"
_ASK_SINCE = re.compile(
    r"^how (?:many (?P<unit>days|weeks|months)|long)"
    r"(?: (?:has it been|is it|has passed|have passed|have gone by|has gone by|been))*"
    r" (?:since (?P<target>.+)|ago (?:was|is|did) (?P<past>.+?)(?: happen)?)$"
)
_PAST_VERBS = ("was", "did", " was", " did")
# facts of the calendar itself: "what month is it", "is it the weekend", "how many days are in february"
_ASK_MONTH = re.compile(r"^(?:what|which) month is it(?: now| today)?$|^what(?:'s| is) the month(?: today)?$")
_ASK_YEAR = re.compile(r"^(?:what|which) year is it(?: now)?$|^what(?:'s| is) the year$")
_ASK_WEEKEND = re.compile(r"^is it (?:the )?weekend(?: yet| today| now)?$")
_ASK_LEFT = re.compile(r"^how many (?P<unit>days|weeks) (?:are )?(?:left|remaining|remain|to go) in (?:the|this) year$")
_ASK_LENGTH = re.compile(
    r"^how many days (?:are (?:there )?in|in|does|do|has|is) (?:a |the )?(?:month of )?"
    r"(?P<month>" + "|".join(name.lower() for name in MONTH_NAMES) + r"|year|leap year)"
    r"(?: (?:have|got))?(?: (?P<which>this|next|last) year| (?:in )?(?P<year>\d{4}))?(?: have)?$"
)
_ASK_LEAP = re.compile(r"^is (?P<year>\d{4}|this year|next year|last year) a leap year$")


class CalendarAnswers:
    """Holidays, counting days, dates some days away and the weekday of a date, worked out from ``now``."""

    name = "calendar"

    def answer(self, text: str, now: datetime) -> Answer | None:
        today = now.date()
        fact = _calendar_fact(text, today)
        if fact is not None:
            return fact
        if (match := _ASK_UNTIL.match(text)) or (match := _ASK_AWAY.match(text)):
            unit = match["unit"] or match.groupdict().get("bare") or "days"
            return self._until(match["target"], today, unit, "upcoming")
        if match := _ASK_SINCE.match(text):
            return self._until(match["target"] or match["past"], today, match["unit"] or "days", "recent")
        if match := _ASK_NAMED_DAY.match(text):
            return self._day(match["target"], today, "upcoming")
        if match := _ASK_DAY.match(text):
            past = match["verb"] in _PAST_VERBS or match["when_verb"] in _PAST_VERBS or text.startswith("what was")
            return self._day(match["target"], today, "recent" if past else "upcoming")
        return None

    def _until(self, words: str, today: date, unit: str, default: Pick) -> Answer | None:
        target = find_target(words, today, default)
        if target is None or target.kind == "relative":
            return None  # "how many days until tomorrow" or "until in 3 weeks" is not a question worth a count
        days = (target.day - today).days
        subject = say_subject(target, today)
        if days == 0:
            text = f"{subject} is today!"
        elif days == 1:
            text = f"{subject} is tomorrow."
        elif days == -1:
            text = f"{subject} was yesterday."
        else:
            # Say only what the subject didn't: "Christmas ... on Friday", "Easter ... on Sunday, March 28, 2027".
            weekday = WEEKDAY_NAMES[target.day.weekday()]
            if target.kind == "weekday":
                tail = month_day(target.day, target.day.year != today.year)
            elif target.kind == "date" or (target.known and abs(days) <= 366):
                tail = weekday
            else:
                tail = say_day(target.day, today)
            if days > 0:
                text = f"{subject} is in {say_span(today, target.day, unit)}, on {tail}."
            else:
                text = f"{subject} was {say_span(target.day, today, unit)} ago, on {tail}."
        intent = "calendar.until" if default == "upcoming" else "calendar.since"
        return Answer(text, intent, {"target": target.day.isoformat(), "days": days, "unit": unit,
                                     "label": target.label})

    def _day(self, words: str, today: date, default: Pick) -> Answer | None:
        target = find_target(words, today, default)
        if target is None:
            return None
        days = (target.day - today).days
        verb = "was" if days < 0 else "is"
        slots = {"target": target.day.isoformat(), "days": days, "label": target.label}
        if target.kind == "relative":
            if target.clause:
                text = f"{capital(target.label)} it {'was' if days < 0 else 'will be'} {say_day(target.day, today)}."
            else:
                text = f"{capital(target.label)} {verb} {say_day(target.day, today)}."
            return Answer(text, "calendar.offset", slots)
        if target.kind == "named":
            return Answer(_say_named(target, today), "calendar.holiday", slots)
        if target.kind == "weekday":
            when = "today, " if days == 0 else ""
            text = f"{target.label} {verb} {when}{month_day(target.day, target.day.year != today.year)}."
            return Answer(text, "calendar.weekday", slots)
        subject = month_day(target.day, target.year_said or target.day.year != today.year)
        weekday = WEEKDAY_NAMES[target.day.weekday()]
        text = f"{subject} is today, a {weekday}." if days == 0 else f"{subject} {verb} a {weekday}."
        return Answer(text, "calendar.weekday", slots)


def _say_named(target: Target, today: date) -> str:
    """'Christmas is on Friday, December 25, in 18 days.'; 'Halloween was on Saturday, October 31, 37 days ago.'"""
    subject, days, when = capital(target.label), (target.day - today).days, say_day(target.day, today)
    if days in (-1, 0, 1):
        return f"{subject} {'was' if days < 0 else 'is'} {('yesterday', 'today', 'tomorrow')[days + 1]}, {when}."
    if days > 0:
        return f"{subject} is on {when}" + (f", in {days} days." if days <= 366 else ".")
    return f"{subject} was on {when}" + (f", {-days} days ago." if -days <= 366 else ".")


def _year_of(which: str | None, digits: str | None, today: date) -> int:
    if digits:
        return int(digits)
    return today.year + {"next": 1, "last": -1}.get(which or "this", 0)


def _calendar_fact(text: str, today: date) -> Answer | None:
    """The month, the year, whether it is the weekend, days left in the year, days in a month, leap years."""
    if _ASK_MONTH.match(text):
        return Answer(f"It's {MONTH_NAMES[today.month - 1]}.", "calendar.month", {"month": today.month})
    if _ASK_YEAR.match(text):
        return Answer(f"It's {today.year}.", "calendar.year", {"year": today.year})
    if _ASK_WEEKEND.match(text):
        weekday = WEEKDAY_NAMES[today.weekday()]
        weekend = today.weekday() >= 5
        text_out = f"Yes, it's {weekday}." if weekend else f"No, it's {weekday}."
        return Answer(text_out, "calendar.weekend", {"weekend": weekend})
    if match := _ASK_LEFT.match(text):
        days = (date(today.year, 12, 31) - today).days
        unit = match["unit"]
        amount = plural(days, "day") if unit == "days" else say_span(today, date(today.year, 12, 31), "weeks")
        return Answer(f"{capital(amount)} left in {today.year} after today.", "calendar.left",
                      {"days": days, "year": today.year})
    if match := _ASK_LENGTH.match(text):
        year = _year_of(match["which"], match["year"], today)
        if not 1583 <= year <= 9999:
            return None
        what = match["month"]
        if what in ("year", "leap year"):
            days = 366 if what == "leap year" or isleap(year) else 365
            if what == "leap year":
                said = "A leap year has 366 days."
            elif match["which"] or match["year"]:
                said = f"{year} has {days} days."
            else:
                said = f"A year has 365 days, or 366 in a leap year; {year} has {days}."
            return Answer(said, "calendar.length", {"year": year, "days": days})
        month = MONTHS[what]
        days = monthrange(year, month)[1]
        return Answer(f"{MONTH_NAMES[month - 1]} {year} has {days} days.", "calendar.length",
                      {"year": year, "month": month, "days": days})
    if match := _ASK_LEAP.match(text):
        said_year = match["year"]
        year = int(said_year) if said_year.isdigit() else _year_of(said_year.split()[0], None, today)
        leap = isleap(year)
        return Answer(f"{'Yes' if leap else 'No'}, {year} {'is' if leap else 'is not'} a leap year.",
                      "calendar.leap_year", {"year": year, "leap": leap})
    return None
