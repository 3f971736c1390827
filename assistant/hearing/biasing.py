"""Vocabulary biasing: Whisper's initial prompt built from the words the user's config expects.

Whisper treats the initial prompt as the text said just before the audio, so names that appear in it
("Lumière lamp", "Spotify", "Claflin") become far more likely to be spelled that way. The prompt is a
plain comma-separated list in the config's own spelling and casing; command templates' ``{slot}``
placeholders are left out (they are not words anyone says).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Whisper keeps at most 223 prompt tokens; English runs ~4 characters a token. Every prompt token also
# costs decoding time on each utterance, so stay well under the limit.
MAX_PROMPT_CHARS = 600
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def vocabulary_terms(terms: Iterable[str]) -> list[str]:
    """Distinct terms (case-insensitive), in first-seen order, placeholders and extra spaces removed."""
    seen: set[str] = set()
    out: list[str] = []
    for term in terms:
        cleaned = " ".join(_PLACEHOLDER.sub(" ", str(term)).split()).strip(" ,.;:")
        key = cleaned.casefold()
        if cleaned and key not in seen:
            seen.add(key)
            out.append(cleaned)
    return out


def build_initial_prompt(terms: Iterable[str], max_chars: int = MAX_PROMPT_CHARS) -> str | None:
    """"Lumière lamp, Spotify, hey computer." or None when there is nothing to bias towards."""
    picked: list[str] = []
    length = 0
    for term in vocabulary_terms(terms):
        if length + len(term) + 2 > max_chars:
            break  # earlier terms win: callers list configured hotwords first
        picked.append(term)
        length += len(term) + 2
    return ", ".join(picked) + "." if picked else None
