"""Scene facts in words for speech: what the text says, how many people, what can be seen; honest when the
frame shows nothing ("it's too dark"), and never more than was found.
"""

from __future__ import annotations

from assistant.brain.vision.facts import PROBLEM_WORDS, SceneFacts
from assistant.brain.vision.reading import parts, running_text

UNSURE_TEXT = 0.8  # a line read with less confidence than this makes the answer say some of it was unclear
_SMALL = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
MORE = "There's more: say 'read on' to hear the next part."
NO_VLM = "Without a vision model I can only read text and count faces, so I can't name other things."


def count_words(n: int) -> str:
    return _SMALL[n] if 0 <= n < len(_SMALL) else str(n)


def cannot_tell(facts: SceneFacts) -> str | None:
    """'I can't make anything out: ...' when the frame's problem explains finding nothing; else None."""
    if facts.empty and facts.quality.problem is not None:
        return f"I can't make anything out: {PROBLEM_WORDS[facts.quality.problem]}."
    return None


def text_parts(facts: SceneFacts, max_chars: int) -> list[str]:
    """What was read, as running text in parts of whole sentences for reading aloud."""
    return parts(running_text([line.text for line in facts.lines]), max_chars)


def say_read(facts: SceneFacts, max_chars: int) -> tuple[str, list[str]]:
    """The reply to 'read this', and the parts still to be read on request."""
    problem = cannot_tell(facts)
    if problem is not None:
        return problem, []
    if not facts.lines:
        return "I don't see any text to read.", []
    pieces = text_parts(facts, max_chars)
    unclear = any(line.confidence < UNSURE_TEXT for line in facts.lines)
    intro = "Some of it was hard to read. It says: " if unclear else "It says: "
    first = intro + _spoken_end(pieces[0])
    if len(pieces) > 1:
        return f"{first} {MORE}", pieces[1:]
    return first, []


def say_next(remaining: list[str]) -> tuple[str, list[str]]:
    if not remaining:
        return "That's all of it.", []
    text = _spoken_end(remaining[0])
    if len(remaining) > 1:
        return f"{text} {MORE}", remaining[1:]
    return f"{text} That's the end.", []


def say_people(facts: SceneFacts) -> str:
    problem = cannot_tell(facts)
    if problem is not None:
        return problem
    n = facts.people
    if n == 0:
        return "I don't see anyone."
    if n == 1:
        return "I see one person."
    return f"I see {count_words(n)} people."


def say_scene(facts: SceneFacts) -> str:
    """'What do you see': the people and the text found, and what cannot be known without a vision model."""
    problem = cannot_tell(facts)
    if problem is not None:
        return problem
    said: list[str] = []
    if facts.people:
        said.append("I see one person." if facts.people == 1 else f"I see {count_words(facts.people)} people.")
    if facts.lines:
        first = facts.lines[0].text
        words = first.split()
        opening = " ".join(words[:8]) + (" ..." if len(words) > 8 else "")
        lines = len(facts.lines)
        amount = "There's a line of text" if lines == 1 else f"There are {count_words(lines)} lines of text"
        said.append(f"{amount}; it begins: {opening.rstrip('.')}. Say 'read this' to hear it.")
    if not said:
        said.append("I don't see any text or faces.")
    said.append(NO_VLM)
    return " ".join(said)


def _spoken_end(text: str) -> str:
    """A part ends with a full stop when read aloud (a label's words have none)."""
    text = text.strip()
    return text if text[-1:] in ".!?" else text + "."
