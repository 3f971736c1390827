"""How sure the model was of its answer: the probability it gave the first word of the answer that the
question did not already say ("Sydney" in "The capital of Australia is Sydney."), read from the backend's
per-token probabilities (llama.cpp and transformers record them; an OpenAI-compatible server does not
yet). Small models state wrong facts in the same words as right ones, but measured on
benchmarks/answer_quality.py with the bundled Gemma 3 270M their wrong facts more often start on an
unlikely token (spider "1"0 legs 0.20, kangaroo 0.07) than their right ones (Tokyo 0.83, Rome 0.63).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+")
# Words an answer uses to restate the question; never the answer itself.
_RESTATING = frozenset({
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "of", "in", "on", "at", "to", "for", "by", "with",
    "from", "and", "or", "it", "its", "it's", "this", "that", "there", "has", "have", "had", "do", "does", "did",
    "i", "you", "your", "my", "we", "our", "they", "their", "he", "she", "his", "her", "called", "known", "made",
    "up", "about",
})


def answer_confidence(question: str, token_probs: Sequence[tuple[str, float]], sentence: str) -> float | None:
    """The probability of the first token of ``sentence`` that adds a word the question did not say; None
    when the sentence adds nothing ("Hello!") or the backend gave no probabilities."""
    asked = set(_WORD.findall(question.lower())) | _RESTATING
    said = 0
    for piece, prob in token_probs:
        if said >= len(sentence):
            break
        said += len(piece.strip()) + (1 if piece[:1].isspace() else 0)
        word = "".join(_WORD.findall(piece.lower()))
        if word and word not in asked:
            return prob
    return None


_QUESTION = re.compile(r"(?i)^(?:what|who|whom|whose|where|when|which|why|how)\b.*\?$")


def is_a_guess(question: str, token_probs: Sequence[tuple[str, float]], sentence: str,
               min_confidence: float) -> tuple[bool, float | None]:
    """(whether ``sentence``, the model's first, is a guess not to be said, its confidence). Only questions
    of fact are judged: a joke or a story begins on an unlikely word by design. An answer that says nothing
    new ("A mammal is a mammal.") answers nothing."""
    if min_confidence <= 0 or not _QUESTION.match(question.strip()):
        return False, None
    confidence = answer_confidence(question, token_probs, sentence)
    if confidence is None:
        return bool(token_probs), None
    return confidence < min_confidence, confidence
