"""World clock: the time or date in a named place, converted from a fixed local time and zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest

from assistant.brain.answers.base import Answer, prepare
from assistant.brain.answers.world_clock import _ALIASES, _REGIONS, WorldClock, find_place, places

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 7, 22, 5)  # Monday 10:05 PM in London (GMT), already Tuesday in Asia


def ask(question: str, now: datetime = NOW, local: ZoneInfo = LONDON) -> Answer | None:
    return WorldClock(local_zone=local).answer(prepare(question), now)


def test_tz_database_is_here() -> None:
    assert available_timezones(), "zoneinfo found no time zones: install the tzdata package"
    assert places()["new york"].zone == "America/New_York"


REPLIES = [
    ("What time is it in Tokyo?", "In Tokyo it's 7:05 AM, Tuesday."),
    ("What's the time in New York right now?", "In New York it's 5:05 PM."),
    ("What time is it now in New York City?", "In New York it's 5:05 PM."),
    ("Time in London", "In London it's 10:05 PM."),
    ("What time is it in Sydney, Australia?", "In Sydney it's 9:05 AM, Tuesday."),
    ("What time is it in Perth, Western Australia?", "In Perth it's 6:05 AM, Tuesday."),
    ("What's the date in Auckland?", "In Auckland it's Tuesday, December 8."),
    ("What day is it in Auckland?", "In Auckland it's Tuesday, December 8."),
    ("What's the date and time in Tokyo?", "In Tokyo it's 7:05 AM, Tuesday, December 8."),
    ("What time is it in Japan?", "In Japan it's 7:05 AM, Tuesday."),
    ("What time is it in the UK?", "In the UK it's 10:05 PM."),
    ("What time is it in Los Angeles?", "In Los Angeles it's 2:05 PM."),
    ("What time is it in San Francisco?", "In San Francisco it's 2:05 PM."),
    ("What's the current time in Mumbai?", "In Mumbai it's 3:35 AM, Tuesday."),
    ("What's the local time in Kathmandu?", "In Kathmandu it's 3:50 AM, Tuesday."),
    ("What time is it in São Paulo?", "In Sao Paulo it's 7:05 PM."),
    ("What time is it in Sao Paulo?", "In Sao Paulo it's 7:05 PM."),
    ("What time is it in St. Petersburg?", "In Saint Petersburg it's 1:05 AM, Tuesday."),
    ("What time is it in Paris, France?", "In Paris it's 11:05 PM."),
    ("What time is it in Washington, D.C.?", "In Washington it's 5:05 PM."),
    ("What time is it in Port-au-Prince?", "In Port-au-Prince it's 5:05 PM."),
    ("Tell me the time in Beijing", "In Beijing it's 6:05 AM, Tuesday."),
    ("What time is it in Honolulu?", "In Honolulu it's 12:05 PM."),
    ("What time is it in Christmas Island?", "In Christmas Island it's 5:05 AM, Tuesday."),
]


@pytest.mark.parametrize(("question", "reply"), REPLIES)
def test_reply(question: str, reply: str) -> None:
    answer = ask(question)
    assert answer is not None, question
    assert answer.text == reply


@pytest.mark.parametrize(
    ("question", "reply"),
    [
        ("What time is it in Australia?", "Australia has several time zones; ask me for a city, like Sydney or Perth."),
        ("What time is it in the US?",
         "The United States has several time zones; ask me for a city, like New York or Los Angeles."),
        ("What's the time in Canada?", "Canada has several time zones; ask me for a city, like Toronto or Vancouver."),
        ("What time is it in Russia?", "Russia has several time zones; ask me for a city, like Moscow or Vladivostok."),
    ],
)
def test_country_with_several_zones_asks_for_a_city(question: str, reply: str) -> None:
    answer = ask(question)
    assert answer is not None
    assert (answer.text, answer.intent) == (reply, "world_clock.which_city")


# Daylight saving starts on different dates: 2026 in the US on March 8, in the UK on March 29; Sydney's ends April 5.
DST = [
    (datetime(2026, 3, 5, 12, 0), "What time is it in New York?", "In New York it's 7:00 AM."),
    (datetime(2026, 3, 20, 12, 0), "What time is it in New York?", "In New York it's 8:00 AM."),
    (datetime(2026, 3, 30, 12, 0), "What time is it in New York?", "In New York it's 7:00 AM."),
    (datetime(2026, 4, 4, 12, 0), "What time is it in Sydney?", "In Sydney it's 10:00 PM."),
    (datetime(2026, 4, 6, 12, 0), "What time is it in Sydney?", "In Sydney it's 9:00 PM."),
    # year boundary: already next year in Auckland, still last year in Honolulu
    (datetime(2026, 12, 31, 20, 0), "What time is it in Auckland?", "In Auckland it's 9:00 AM, Friday."),
    (datetime(2026, 12, 31, 20, 0), "What's the date in Auckland?", "In Auckland it's Friday, January 1, 2027."),
    (datetime(2027, 1, 1, 5, 0), "What's the date in Honolulu?", "In Honolulu it's Thursday, December 31, 2026."),
]


@pytest.mark.parametrize(("now", "question", "reply"), DST)
def test_daylight_saving_and_year_boundary(now: datetime, question: str, reply: str) -> None:
    answer = ask(question, now)
    assert answer is not None
    assert answer.text == reply


def test_local_zone_is_where_now_is() -> None:
    """The same wall-clock ``now`` in Tokyo and in New York is a different moment."""
    now = datetime(2026, 7, 1, 9, 0)
    in_tokyo = ask("What time is it in London?", now, ZoneInfo("Asia/Tokyo"))
    in_new_york = ask("What time is it in London?", now, ZoneInfo("America/New_York"))
    assert in_tokyo is not None and in_new_york is not None
    assert in_tokyo.text == "In London it's 1:00 AM."
    assert in_new_york.text == "In London it's 2:00 PM."
    assert in_tokyo.slots == {"place": "London", "zone": "Europe/London", "time": "2026-07-01T01:00+01:00"}


def test_system_zone_by_default() -> None:
    now = datetime(2026, 7, 1, 9, 0)
    expected = now.astimezone().astimezone(ZoneInfo("Asia/Tokyo"))
    answer = WorldClock().answer(prepare("What time is it in Tokyo?"), now)
    assert answer is not None
    assert answer.slots["time"] == expected.isoformat(timespec="minutes")


@pytest.mark.parametrize(
    "question",
    [
        "What time is it in Narnia?",
        "What time is it?",
        "What's the time?",
        "What time is it now?",
        "What's the date?",
        "What time is it in 5 minutes?",
        "What's the date in three weeks?",
        "What time is it in Perth, Scotland?",  # not Perth in Australia
        "What time is it in London, Canada?",  # not London in England
        "What time is it in Christmas?",
        "What's the best time in Tokyo?",
        "Set a timer in Tokyo",
        "What time is it in Georgia?",  # the country or the state: the LLM can ask
    ],
)
def test_goes_to_the_llm(question: str) -> None:
    assert ask(question) is None


def test_every_alias_and_region_names_a_real_zone() -> None:
    zones = available_timezones()
    named = {zone for zone, _ in _ALIASES.values()} | {zone for region in _REGIONS.values() for zone in region.zones}
    assert named - zones == set()


@pytest.mark.parametrize(
    ("words", "zone"),
    [("tokyo japan", "Asia/Tokyo"), ("osaka", "Asia/Tokyo"), ("the hague", "Europe/Amsterdam"),
     ("buenos aires", "America/Argentina/Buenos_Aires"), ("ho chi minh", "Asia/Ho_Chi_Minh"),
     ("samoa", "Pacific/Apia")],  # Pacific/Samoa is American Samoa, a day behind
)
def test_find_place(words: str, zone: str) -> None:
    place = find_place(words, datetime(2026, 1, 1, tzinfo=LONDON))
    assert place is not None and getattr(place, "zone", None) == zone
