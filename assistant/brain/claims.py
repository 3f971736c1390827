"""Checks a model's own words before they are spoken: a small model answers "It's sunny" or "I've turned
off the kitchen light" with nothing behind it. A sentence that claims an action, when no command ran, or
states live conditions it cannot know, is not said; the brain says what it cannot do instead.
"""

from __future__ import annotations

import re

from assistant.brain.text import normalise

_ACTION = re.compile(
    r"\b(?:i(?:'ve| have)? (?:just )?(?:turned|switched|set|locked|unlocked|opened|closed|started|stopped|played|"
    r"paused|called|phoned|sent|texted|emailed|messaged|added|dimmed|ordered|booked|scheduled|armed|disarmed|"
    r"muted|unmuted|adjusted|changed)|(?:i'll|i will|i'm|i am|let me) (?:now )?(?:turn|switch|set|lock|unlock|open|"
    r"close|play|pause|call|send|text|add|dim|order|book|arm|disarm)(?:ing)?|"
    r"^(?:okay|ok|sure|alright|all right|done)?\s?(?:turning|switching|setting|locking|unlocking|opening|closing|"
    r"playing|calling|sending|adding|dimming) (?:on|off|up|down|the|your|it|some|a|an|now)\b|"
    r"(?:is|are|has been|have been) (?:now )?(?:turned |switched )?(?:on|off|locked|unlocked|opened|closed|"
    r"playing|set to|dimmed)(?: now)?$|^done$)"
)
_LIVE_FACT = re.compile(
    r"\b(?:it(?:'s| is) (?:currently |now |going to be |a )?(?:sunny|raining|rainy|cloudy|snowing|snowy|windy|"
    r"clear|overcast|stormy|foggy|hot|cold|warm|chilly|mild|freezing|nice|beautiful|lovely) (?:day|today|outside|"
    r"right now|now|this)|(?:sunny|rainy|cloudy|snowy|windy) (?:today|outside|right now|this (?:morning|"
    r"afternoon|evening))|(?:the )?(?:weather|forecast|temperature) (?:today |outside |right now )?(?:is|will "
    r"be|calls for|shows)|currently \d+ degrees|\d+ degrees (?:outside|today|right now|at the moment)|"
    r"(?:the )?(?:stock|share)s? (?:is|are) (?:up|down|trading|at)|(?:won|beat|lost to) .* \d+ to \d+)"
)


def claim_in(sentence: str) -> str | None:
    """"action" or "live_fact" when the sentence claims one, else None."""
    words = normalise(sentence)
    if _ACTION.search(words):
        return "action"
    if _LIVE_FACT.search(words):
        return "live_fact"
    return None


HONEST = {
    "action": "I can't do that: there is no command for it in my config yet.",
    "live_fact": "I don't have live data for that, so I can't tell you.",
    "unsure": "I'm not sure, and I'd rather not guess.",
}
# for the log: why a sentence of the model was not said
WHY_NOT = {"action": "claims an action no command ran", "live_fact": "states live data it cannot have",
           "unsure": "is a guess (the model gave its answer too little probability)"}
