"""Questions that need data the assistant does not have (weather, news, prices, scores, traffic, the state
of a device) and requests to do what no command does: answered honestly before any model can invent a
reply ("It's sunny").

A topic is left to the model when a configured command covers it (its name, description or phrases share
the topic's words): then the model can call that command as a tool, and the data is real.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from assistant.brain.answers.base import Answer
from assistant.brain.intents import CommandSet
from assistant.config.commands import ListSlot

HOW_TO_ADD = "You can add a source for it as a command in my config."


@dataclass(frozen=True)
class Topic:
    name: str
    asks: re.Pattern[str]  # over the prepared request
    words: frozenset[str]  # a command mentioning any of these provides the data
    reply: str


def _topic(name: str, asks: str, words: str, reply: str) -> Topic:
    return Topic(name, re.compile(asks), frozenset(words.split()), reply)


TOPICS = [
    _topic("weather",
           r"\b(?:weather|forecast|(?:is|will) it (?:going to )?(?:be )?(?:rain|snow|sunny|cloudy|windy|hot|cold|warm|"
           r"freezing|nice)\w*|temperature (?:outside|today|tonight|tomorrow|now|right now|this week)|"
           r"how (?:hot|cold|warm) is it|(?:do|should) i (?:need|take|bring) an? (?:umbrella|coat|jacket)|"
           r"what's it like outside|how's it outside|humidity)\b",
           "weather forecast temperature rain outside",
           f"I don't have a weather source, so I can't tell you the weather. {HOW_TO_ADD}"),
    _topic("news",
           r"\b(?:news|headlines?|what's happening in the world|what happened today|latest (?:on|about))\b",
           "news headlines",
           f"I don't have a news source, so I can't tell you the news. {HOW_TO_ADD}"),
    _topic("prices",
           r"\b(?:stocks?|shares?|share price|stock price|stock market|dow jones|nasdaq|s&p|bitcoin|crypto\w*|ethereum|"
           r"exchange rate|price of (?:gold|oil|silver|petrol|gas|bitcoin)|how much is (?:a |one )?(?:bitcoin|dollar|"
           r"euro|pound|yen) (?:worth|in)|(?:dollar|euro|pound|yen) (?:to|in) (?:dollars?|euros?|pounds?|yen))\b",
           "stock stocks price prices bitcoin exchange market",
           f"I don't have live prices, so I can't tell you that. {HOW_TO_ADD}"),
    _topic("sports",
           r"\b(?:score|scores|who won (?:the|last)|(?:game|match) (?:last night|tonight|today|yesterday)|"
           r"who (?:is|are) (?:playing|winning)|standings|league table|fixtures?)\b",
           "score scores sports football soccer game match",
           f"I don't have live sports results, so I can't tell you that. {HOW_TO_ADD}"),
    _topic("traffic",
           r"\b(?:traffic|commute|how long (?:will it take|does it take) to (?:drive|get)|road works|roadworks|"
           r"(?:is|are) the (?:roads?|trains?|buses?) (?:busy|running|late|delayed))\b",
           "traffic commute route roads trains",
           f"I don't have live traffic or travel data, so I can't tell you that. {HOW_TO_ADD}"),
    _topic("device_state",
           r"^(?:is|are) (?:the|my) (?:[\w']+ ){0,3}"
           r"(?:on|off|open|closed|shut|locked|unlocked|running|"
           r"charging|home|at home)\b|^(?:what's|what is) the (?:temperature|humidity) (?:in|of) (?:the|my) \w+"
           r"|^what (?:is|s) the thermostat set to",
           "light lights lamp door lock thermostat heating window garage sensor state status temperature",
           f"I can't see the state of your devices: no command for it is set up. {HOW_TO_ADD}"),
    _topic("action",
           r"^(?:(?:can|could|would|will) you |please )?(?:turn|switch|dim|brighten|lock|unlock|open|close|shut|"
           r"start|stop the|set the (?:thermostat|heating|temperature|lights?)|play|pause|resume|skip|"
           r"call|phone|ring|text|message|email|send|order|buy|book|add \w+ to (?:my|the) (?:shopping|grocery|"
           r"to do|todo) list|remind me to|vacuum|water the|feed the|arm|disarm)\b"
           # not a timer (a skill), "call me Ada" (a name to remember) or a word game the model can play
           r"(?! (?:a |the |me )?(?:timer|alarm)\b)(?<!call(?= me))(?<!play(?= (?:a |some )?(?:\w+ )?game))"
           r"(?<!play(?= (?:twenty|20) questions))",
           "",
           "I can't do that: there is no command for it in my config yet. Ask me what I can do to hear "
           "what I can do."),
    _topic("personal",
           r"\b(?:e ?mails?|inbox|voicemails?|(?:new|unread|any) messages|my (?:calendar|schedule|agenda|appointments?|"
           r"meetings?|reminders?|to ?do list|shopping list)|on my calendar|do i have (?:any )?(?:meetings|"
           r"appointments))\b",
           "email emails inbox calendar schedule agenda appointments meetings reminders messages list",
           f"I can't see your email, messages or calendar: nothing connects me to them. {HOW_TO_ADD}"),
]

_CONTENT_WORD = re.compile(r"[a-z]{3,}")
_STOP_WORDS = frozenset({"the", "and", "for", "with", "you", "your", "turn", "switch", "set", "please", "can",
                         "could", "would", "will", "what", "that", "this", "from", "into", "onto", "off"})


class LiveData:
    """Refuses honestly what needs data or an action nothing configured provides."""

    name = "live_data"

    def __init__(self, commands_text: str = "") -> None:
        """``commands_text``: the configured commands' names, descriptions and phrases, as one text."""
        said = set(_CONTENT_WORD.findall(commands_text.lower()))
        self._covered = {t.name for t in TOPICS if t.words & said}
        self._command_words = said - _STOP_WORDS

    @classmethod
    def for_commands(cls, commands: CommandSet) -> LiveData:
        """What the configured commands are about: their names, descriptions, phrases and list values."""
        said = [said for spec in commands.slots.values() if isinstance(spec, ListSlot)
                for canonical, synonyms in spec.values.items() for said in (canonical, *synonyms)]
        for command in commands.commands:
            said += [command.name, command.description or "", *command.templates]
        return cls(" ".join(said))

    def answer(self, text: str, now: datetime) -> Answer | None:
        for topic in TOPICS:
            if topic.name in self._covered or not topic.asks.search(text):
                continue
            if topic.name == "action" and set(_CONTENT_WORD.findall(text)) & self._command_words:
                continue  # a command about this thing exists: the model may call it with the right words
            return Answer(topic.reply, f"live_data.{topic.name}", {"topic": topic.name})
        return None
