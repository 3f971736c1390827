"""Calendar answers: holidays, days until, dates some days away, weekdays of dates, and what goes to the LLM."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from assistant.brain.answers.base import Answer, prepare
from assistant.brain.answers.calendar import CalendarAnswers
from assistant.brain.answers.dates import easter, nth_weekday

NOW = datetime(2026, 12, 7, 10, 0)  # a Monday, 18 days before Christmas


def ask(question: str, now: datetime = NOW) -> Answer | None:
    """As the router asks: the transcript prepared, then the skill."""
    return CalendarAnswers().answer(prepare(question), now)


REPLIES = [
    # holidays: weekday and date, next year's once this year's has passed
    ("What day is Christmas this year?", "Christmas is on Friday, December 25, in 18 days."),
    ("What day is Christmas?", "Christmas is on Friday, December 25, in 18 days."),
    ("What day of the week is Christmas?", "Christmas is on Friday, December 25, in 18 days."),
    ("What day does Christmas fall on?", "Christmas is on Friday, December 25, in 18 days."),
    ("What day of the week will Christmas be?", "Christmas is on Friday, December 25, in 18 days."),
    ("What day is Christmas on this year?", "Christmas is on Friday, December 25, in 18 days."),
    ("What day is Christmas Day?", "Christmas is on Friday, December 25, in 18 days."),
    ("When is Christmas Eve?", "Christmas Eve is on Thursday, December 24, in 17 days."),
    ("When is Boxing Day?", "Boxing Day is on Saturday, December 26, in 19 days."),
    ("What day is New Year's Eve?", "New Year's Eve is on Thursday, December 31, in 24 days."),
    ("What day is New Year's Day?", "New Year's Day is on Friday, January 1, 2027, in 25 days."),
    ("What day is new years day", "New Year's Day is on Friday, January 1, 2027, in 25 days."),
    ("When is Easter next year?", "Easter is on Sunday, March 28, 2027, in 111 days."),
    ("When is Easter Sunday next year?", "Easter is on Sunday, March 28, 2027, in 111 days."),
    ("When is Easter?", "Easter is on Sunday, March 28, 2027, in 111 days."),
    ("When is Easter in 2027?", "Easter is on Sunday, March 28, 2027, in 111 days."),
    ("When is Easter 2024?", "Easter was on Sunday, March 31, 2024."),
    ("What date is Thanksgiving?", "Thanksgiving is on Thursday, November 25, 2027, in 353 days."),
    ("When was Thanksgiving this year?", "Thanksgiving was on Thursday, November 26, 11 days ago."),
    ("When was Thanksgiving?", "Thanksgiving was on Thursday, November 26, 11 days ago."),
    ("What day was Halloween this year?", "Halloween was on Saturday, October 31, 37 days ago."),
    ("When's Halloween?", "Halloween is on Sunday, October 31, 2027, in 328 days."),
    ("When is Valentine's Day?", "Valentine's Day is on Sunday, February 14, 2027, in 69 days."),
    ("What day is St. Patrick's Day?", "Saint Patrick's Day is on Wednesday, March 17, 2027, in 100 days."),
    ("When is the Fourth of July?", "The Fourth of July is on Sunday, July 4, 2027, in 209 days."),
    ("When is Independence Day?", "Independence Day is on Sunday, July 4, 2027, in 209 days."),
    ("When is Good Friday?", "Good Friday is on Friday, March 26, 2027, in 109 days."),
    ("When is Mother's Day?", "Mother's Day is on Sunday, May 9, 2027, in 153 days."),
    ("When is Father's Day?", "Father's Day is on Sunday, June 20, 2027, in 195 days."),
    ("What day was last Christmas?", "Christmas was on Thursday, December 25, 2025, 347 days ago."),
    ("When is next Christmas?", "Christmas is on Friday, December 25, in 18 days."),
    ("What day is Christmas 2030?", "Christmas is on Wednesday, December 25, 2030."),
    ("What day is Christmas twenty thirty?", "Christmas is on Wednesday, December 25, 2030."),
    # counting days (and weeks, months) until something
    ("How many days until Christmas?", "Christmas is in 18 days, on Friday."),
    ("How many days till Christmas?", "Christmas is in 18 days, on Friday."),
    ("How many days are left until Christmas?", "Christmas is in 18 days, on Friday."),
    ("How many days is it until Christmas?", "Christmas is in 18 days, on Friday."),
    ("How long until Christmas?", "Christmas is in 18 days, on Friday."),
    ("How long is it until Christmas?", "Christmas is in 18 days, on Friday."),
    ("Days until Christmas", "Christmas is in 18 days, on Friday."),
    ("How far away is Christmas?", "Christmas is in 18 days, on Friday."),
    ("How many weeks until Christmas?", "Christmas is in 2 weeks and 4 days, on Friday."),
    ("How many weeks until December 21?", "December 21 is in 2 weeks, on Monday."),
    ("How many weeks until Friday?", "Friday is in 4 days, on December 11."),
    ("How many weeks until Easter?", "Easter is in 15 weeks and 6 days, on Sunday, March 28, 2027."),
    ("How many days until Friday?", "Friday is in 4 days, on December 11."),
    ("How many days until Monday?", "Monday is in 7 days, on December 14."),
    ("How many days until Friday next week?", "Friday next week is in 11 days, on December 18."),
    ("How many days until my birthday on March 3?", "Your birthday is in 86 days, on Wednesday."),
    ("How many days until my birthday on the 3rd of March?", "Your birthday is in 86 days, on Wednesday."),
    ("How many months until my birthday on March 3rd?", "Your birthday is in 2 months and 24 days, on Wednesday."),
    ("How many days until our anniversary on June 12th?", "Your anniversary is in 187 days, on Saturday."),
    ("How many days until the 25th?", "December 25 is in 18 days, on Friday."),
    ("How many days until December 31st?", "December 31 is in 24 days, on Thursday."),
    ("How many days until New Year?", "New Year is in 25 days, on Friday."),
    ("How many days until the end of the year?", "The end of the year is in 24 days, on Thursday, December 31."),
    ("How many days until February 29?", "February 29, 2028 is in 449 days, on Tuesday."),
    ("How many days until Christmas 2025?", "Christmas was 347 days ago, on Thursday."),
    ("How many days since Christmas?", "Christmas was 347 days ago, on Thursday."),
    ("How long ago was Halloween?", "Halloween was 37 days ago, on Saturday."),
    ("How many days since July 4, 1776?", "July 4, 1776 was 91466 days ago, on Thursday."),
    # the date some days away
    ("What's the date in three weeks?", "In 3 weeks it will be Monday, December 28."),
    ("What date will it be in 10 days?", "In 10 days it will be Thursday, December 17."),
    ("What day will it be in 100 days?", "In 100 days it will be Wednesday, March 17, 2027."),
    ("What day will it be in a year?", "In a year it will be Tuesday, December 7, 2027."),
    ("What's the date in a fortnight?", "In a fortnight it will be Monday, December 21."),
    ("What's the date in 2 months?", "In 2 months it will be Sunday, February 7, 2027."),
    ("What's the date 10 days from now?", "10 days from now it will be Thursday, December 17."),
    ("What was the date 2 weeks ago?", "2 weeks ago it was Monday, November 23."),
    ("What day was it 3 days ago?", "3 days ago it was Friday, December 4."),
    ("What date is 3 weeks after Christmas?", "3 weeks after Christmas is Friday, January 15, 2027."),
    ("What's the date a week from tomorrow?", "A week from tomorrow is Tuesday, December 15."),
    ("What date is 2 days after next Friday?", "2 days after next Friday is Sunday, December 13."),
    ("What date is 10 days before the Fourth of July?",
     "10 days before the Fourth of July is Thursday, June 24, 2027."),
    ("What's the date tomorrow?", "Tomorrow is Tuesday, December 8."),
    ("What's tomorrow's date?", "Tomorrow is Tuesday, December 8."),
    ("What day is it tomorrow?", "Tomorrow is Tuesday, December 8."),
    ("What day is tomorrow?", "Tomorrow is Tuesday, December 8."),
    ("What's the date the day after tomorrow?", "The day after tomorrow is Wednesday, December 9."),
    ("What day was yesterday?", "Yesterday was Sunday, December 6."),
    ("What was yesterday's date?", "Yesterday was Sunday, December 6."),
    ("What day was the day before yesterday?", "The day before yesterday was Saturday, December 5."),
    # the weekday of a date
    ("What day of the week is March 3rd, 2027?", "March 3, 2027 is a Wednesday."),
    ("What day of the week is March 3rd?", "March 3, 2027 is a Wednesday."),
    ("What day is the third of March?", "March 3, 2027 is a Wednesday."),
    ("What day was July 4, 1976?", "July 4, 1976 was a Sunday."),
    ("What day was July fourth nineteen seventy six?", "July 4, 1976 was a Sunday."),
    ("What day was 4 July 1776?", "July 4, 1776 was a Thursday."),
    ("What day of the week was January 1, 2000?", "January 1, 2000 was a Saturday."),
    ("What day was March 3?", "March 3 was a Tuesday."),
    ("What day is the 25th?", "December 25 is a Friday."),
    ("What day is the 31st?", "December 31 is a Thursday."),
    ("What day is the 7th?", "December 7 is today, a Monday."),
    ("When is the 25th of next month?", "January 25, 2027 is a Monday."),
    ("What day is February 29th?", "February 29, 2028 is a Tuesday."),
    ("What's the date on Friday?", "Friday is December 11."),
    ("What date is next Friday?", "Next Friday is December 11."),
    ("What date was last Friday?", "Last Friday was December 4."),
]


@pytest.mark.parametrize(("question", "reply"), REPLIES)
def test_reply(question: str, reply: str) -> None:
    answer = ask(question)
    assert answer is not None, question
    assert answer.text == reply


# Around the turn of the year, on the day itself, and the day after.
EDGES = [
    (datetime(2026, 12, 31, 23, 0), "How many days until New Year?", "New Year is tomorrow."),
    (datetime(2026, 12, 31, 23, 0), "How many days until New Year's Day?", "New Year's Day is tomorrow."),
    (datetime(2026, 12, 31, 23, 0), "What's the date tomorrow?", "Tomorrow is Friday, January 1, 2027."),
    (datetime(2026, 12, 31, 23, 0), "How many days until the end of the year?", "The end of the year is today!"),
    (datetime(2027, 1, 1, 0, 5), "What was the date yesterday?", "Yesterday was Thursday, December 31, 2026."),
    (datetime(2027, 1, 1, 0, 5), "What day is New Year's Day?", "New Year's Day is today, Friday, January 1."),
    (datetime(2027, 1, 1, 0, 5), "How many days until New Year's Eve?", "New Year's Eve is in 364 days, on Friday."),
    (datetime(2026, 12, 24, 9, 0), "How many days until Christmas?", "Christmas is tomorrow."),
    (datetime(2026, 12, 24, 9, 0), "When is Christmas?", "Christmas is tomorrow, Friday, December 25."),
    (datetime(2026, 12, 25, 9, 0), "How many days until Christmas?", "Christmas is today!"),
    (datetime(2026, 12, 25, 9, 0), "What day is Christmas?", "Christmas is today, Friday, December 25."),
    (datetime(2026, 12, 26, 9, 0), "How many days until Christmas?", "Christmas is in 364 days, on Saturday."),
    (datetime(2026, 12, 26, 9, 0), "What day was Christmas?", "Christmas was yesterday, Friday, December 25."),
    (datetime(2028, 2, 28, 9, 0), "What's the date tomorrow?", "Tomorrow is Tuesday, February 29."),
    (datetime(2028, 2, 29, 9, 0), "What's the date in a year?", "In a year it will be Wednesday, February 28, 2029."),
    (datetime(2027, 1, 31, 9, 0), "What's the date in a month?", "In a month it will be Sunday, February 28."),
    (datetime(2026, 12, 11, 9, 0), "How many days until Friday?", "Friday is in 7 days, on December 18."),
    (datetime(2026, 12, 11, 9, 0), "How many days until this Friday?", "This Friday is today!"),
    (datetime(2026, 12, 11, 9, 0), "What date was last Friday?", "Last Friday was December 4."),
    (datetime(2026, 12, 28, 9, 0), "How many days until the 30th?", "December 30 is in 2 days, on Wednesday."),
    (datetime(2027, 1, 30, 9, 0), "What day is the 31st?", "January 31 is a Sunday."),
    (datetime(2027, 2, 1, 9, 0), "What day is the 30th?", "March 30 is a Tuesday."),  # February has none
    # "in 3 weeks" across a daylight-saving change is still 21 calendar days
    (datetime(2026, 3, 20, 23, 30), "What's the date in 3 weeks?", "In 3 weeks it will be Friday, April 10."),
]


@pytest.mark.parametrize(("now", "question", "reply"), EDGES)
def test_edge_of_year_and_month(now: datetime, question: str, reply: str) -> None:
    answer = ask(question, now)
    assert answer is not None, question
    assert answer.text == reply


@pytest.mark.parametrize(
    ("question", "intent", "target", "days"),
    [
        ("How many days until Christmas?", "calendar.until", "2026-12-25", 18),
        ("How many days since Christmas?", "calendar.since", "2025-12-25", -347),
        ("When is Easter next year?", "calendar.holiday", "2027-03-28", 111),
        ("What's the date in three weeks?", "calendar.offset", "2026-12-28", 21),
        ("What day is it tomorrow?", "calendar.offset", "2026-12-08", 1),
        ("What day was July 4 1976?", "calendar.weekday", "1976-07-04", -18418),
        ("What date is next Friday?", "calendar.weekday", "2026-12-11", 4),
    ],
)
def test_intent_and_slots(question: str, intent: str, target: str, days: int) -> None:
    answer = ask(question)
    assert answer is not None
    assert (answer.intent, answer.slots["target"], answer.slots["days"]) == (intent, target, days)


@pytest.mark.parametrize(
    "question",
    [
        # not a date this skill can work out: the LLM gets them
        "What day is the meeting?",
        "When is my dentist appointment?",
        "When is my dentist appointment on Friday?",
        "What is the date of the Battle of Hastings?",
        "When is the next train?",
        "How many days until my birthday?",
        "How many days until the weekend?",
        "When is Diwali?",
        "What day is February 30th?",
        "What day was July 4, 1066?",  # before the Gregorian calendar
        "What's the date in two and a half weeks?",
        "What's the date in 10000000 days?",
        "How many days until tomorrow?",
        "What's the date in Auckland?",
        "What time is it in Tokyo?",
        "Set a timer for 10 days",
        # today's date and weekday are the date skill's
        "What day is it?",
        "What day is it today?",
        "What's the date?",
        "What's the date today?",
        "What's today's date?",
        "What is today?",
        "When is it?",
        "What time is it?",
    ],
)
def test_goes_to_the_llm(question: str) -> None:
    assert ask(question) is None


@pytest.mark.parametrize(
    ("year", "sunday"),
    [(2019, date(2019, 4, 21)), (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)),
     (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25)), (2285, date(2285, 3, 22)), (1818, date(1818, 3, 22))],
)
def test_easter_known_years(year: int, sunday: date) -> None:
    assert easter(year) == sunday
    answer = ask(f"When is Easter {year}?")
    assert answer is not None
    assert answer.slots["target"] == sunday.isoformat()


@pytest.mark.parametrize(
    ("question", "day"),
    [
        ("When is Thanksgiving 2024?", date(2024, 11, 28)),
        ("When is Thanksgiving 2026?", date(2026, 11, 26)),
        ("When is Mother's Day 2026?", date(2026, 5, 10)),
        ("When is Father's Day 2026?", date(2026, 6, 21)),
        ("When is Good Friday 2026?", date(2026, 4, 3)),
        ("When is Easter Monday 2026?", date(2026, 4, 6)),
        ("When is Memorial Day 2026?", date(2026, 5, 25)),
        ("When is Labor Day 2026?", date(2026, 9, 7)),
    ],
)
def test_moving_holidays(question: str, day: date) -> None:
    answer = ask(question)
    assert answer is not None
    assert answer.slots["target"] == day.isoformat()


def test_nth_weekday_last_monday_of_december() -> None:
    assert nth_weekday(2026, 12, 0, -1) == date(2026, 12, 28)


def test_days_until_christmas_every_day_of_three_years() -> None:
    """Counted independently: the next December 25 on or after each day, and the weekday Python gives it."""
    day = date(2026, 1, 1)
    while day < date(2029, 1, 1):
        christmas = date(day.year, 12, 25)
        if christmas < day:
            christmas = date(day.year + 1, 12, 25)
        answer = ask("How many days until Christmas?", datetime(day.year, day.month, day.day, 12, 0))
        assert answer is not None
        assert answer.slots["days"] == (christmas - day).days, day
        if (christmas - day).days > 1:
            assert answer.text.endswith(f"on {christmas.strftime('%A')}."), (day, answer.text)
        day += timedelta(days=1)


@pytest.mark.parametrize("question, reply", [
    ("What month is it?", "It's December."),
    ("What year is it?", "It's 2026."),
    ("Is it the weekend?", "No, it's Monday."),
    ("How many days are left in the year?", "24 days left in 2026 after today."),
    ("How many days are in February next year?", "February 2027 has 28 days."),
    ("How many days in February 2028?", "February 2028 has 29 days."),
    ("How many days does April have?", "April 2026 has 30 days."),
    ("How many days are in a year?", "A year has 365 days, or 366 in a leap year; 2026 has 365."),
    ("Is 2028 a leap year?", "Yes, 2028 is a leap year."),
    ("Is 2100 a leap year?", "No, 2100 is not a leap year."),
])
def test_facts_of_the_calendar(question: str, reply: str) -> None:
    answer = ask(question)
    assert answer is not None and answer.text == reply


def test_the_weekend_on_a_saturday() -> None:
    answer = ask("Is it the weekend yet?", datetime(2026, 12, 12, 9, 0))
    assert answer is not None and answer.text == "Yes, it's Saturday."
