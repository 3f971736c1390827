"""Spelling a word aloud: "how do you spell necessary" -> "Necessary: N, E, C, E, S, S, A, R, Y."

The word is the one the recogniser wrote, so this spells what Whisper heard; a word it could not make out
is not spelled (anything but letters, apostrophes and hyphens goes on to the LLM).
"""

from __future__ import annotations

import re
from datetime import datetime

from assistant.brain.answers.base import Answer

_FORM = re.compile(
    r"^(?:how (?:do|would|should|can) (?:you|i|we|one) spell|can you spell|could you spell|please spell|spell|"
    r"spell out|what's the spelling of|what is the spelling of|whats the spelling of|how is|how's) (?:the word )?"
    r"(?P<word>[a-z'-]+(?: (?!spel(?:led|t)$|for me$)[a-z'-]+)?)(?: spelled| spelt)?(?: for me)?$"
)
_FRAME_ONLY = re.compile(r"^how (?:is|s) .* spel(?:led|t)$")


class Spelling:
    name = "spell"

    def answer(self, text: str, now: datetime) -> Answer | None:
        match = _FORM.match(text)
        if match is None:
            return None
        if text.startswith(("how is ", "how's ")) and not _FRAME_ONLY.match(text.replace("how's", "how s")):
            return None  # "how is the weather" is not a spelling question
        word = match.group("word")
        letters = [c.upper() for c in word if c.isalpha()]
        if not letters or len(letters) > 30:
            return None
        spoken = ", ".join("space" if c == " " else c.upper() for c in word if c.isalpha() or c == " ")
        return Answer(f"{word[0].upper()}{word[1:]}: {spoken}.", "spell", {"word": word})
