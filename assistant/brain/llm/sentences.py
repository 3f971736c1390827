"""Cut a stream of text deltas into sentences, so speech can start on the first while the rest is generated."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) when whitespace follows.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n+")
# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "no", "approx", "jr", "sr", "mt", "fig"}
)
_MIN_CHARS = 12  # "Yes." on its own is fine to speak, but "1." or "A." alone is usually a list marker


def _is_false_end(text: str, end: int) -> bool:
    """True when the period just before ``end`` belongs to an abbreviation, an initial or a list number."""
    before = text[:end].rstrip(".\"'”’)]")
    word = re.split(r"\s", before)[-1].lower() if before else ""
    if word in _ABBREVIATIONS:
        return True
    return bool(re.fullmatch(r"[a-z]|\d+", word)) and text[end - 1] == "."


def sentences(deltas: Iterable[str], min_chars: int = _MIN_CHARS) -> Iterator[str]:
    """Yield whole sentences (stripped, never empty) as soon as each is complete; the rest at the end."""
    buffer = ""
    for delta in deltas:
        buffer += delta
        start = 0
        for match in _END.finditer(buffer):
            end = match.end()
            piece = buffer[start:end].strip()
            if not piece:
                start = end
                continue
            newline = match.group().startswith("\n")
            if not newline and (len(piece) < min_chars or _is_false_end(buffer, end)):
                continue
            yield piece
            start = end
        buffer = buffer[start:]
    rest = buffer.strip()
    if rest:
        yield rest
