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
# The first piece may end at a clause (a comma, semicolon, colon or dash followed by a space) once it is this
# long: the speaker starts on "The Brooklyn Bridge opened in 1883," while the model writes the rest.
FIRST_CLAUSE_CHARS = 24
_CLAUSE_END = re.compile(r"(?:[,;:]|\s[–—-])(?=\s)")


def _is_false_end(text: str, end: int) -> bool:
    """True when the period just before ``end`` belongs to an abbreviation, an initial or a list number."""
    before = text[:end].rstrip(".\"'”’)]")
    word = re.split(r"\s", before)[-1].lower() if before else ""
    if word in _ABBREVIATIONS:
        return True
    return bool(re.fullmatch(r"[a-z]|\d+", word)) and text[end - 1] == "."


def _first_clause(buffer: str, first_clause_chars: int) -> int | None:
    """Where the first clause of ``buffer`` ends (after its comma), if it is long enough to be spoken alone."""
    for match in _CLAUSE_END.finditer(buffer):
        if match.end() >= first_clause_chars:
            return match.end()
    return None


def sentences(deltas: Iterable[str], min_chars: int = _MIN_CHARS,
              first_clause_chars: int | None = FIRST_CLAUSE_CHARS) -> Iterator[str]:
    """Yield whole sentences (stripped, never empty) as soon as each is complete; the rest at the end. The
    first piece may be a clause (``first_clause_chars``; None: whole sentences only)."""
    buffer = ""
    first = first_clause_chars is not None
    for delta in deltas:
        buffer += delta
        if first and first_clause_chars is not None and not _END.search(buffer):
            clause = _first_clause(buffer, first_clause_chars)
            if clause is not None:
                yield buffer[:clause].strip()
                buffer, first = buffer[clause:], False
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
            start, first = end, False
        buffer = buffer[start:]
    rest = buffer.strip()
    if rest:
        yield rest
