"""Text normalisation and WER for comparing transcripts with references (tests only)."""

from __future__ import annotations

import re

from assistant.hearing.distance import edit_distance

_NUMBERS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
            "7": "seven", "8": "eight", "9": "nine", "10": "ten"}


def normalise(text: str) -> list[str]:
    text = text.lower().replace("mr.", "mister").replace("'s", " is")
    words = re.sub(r"[^a-z0-9' ]+", " ", text).split()
    return [_NUMBERS.get(w, w) for w in words]


def wer(reference: str, hypothesis: str) -> float:
    ref = normalise(reference)
    return edit_distance(ref, normalise(hypothesis)) / max(1, len(ref))
