"""Making reply text safe and pleasant to speak: strip markup and control characters, split sentences."""

from __future__ import annotations

import re
import unicodedata

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # terminal colour codes an LLM or a command may echo
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,!?;:])")  # left behind where a tag sat before the full stop
_TAG = re.compile(r"<[^<>]{0,200}>")
_MARKDOWN = re.compile(r"(\*\*|__|`+|^#+\s*|^\s*[-*]\s+)", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=\S)|\n+")
MAX_SENTENCE_CHARS = 400  # espeak copes with more, but a long block delays the first audio


def clean(text: str) -> str:
    """Remove what a synthesizer would read out literally or choke on (tags, markdown, control chars)."""
    text = _ANSI.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _MARKDOWN.sub("", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n" else " " for ch in text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences (and newline-separated lines), long ones cut at word boundaries."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(clean(text)):
        sentence = sentence.strip()
        while len(sentence) > MAX_SENTENCE_CHARS:
            cut = sentence.rfind(" ", 0, MAX_SENTENCE_CHARS)
            cut = cut if cut > 0 else MAX_SENTENCE_CHARS
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces
