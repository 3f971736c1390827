"""What the vision stage found in one frame: text lines, faces, the frame's quality, and how long it took.

Plain dataclasses, no heavy imports: the skills, the prompt grounding and ``assistant look --json`` all read
these. Boxes are (x, y, width, height) in the pixels of the frame as it was analysed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Problem = Literal["dark", "bright", "blurred", "blank"]
Box = tuple[int, int, int, int]

# Why a frame shows nothing, in words for speech and for a model's prompt.
PROBLEM_WORDS: dict[str, str] = {
    "dark": "the picture is too dark to make anything out",
    "bright": "the picture is washed out by too much light",
    "blurred": "the picture is too blurred to make anything out",
    "blank": "the picture is blank: there is nothing in it to see",
}


@dataclass(frozen=True)
class Quality:
    brightness: float  # mean grey level, 0-255
    contrast: float  # standard deviation of the grey levels
    sharpness: float  # variance of the Laplacian (focus measure)
    problem: Problem | None  # None: the frame can be read


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float  # the recogniser's mean character probability, 0-1
    box: Box


@dataclass(frozen=True)
class Face:
    confidence: float  # the detector's score, 0-1
    box: Box


@dataclass
class SceneFacts:
    width: int
    height: int
    quality: Quality
    lines: list[TextLine] = field(default_factory=list)  # in reading order
    faces: list[Face] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)  # decode, quality, ocr, faces, total
    errors: list[str] = field(default_factory=list)  # a backend that could not run, in one sentence each

    @property
    def text(self) -> str:
        """Everything read, in reading order, one line after another."""
        return "\n".join(line.text for line in self.lines)

    @property
    def people(self) -> int:
        return len(self.faces)

    @property
    def empty(self) -> bool:
        """Nothing was found: no text and no faces (whatever the reason)."""
        return not self.lines and not self.faces

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["text"] = self.text
        out["people"] = self.people
        return out
