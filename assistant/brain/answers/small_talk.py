"""Who the assistant is and the courtesies: "what's your name", "are you a human", "how are you", "thank
you". A tiny model answers these with a made-up person ("My name is Sarah", "Yes, I am"); the true answer
is short and fixed.
"""

from __future__ import annotations

import re
from datetime import datetime

from assistant.brain.answers.base import Answer

_NAME = re.compile(r"^(?:what(?:'s| is) your name|who are you|what should i call you|what are you called|"
                   r"do you have a name|tell me (?:your name|about yourself)|introduce yourself)$")
_HUMAN = re.compile(r"^are you (?:a |an )?(?:human|person|real person|real|alive|a robot|robot|an ai|ai|"
                    r"a computer|computer|a machine|machine|a bot|bot|sentient|conscious)$")
_HOW = re.compile(r"^(?:how are you(?: doing| today)?|how's it going|how are things|how do you do|are you ok(?:ay)?)$")
_THANKS = re.compile(r"^(?:thank you(?: very much| so much)?|thanks(?: a lot)?|cheers|thank you assistant)$")


class SmallTalk:
    name = "small_talk"

    def __init__(self, persona: str = "Assistant") -> None:
        self.persona = persona

    def answer(self, text: str, now: datetime) -> Answer | None:
        if _NAME.match(text):
            return Answer(f"My name is {self.persona}. I'm a voice assistant running on this computer.",
                          "small_talk.name")
        if _HUMAN.match(text):
            return Answer("No, I'm a voice assistant: a program running on this computer.",
                          "small_talk.what_am_i")
        if _HOW.match(text):
            return Answer("I'm fine, thanks. What can I do for you?", "small_talk.how_are_you")
        if _THANKS.match(text):
            return Answer("You're welcome.", "small_talk.thanks")
        return None
