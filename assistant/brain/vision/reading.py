"""Reading order for OCR boxes, and text made ready to be read aloud (sentences, parts).

The detector finds words and phrases as quadrilaterals in no useful order. We find the page's slant (the
median angle of the boxes' top edges), turn the box centres upright, group boxes whose centres lie within
half a line height into one line, and read each line left to right, lines top to bottom. One column of
text is read correctly at any moderate slant; side-by-side columns are read across, line by line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.brain.vision.facts import TextLine

Point = tuple[float, float]

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_HYPHENATED = re.compile(r"(\w)-\n(\w)")


@dataclass(frozen=True)
class Found:
    """One recognised piece of text: its quadrilateral (clockwise from top left), text and confidence."""

    quad: tuple[Point, Point, Point, Point]
    text: str
    confidence: float


def _slant(items: Sequence[Found]) -> float:
    """The page's rotation in radians: the median angle of the top edges of boxes wider than tall."""
    angles = sorted(
        math.atan2(f.quad[1][1] - f.quad[0][1], f.quad[1][0] - f.quad[0][0])
        for f in items if math.dist(f.quad[0], f.quad[1]) > math.dist(f.quad[0], f.quad[3])
    )
    return angles[len(angles) // 2] if angles else 0.0


def reading_order(items: Sequence[Found]) -> list[TextLine]:
    """The pieces grouped into lines and put in reading order, one TextLine per line."""
    if not items:
        return []
    angle = _slant(items)
    cos, sin = math.cos(-angle), math.sin(-angle)
    placed: list[tuple[float, float, float, Found]] = []  # upright centre y, x, line height, piece
    for item in items:
        cx = sum(p[0] for p in item.quad) / 4
        cy = sum(p[1] for p in item.quad) / 4
        height = (math.dist(item.quad[0], item.quad[3]) + math.dist(item.quad[1], item.quad[2])) / 2
        placed.append((cx * sin + cy * cos, cx * cos - cy * sin, max(height, 1.0), item))
    placed.sort(key=lambda p: p[0])
    lines: list[list[tuple[float, float, float, Found]]] = []
    for piece in placed:
        if lines:
            line = lines[-1]
            line_y = sum(p[0] for p in line) / len(line)
            line_h = min(p[2] for p in line)
            if abs(piece[0] - line_y) < 0.5 * min(line_h, piece[2]):
                line.append(piece)
                continue
        lines.append([piece])
    return [_merge(sorted(line, key=lambda p: p[1])) for line in lines]


def _merge(line: Sequence[tuple[float, float, float, Found]]) -> TextLine:
    pieces = [p[3] for p in line]
    text = " ".join(p.text.strip() for p in pieces if p.text.strip())
    weight = sum(max(len(p.text), 1) for p in pieces)
    confidence = sum(p.confidence * max(len(p.text), 1) for p in pieces) / weight
    xs = [pt[0] for p in pieces for pt in p.quad]
    ys = [pt[1] for p in pieces for pt in p.quad]
    box = (round(min(xs)), round(min(ys)), round(max(xs) - min(xs)), round(max(ys) - min(ys)))
    return TextLine(text, round(confidence, 3), box)


def running_text(lines: Sequence[str]) -> str:
    """Lines joined into running text: a word hyphenated across a line break is joined again."""
    text = "\n".join(line.strip() for line in lines if line.strip())
    return " ".join(_HYPHENATED.sub(r"\1\2", text).split())


def sentences(text: str) -> list[str]:
    """Running text split after . ! ? followed by a capital or a digit."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def parts(text: str, max_chars: int) -> list[str]:
    """Whole sentences gathered into parts of at most ``max_chars`` (a longer sentence is a part alone)."""
    out: list[str] = []
    current = ""
    for sentence in sentences(text):
        if current and len(current) + 1 + len(sentence) > max_chars:
            out.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        out.append(current)
    return out
