"""The time or date somewhere else: "what time is it in Tokyo" -> "In Tokyo it's 3:05 AM, Tuesday."

Places come from the tz database (a zone's last part: "Los_Angeles" -> "los angeles") plus a short table of
big cities and one-zone countries that are not zone names. A country with several zones gets a question back
rather than a guess. Plain "what time is it" is the time skill's; an unknown place goes to the LLM.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from assistant.brain.answers.base import Answer
from assistant.brain.answers.dates import WEEKDAY_NAMES, say_day
from assistant.brain.text import say_clock


@dataclass(frozen=True)
class Place:
    zone: str  # tz database name
    name: str  # as the reply says it: "Tokyo", "the UK"


@dataclass(frozen=True)
class Region:
    """A country with several time zones: the reply asks for a city instead of picking one."""

    name: str
    zones: tuple[str, ...]  # one per offset it spans, to check "Sydney, Australia" really is in Australia
    examples: str  # "Sydney or Perth"


# Zone areas that name places; the rest ("US/Pacific", "Etc/GMT+5", "EST") are old aliases or offsets.
_AREAS = ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
# Zone names that are ordinary words, holidays or two places ("Indian/Christmas", "Australia/North", the
# state of Victoria or the Canadian city). Indiana's and North Dakota's county zones are skipped below.
_NOT_PLACES = frozenset({"christmas", "easter", "north", "south", "west", "act", "nsw", "lhi", "yancowinna",
                         "virgin", "victoria", "knox in", "comodrivadavia"})

_ALIASES: dict[str, tuple[str, str]] = {
    # cities that share a bigger city's zone
    "san francisco": ("America/Los_Angeles", "San Francisco"), "seattle": ("America/Los_Angeles", "Seattle"),
    "las vegas": ("America/Los_Angeles", "Las Vegas"), "san diego": ("America/Los_Angeles", "San Diego"),
    "portland": ("America/Los_Angeles", "Portland"), "la": ("America/Los_Angeles", "Los Angeles"),
    "l a": ("America/Los_Angeles", "Los Angeles"), "hollywood": ("America/Los_Angeles", "Hollywood"),
    "silicon valley": ("America/Los_Angeles", "Silicon Valley"),
    "boston": ("America/New_York", "Boston"), "washington": ("America/New_York", "Washington"),
    "dc": ("America/New_York", "Washington"), "d c": ("America/New_York", "Washington"),
    "miami": ("America/New_York", "Miami"), "atlanta": ("America/New_York", "Atlanta"),
    "philadelphia": ("America/New_York", "Philadelphia"), "new york city": ("America/New_York", "New York"),
    "nyc": ("America/New_York", "New York"), "orlando": ("America/New_York", "Orlando"),
    "houston": ("America/Chicago", "Houston"), "dallas": ("America/Chicago", "Dallas"),
    "austin": ("America/Chicago", "Austin"), "san antonio": ("America/Chicago", "San Antonio"),
    "new orleans": ("America/Chicago", "New Orleans"), "minneapolis": ("America/Chicago", "Minneapolis"),
    "salt lake city": ("America/Denver", "Salt Lake City"), "calgary": ("America/Edmonton", "Calgary"),
    "ottawa": ("America/Toronto", "Ottawa"), "rio de janeiro": ("America/Sao_Paulo", "Rio de Janeiro"),
    "rio": ("America/Sao_Paulo", "Rio de Janeiro"), "brasilia": ("America/Sao_Paulo", "Brasilia"),
    "beijing": ("Asia/Shanghai", "Beijing"), "shenzhen": ("Asia/Shanghai", "Shenzhen"),
    "guangzhou": ("Asia/Shanghai", "Guangzhou"), "delhi": ("Asia/Kolkata", "Delhi"),
    "new delhi": ("Asia/Kolkata", "New Delhi"), "mumbai": ("Asia/Kolkata", "Mumbai"),
    "bombay": ("Asia/Kolkata", "Mumbai"), "bangalore": ("Asia/Kolkata", "Bangalore"),
    "bengaluru": ("Asia/Kolkata", "Bengaluru"), "chennai": ("Asia/Kolkata", "Chennai"),
    "hyderabad": ("Asia/Kolkata", "Hyderabad"), "osaka": ("Asia/Tokyo", "Osaka"), "kyoto": ("Asia/Tokyo", "Kyoto"),
    "munich": ("Europe/Berlin", "Munich"), "frankfurt": ("Europe/Berlin", "Frankfurt"),
    "hamburg": ("Europe/Berlin", "Hamburg"), "cologne": ("Europe/Berlin", "Cologne"),
    "barcelona": ("Europe/Madrid", "Barcelona"), "milan": ("Europe/Rome", "Milan"),
    "venice": ("Europe/Rome", "Venice"), "florence": ("Europe/Rome", "Florence"),
    "naples": ("Europe/Rome", "Naples"), "geneva": ("Europe/Zurich", "Geneva"),
    "saint petersburg": ("Europe/Moscow", "Saint Petersburg"), "manchester": ("Europe/London", "Manchester"),
    "edinburgh": ("Europe/London", "Edinburgh"), "glasgow": ("Europe/London", "Glasgow"),
    "the hague": ("Europe/Amsterdam", "The Hague"), "rotterdam": ("Europe/Amsterdam", "Rotterdam"),
    "ho chi minh city": ("Asia/Ho_Chi_Minh", "Ho Chi Minh City"), "hanoi": ("Asia/Bangkok", "Hanoi"),
    "abu dhabi": ("Asia/Dubai", "Abu Dhabi"), "tel aviv": ("Asia/Jerusalem", "Tel Aviv"),
    "mecca": ("Asia/Riyadh", "Mecca"), "cape town": ("Africa/Johannesburg", "Cape Town"),
    "wellington": ("Pacific/Auckland", "Wellington"), "canberra": ("Australia/Sydney", "Canberra"),
    "bali": ("Asia/Makassar", "Bali"), "christmas island": ("Indian/Christmas", "Christmas Island"),
    "easter island": ("Pacific/Easter", "Easter Island"), "greenwich": ("Europe/London", "Greenwich"),
    "utc": ("Etc/UTC", "UTC"), "gmt": ("Etc/UTC", "GMT"),
    # countries, states and provinces with one zone (or one zone nearly everyone in them lives in)
    "japan": ("Asia/Tokyo", "Japan"), "china": ("Asia/Shanghai", "China"), "india": ("Asia/Kolkata", "India"),
    "germany": ("Europe/Berlin", "Germany"), "france": ("Europe/Paris", "France"), "italy": ("Europe/Rome", "Italy"),
    "spain": ("Europe/Madrid", "Spain"), "portugal": ("Europe/Lisbon", "Portugal"),
    "uk": ("Europe/London", "the UK"), "u k": ("Europe/London", "the UK"),
    "united kingdom": ("Europe/London", "the UK"), "britain": ("Europe/London", "Britain"),
    "great britain": ("Europe/London", "Britain"), "england": ("Europe/London", "England"),
    "scotland": ("Europe/London", "Scotland"), "wales": ("Europe/London", "Wales"),
    "northern ireland": ("Europe/London", "Northern Ireland"), "ireland": ("Europe/Dublin", "Ireland"),
    "korea": ("Asia/Seoul", "Korea"), "south korea": ("Asia/Seoul", "South Korea"),
    "north korea": ("Asia/Pyongyang", "North Korea"), "egypt": ("Africa/Cairo", "Egypt"),
    "israel": ("Asia/Jerusalem", "Israel"), "greece": ("Europe/Athens", "Greece"),
    "turkey": ("Europe/Istanbul", "Turkey"), "netherlands": ("Europe/Amsterdam", "the Netherlands"),
    "holland": ("Europe/Amsterdam", "Holland"), "belgium": ("Europe/Brussels", "Belgium"),
    "switzerland": ("Europe/Zurich", "Switzerland"), "austria": ("Europe/Vienna", "Austria"),
    "sweden": ("Europe/Stockholm", "Sweden"), "norway": ("Europe/Oslo", "Norway"),
    "denmark": ("Europe/Copenhagen", "Denmark"), "finland": ("Europe/Helsinki", "Finland"),
    "iceland": ("Atlantic/Reykjavik", "Iceland"), "poland": ("Europe/Warsaw", "Poland"),
    "czech republic": ("Europe/Prague", "the Czech Republic"), "czechia": ("Europe/Prague", "Czechia"),
    "hungary": ("Europe/Budapest", "Hungary"), "romania": ("Europe/Bucharest", "Romania"),
    "ukraine": ("Europe/Kyiv", "Ukraine"), "new zealand": ("Pacific/Auckland", "New Zealand"),
    "thailand": ("Asia/Bangkok", "Thailand"), "vietnam": ("Asia/Ho_Chi_Minh", "Vietnam"),
    "philippines": ("Asia/Manila", "the Philippines"), "taiwan": ("Asia/Taipei", "Taiwan"),
    "malaysia": ("Asia/Kuala_Lumpur", "Malaysia"), "pakistan": ("Asia/Karachi", "Pakistan"),
    "bangladesh": ("Asia/Dhaka", "Bangladesh"), "nepal": ("Asia/Kathmandu", "Nepal"),
    "sri lanka": ("Asia/Colombo", "Sri Lanka"), "iran": ("Asia/Tehran", "Iran"), "iraq": ("Asia/Baghdad", "Iraq"),
    "saudi arabia": ("Asia/Riyadh", "Saudi Arabia"), "uae": ("Asia/Dubai", "the UAE"),
    "united arab emirates": ("Asia/Dubai", "the United Arab Emirates"),
    "south africa": ("Africa/Johannesburg", "South Africa"), "nigeria": ("Africa/Lagos", "Nigeria"),
    "kenya": ("Africa/Nairobi", "Kenya"), "morocco": ("Africa/Casablanca", "Morocco"),
    "ethiopia": ("Africa/Addis_Ababa", "Ethiopia"), "argentina": ("America/Argentina/Buenos_Aires", "Argentina"),
    "chile": ("America/Santiago", "Chile"), "colombia": ("America/Bogota", "Colombia"),
    "peru": ("America/Lima", "Peru"), "venezuela": ("America/Caracas", "Venezuela"),
    "cuba": ("America/Havana", "Cuba"), "samoa": ("Pacific/Apia", "Samoa"),
    "california": ("America/Los_Angeles", "California"), "washington state": ("America/Los_Angeles", "Washington"),
    "oregon": ("America/Los_Angeles", "Oregon"), "nevada": ("America/Los_Angeles", "Nevada"),
    "arizona": ("America/Phoenix", "Arizona"), "colorado": ("America/Denver", "Colorado"),
    "texas": ("America/Chicago", "Texas"), "illinois": ("America/Chicago", "Illinois"),
    "florida": ("America/New_York", "Florida"), "massachusetts": ("America/New_York", "Massachusetts"),
    "hawaii": ("Pacific/Honolulu", "Hawaii"),
    "alaska": ("America/Anchorage", "Alaska"), "ontario": ("America/Toronto", "Ontario"),
    "quebec": ("America/Toronto", "Quebec"), "british columbia": ("America/Vancouver", "British Columbia"),
    "alberta": ("America/Edmonton", "Alberta"), "new south wales": ("Australia/Sydney", "New South Wales"),
    "western australia": ("Australia/Perth", "Western Australia"),
    "south australia": ("Australia/Adelaide", "South Australia"),
}

_US = Region("The United States", ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                                   "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Adak"),
             "New York or Los Angeles")
_REGIONS = {
    "us": _US, "u s": _US, "usa": _US, "u s a": _US, "united states": _US, "united states of america": _US,
    "america": _US, "states": _US,
    "canada": Region("Canada", ("America/St_Johns", "America/Halifax", "America/Toronto", "America/Winnipeg",
                                "America/Regina", "America/Edmonton", "America/Vancouver"), "Toronto or Vancouver"),
    "australia": Region("Australia", ("Australia/Sydney", "Australia/Brisbane", "Australia/Adelaide",
                                      "Australia/Darwin", "Australia/Perth", "Australia/Eucla",
                                      "Australia/Lord_Howe"), "Sydney or Perth"),
    "russia": Region("Russia", ("Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg",
                                "Asia/Omsk", "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk",
                                "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka"), "Moscow or Vladivostok"),
    "brazil": Region("Brazil", ("America/Noronha", "America/Sao_Paulo", "America/Manaus", "America/Rio_Branco"),
                     "Sao Paulo or Manaus"),
    "mexico": Region("Mexico", ("America/Cancun", "America/Mexico_City", "America/Chihuahua", "America/Hermosillo",
                                "America/Tijuana"), "Mexico City or Tijuana"),
    "indonesia": Region("Indonesia", ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"), "Jakarta or Bali"),
}

_WHAT = r"(?:what(?:'s| is)?|whats|tell me|do you know|give me)"
_NOW = r"(?: (?:right now|now|currently|at the moment|today))?"
_TIME = re.compile(rf"^(?:(?:{_WHAT} )?(?:the )?(?:current |local )?time(?: is it| it is)?|what time(?:'s| is) it"
                   rf"|(?:do you know )?what time it is){_NOW}$")
_DATE = re.compile(rf"^(?:(?:{_WHAT} )?(?:the |today's )?(?:current |local )?(?:date|day)(?: is it| it is)?"
                   rf"|what (?:date|day)(?:'s| is) it){_NOW}$")
_BOTH = re.compile(rf"^(?:{_WHAT} )?(?:the )?(?:current |local )?(?:date and time|time and date|day and time)"
                   rf"(?: is it)?{_NOW}$")
_ASK = re.compile(r"^(?P<frame>.+?) (?:over )?in (?P<place>.+?)" + _NOW + "$")


def place_key(words: str) -> str:
    """How a place name is looked up: accents folded, 'st' as 'saint', no 'the': 'São Paulo' -> 'sao paulo'."""
    folded = unicodedata.normalize("NFKD", words.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    tokens = re.sub(r"[^a-z0-9 ]+", " ", folded.replace("'", "")).split()
    if tokens[:1] == ["the"] and tokens[1:] != ["hague"]:
        tokens = tokens[1:]
    return " ".join("saint" if token == "st" else token for token in tokens)


@cache
def places() -> dict[str, Place]:
    """Every place this skill knows by name: tz database cities, then the aliases (which win)."""
    found: dict[str, Place] = {}
    for zone in sorted(available_timezones()):
        area, _, rest = zone.partition("/")
        if area not in _AREAS or rest.startswith(("Indiana/", "North_Dakota/")):
            continue
        city = rest.rpartition("/")[2]
        key = place_key(city.replace("_", " ").replace("-", " "))
        if key not in _NOT_PLACES:
            found.setdefault(key, Place(zone, city.replace("_", " ").replace("St ", "Saint ")))
    found.update({key: Place(zone, name) for key, (zone, name) in _ALIASES.items()})
    return found


def find_place(words: str, at: datetime) -> Place | Region | None:
    """The place ``words`` names: 'tokyo', 'sydney australia', 'paris france'; None when unknown.

    A trailing country or state is accepted only when its clock agrees with the city's at ``at``, so
    'perth scotland' or 'london canada' is not answered with the other Perth's or London's time."""
    key = place_key(words)
    known = _lookup(key)
    if known is not None or " " not in key:
        return known
    tokens = key.split()
    for cut in range(len(tokens) - 1, 0, -1):
        city, within = _lookup(" ".join(tokens[:cut])), _lookup(" ".join(tokens[cut:]))
        if isinstance(city, Place) and within is not None and _agrees(city, within, at):
            return city
    return None


def _lookup(key: str) -> Place | Region | None:
    return _REGIONS.get(key) or places().get(key)


def _agrees(city: Place, within: Place | Region, at: datetime) -> bool:
    zones = within.zones if isinstance(within, Region) else (within.zone,)
    offset = at.astimezone(ZoneInfo(city.zone)).utcoffset()
    return any(at.astimezone(ZoneInfo(zone)).utcoffset() == offset for zone in zones)


class WorldClock:
    """The time or date in a named city or one-zone country, converted from ``now`` in ``local_zone``."""

    name = "world_clock"

    def __init__(self, local_zone: tzinfo | None = None) -> None:
        self.local_zone = local_zone  # None: the system's own zone, as the naive ``now`` is

    def answer(self, text: str, now: datetime) -> Answer | None:
        match = _ASK.match(text)
        if match is None:
            return None
        frame = match["frame"]
        asks = "time" if _TIME.match(frame) else "date" if _DATE.match(frame) else "both" if _BOTH.match(frame) else ""
        if not asks:
            return None
        local = self._aware(now)
        try:
            place = find_place(match["place"], local)
            if isinstance(place, Region):
                text = f"{place.name} has several time zones; ask me for a city, like {place.examples}."
                return Answer(text, "world_clock.which_city", {"place": place.name})
            if place is None:
                return None
            there = local.astimezone(ZoneInfo(place.zone))
        except (ZoneInfoNotFoundError, ValueError):  # a system without tz data: let the LLM say it cannot tell
            return None
        if asks == "time":
            weekday = "" if there.date() == local.date() else f", {WEEKDAY_NAMES[there.weekday()]}"
            said = say_clock(there) + weekday
        elif asks == "date":
            said = say_day(there.date(), local.date())
        else:
            said = f"{say_clock(there)}, {say_day(there.date(), local.date())}"
        slots = {"place": place.name, "zone": place.zone, "time": there.isoformat(timespec="minutes")}
        return Answer(f"In {place.name} it's {said}.", f"world_clock.{asks}", slots)

    def _aware(self, now: datetime) -> datetime:
        if now.tzinfo is not None:
            return now
        if self.local_zone is None:
            return now.astimezone()  # a naive datetime is read as the system's local time
        return now.replace(tzinfo=self.local_zone)
