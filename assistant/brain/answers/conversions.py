"""Unit conversions, answered exactly with pint: "how many feet are in a mile", "convert 10 miles to
kilometers", "what's 100 degrees fahrenheit in celsius", "how many tablespoons in a cup".

Only units named in the spoken lexicon below are understood (pint's own parser accepts far more, and would
read "in" as inches or "a" as years); both units must be named, and the request must parse whole.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.brain.answers.base import Answer, first_match
from assistant.brain.answers.numbers import is_said_exactly, parse_number, say_number


@dataclass(frozen=True)
class Unit:
    pint: str  # the unit as pint names it
    singular: str
    plural: str
    aliases: tuple[str, ...] = ()


UNITS = [
    # length
    Unit("millimeter", "millimeter", "millimeters", ("millimetre", "millimetres", "mm")),
    Unit("centimeter", "centimeter", "centimeters", ("centimetre", "centimetres", "cm")),
    Unit("meter", "meter", "meters", ("metre", "metres")),
    Unit("kilometer", "kilometer", "kilometers", ("kilometre", "kilometres", "km", "kilometer s")),
    Unit("inch", "inch", "inches"),
    Unit("foot", "foot", "feet", ("ft",)),
    Unit("yard", "yard", "yards"),
    Unit("mile", "mile", "miles"),
    Unit("nautical_mile", "nautical mile", "nautical miles"),
    Unit("light_year", "light year", "light years"),
    # mass
    Unit("milligram", "milligram", "milligrams", ("milligramme", "milligrammes", "mg")),
    Unit("gram", "gram", "grams", ("gramme", "grammes")),
    Unit("kilogram", "kilogram", "kilograms", ("kilo", "kilos", "kilogramme", "kilogrammes", "kg")),
    Unit("ounce", "ounce", "ounces", ("oz",)),
    Unit("pound", "pound", "pounds", ("lb", "lbs")),
    Unit("stone", "stone", "stone", ("stones",)),
    Unit("short_ton", "ton", "tons", ("short ton", "short tons")),
    Unit("metric_ton", "tonne", "tonnes", ("metric ton", "metric tons")),
    # volume
    Unit("milliliter", "milliliter", "milliliters", ("millilitre", "millilitres", "ml")),
    Unit("centiliter", "centiliter", "centiliters", ("centilitre", "centilitres")),
    Unit("liter", "liter", "liters", ("litre", "litres")),
    Unit("teaspoon", "teaspoon", "teaspoons", ("tsp",)),
    Unit("tablespoon", "tablespoon", "tablespoons", ("tbsp",)),
    Unit("fluid_ounce", "fluid ounce", "fluid ounces", ("fl oz",)),
    Unit("cup", "cup", "cups"),
    Unit("pint", "pint", "pints", ("us pint", "us pints")),
    Unit("imperial_pint", "imperial pint", "imperial pints", ("uk pint", "uk pints", "british pint",
                                                              "british pints")),
    Unit("quart", "quart", "quarts"),
    Unit("gallon", "gallon", "gallons", ("us gallon", "us gallons")),
    Unit("imperial_gallon", "imperial gallon", "imperial gallons", ("uk gallon", "uk gallons")),
    Unit("cubic_centimeter", "cubic centimeter", "cubic centimeters", ("cc", "cubic centimetre",
                                                                       "cubic centimetres")),
    Unit("cubic_meter", "cubic meter", "cubic meters", ("cubic metre", "cubic metres")),
    # temperature
    Unit("degree_Celsius", "degree Celsius", "degrees Celsius", ("celsius", "centigrade", "degrees centigrade",
                                                                 "degree centigrade")),
    Unit("degree_Fahrenheit", "degree Fahrenheit", "degrees Fahrenheit", ("fahrenheit",)),
    Unit("kelvin", "kelvin", "kelvin", ("kelvins", "degrees kelvin")),
    # speed
    Unit("mile / hour", "mile per hour", "miles per hour", ("mph", "miles an hour", "mile an hour")),
    Unit("kilometer / hour", "kilometer per hour", "kilometers per hour",
         ("kilometres per hour", "kilometre per hour", "km h", "kph", "kilometers an hour", "kilometres an hour")),
    Unit("meter / second", "meter per second", "meters per second", ("metres per second", "metre per second")),
    Unit("foot / second", "foot per second", "feet per second"),
    Unit("knot", "knot", "knots"),
    # time
    Unit("second", "second", "seconds"),
    Unit("minute", "minute", "minutes"),
    Unit("hour", "hour", "hours"),
    Unit("day", "day", "days"),
    Unit("week", "week", "weeks"),
    Unit("year", "year", "years"),
    # area
    Unit("meter ** 2", "square meter", "square meters", ("square metre", "square metres")),
    Unit("kilometer ** 2", "square kilometer", "square kilometers", ("square kilometre", "square kilometres")),
    Unit("foot ** 2", "square foot", "square feet"),
    Unit("mile ** 2", "square mile", "square miles"),
    Unit("acre", "acre", "acres"),
    Unit("hectare", "hectare", "hectares"),
    # energy, data
    Unit("kilocalorie", "calorie", "calories", ("kilocalorie", "kilocalories", "kcal")),
    Unit("kilojoule", "kilojoule", "kilojoules"),
    Unit("joule", "joule", "joules"),
    Unit("kilowatt_hour", "kilowatt hour", "kilowatt hours"),
    Unit("byte", "byte", "bytes"),
    Unit("kilobyte", "kilobyte", "kilobytes"),
    Unit("megabyte", "megabyte", "megabytes"),
    Unit("gigabyte", "gigabyte", "gigabytes"),
    Unit("terabyte", "terabyte", "terabytes"),
]

_SPOKEN: dict[str, Unit] = {}
for _unit in UNITS:
    for _said in (_unit.singular.lower(), _unit.plural.lower(), *_unit.aliases):
        _SPOKEN.setdefault(_said, _unit)
    if _unit.singular.startswith("degree "):  # "degrees celsius" and "celsius" both
        _SPOKEN.setdefault("degrees " + _unit.singular.split(" ", 1)[1].lower(), _unit)
_UNIT = "(?:" + "|".join(re.escape(s) for s in sorted(_SPOKEN, key=len, reverse=True)) + ")"
_AMOUNT = r"(?P<amount>[\w. ]+?)"

_FRAME = re.compile(r"^(?:convert|what (?:is|are)|what's|whats|how much is|how much are|tell me|change|"
                    r"how (?:fast|far|long|heavy|big|hot|cold|warm) is)\s+")
_FORMS = [
    re.compile(rf"^{_AMOUNT} (?P<src>{_UNIT}) (?:in|to|into|as|in terms of) (?P<dst>{_UNIT})$"),
    re.compile(rf"^how (?:many|much) (?P<dst>{_UNIT}) (?:are |is )?(?:there )?(?:in|make|make up|to|equals?|"
               rf"go into|fit in|per) (?P<amount>[\w. ]+? )?(?P<src>{_UNIT})(?: of (?:\w+ ){{0,2}}\w+)?$"),
    re.compile(rf"^how (?:many|much) (?P<dst>{_UNIT}) (?:is|are|does|do|equals?) {_AMOUNT} (?P<src>{_UNIT})"
               rf"(?: make| equal| come to)?$"),
    re.compile(rf"^{_AMOUNT} (?P<src>{_UNIT}) (?:is|are|equals|makes) how (?:many|much) (?P<dst>{_UNIT})$"),
]


class Conversions:
    name = "convert"

    def __init__(self) -> None:
        self._registry: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Build pint's unit registry (0.2-0.4 s): at start-up, not in the first conversion's turn."""
        with self._lock:
            if self._registry is None:
                import pint  # only when the skill is on

                self._registry = pint.UnitRegistry()

    def answer(self, text: str, now: datetime) -> Answer | None:
        match = first_match(_FORMS, _FRAME.sub("", text))
        if match is None:
            return None
        words = (match.group("amount") or "one").strip()
        amount = 1.0 if words in ("a", "an", "one", "a single") else parse_number(words)
        if amount is None:
            return None
        src, dst = _SPOKEN[match.group("src")], _SPOKEN[match.group("dst")]
        slots = {"amount": amount, "from": src.pint, "to": dst.pint}
        self.load()
        import pint

        try:
            value = self._registry.Quantity(amount, self._registry.parse_units(src.pint)).to(dst.pint).magnitude
        except pint.DimensionalityError:
            return Answer(f"I can't convert {src.plural} to {dst.plural}: they measure different things"
                          f"{_MASS_VOLUME_HINT if _is_mass_volume(src, dst) else ''}.", "convert", slots)
        said = say_number(float(value))
        about = "" if is_said_exactly(float(value), said) else "about "
        src_words = src.singular if amount == 1 else src.plural
        dst_words = dst.singular if said == "1" else dst.plural
        slots["value"] = float(value)
        return Answer(f"{say_number(amount)} {src_words} is {about}{said} {dst_words}.", "convert", slots)


_MASS = {"milligram", "gram", "kilogram", "ounce", "pound", "stone", "short_ton", "metric_ton"}
_VOLUME = {"milliliter", "centiliter", "liter", "teaspoon", "tablespoon", "fluid_ounce", "cup", "pint",
           "imperial_pint", "quart", "gallon", "imperial_gallon", "cubic_centimeter", "cubic_meter"}
_MASS_VOLUME_HINT = ", and how much a cup weighs depends on what is in it"


def _is_mass_volume(a: Unit, b: Unit) -> bool:
    return {a.pint, b.pint} & _MASS != set() and {a.pint, b.pint} & _VOLUME != set()
