"""Grounding an LLM in what the camera sees: the frame (for a vision-language model) and the scene facts as
text (for any model), so "what's the date on this letter?" is answered from the letter, even by a text-only
model.

``Sight.for_turn`` decides per question: whether a frame is wanted (``camera.attach``, the triggers, an
explicit image), captures it, runs the vision stage and prepares the JPEG. Problems come back as a code the
brain turns into its apology; nothing here raises for a bad camera or image.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from assistant.brain.camera import Camera, CameraError, ImageError, prepare_image, wants_image
from assistant.brain.vision.facts import PROBLEM_WORDS, SceneFacts
from assistant.brain.vision.reading import running_text

if TYPE_CHECKING:
    from assistant.brain.vision.scene import Vision
    from assistant.config.llm import CameraConfig

log = logging.getLogger(__name__)

Trouble = Literal["cannot_see", "bad_image", "no_camera", "unseeable"]
PROMPT_TEXT_CHARS = 1500  # more text than this is cut (a small model's context is short)


def prompt_facts(facts: SceneFacts) -> str:
    """The facts as one paragraph for a model's prompt; says plainly what was not found."""
    said = ["What the camera sees right now, found by text recognition and a face detector (nothing else is "
            "known about the picture)."]
    if facts.quality.problem is not None:
        said.append(f"Note: {PROBLEM_WORDS[facts.quality.problem]}.")
    text = running_text([line.text for line in facts.lines])
    if text:
        cut = text if len(text) <= PROMPT_TEXT_CHARS else text[:PROMPT_TEXT_CHARS] + " ..."
        said.append(f'Text read in it, in reading order: "{cut}"')
    else:
        said.append("No text could be read in it.")
    people = facts.people
    said.append("No faces are visible." if people == 0 else
                f"{people} {'face is' if people == 1 else 'faces are'} visible.")
    return " ".join(said)


def with_facts(question: str, facts: str) -> str:
    """The user's turn as the model gets it: the facts first, then the question."""
    return f"[{facts}]\n{question.strip()}" if facts else question.strip()


@dataclass
class Sighting:
    frame: bytes | None = None  # the JPEG for a vision-language model
    facts: SceneFacts | None = None
    trouble: Trouble | None = None
    error: str | None = None  # for the turn's stats and the log
    capture_ms: float | None = None

    @property
    def prompt(self) -> str:
        return prompt_facts(self.facts) if self.facts is not None else ""


class Sight:
    """The camera, the vision stage and the rules for when a question gets a frame."""

    def __init__(self, camera: Camera | None, config: CameraConfig, image_max_side: int,
                 vision: Vision | None) -> None:
        self.camera = camera
        self.config = config
        self.image_max_side = image_max_side
        self.vision = vision

    def for_turn(self, text: str, image: bytes | None, model_sees: bool) -> Sighting:
        """What goes with this question. ``image``: an explicit one (it must decode); else the camera's."""
        if image is not None:
            return self._see(image, model_sees, requested=True, explicit=True, sighting=Sighting())
        attach = self.config.attach
        if self.camera is None or attach == "never":
            return Sighting()
        requested = attach == "on_request" and wants_image(text, self.config.triggers)
        if attach == "on_request" and not requested:
            return Sighting()
        if not model_sees and self.vision is None:
            return Sighting(trouble="cannot_see", error="the model cannot take images") if requested else Sighting()
        sighting = Sighting()
        began = time.monotonic()
        try:
            raw = self.camera.capture()
        except CameraError as exc:
            return self._camera_trouble(exc, requested, sighting)
        finally:
            sighting.capture_ms = (time.monotonic() - began) * 1000.0
        return self._see(raw, model_sees, requested, explicit=False, sighting=sighting)

    def _camera_trouble(self, exc: Exception, requested: bool, sighting: Sighting) -> Sighting:
        assert self.camera is not None
        if requested:  # the question is about what the camera sees: answering blind would mislead
            log.error("camera capture failed (%s): %s", self.camera.description, exc)
            sighting.trouble, sighting.error = "no_camera", f"camera: {exc}"
        else:
            log.warning("camera capture failed (%s): %s; answering without a picture", self.camera.description, exc)
        return sighting

    def _see(self, raw: bytes, model_sees: bool, requested: bool, explicit: bool, sighting: Sighting) -> Sighting:
        if self.vision is not None:
            try:
                sighting.facts = self.vision.look(raw)
            except ImageError as exc:
                return self._bad(exc, explicit, requested, sighting)
            if not model_sees and requested and sighting.facts.empty and sighting.facts.quality.problem:
                # a dark or blank frame: say so rather than let a blind model guess
                sighting.trouble, sighting.error = "unseeable", f"frame: {sighting.facts.quality.problem}"
                return sighting
        if not model_sees:
            if sighting.facts is None:
                sighting.trouble, sighting.error = "cannot_see", "the model cannot take images"
            return sighting
        try:
            sighting.frame = prepare_image(raw, self.image_max_side, self.config.jpeg_quality)[0]
        except ImageError as exc:
            return self._bad(exc, explicit, requested, sighting)
        return sighting

    def _bad(self, exc: ImageError, explicit: bool, requested: bool, sighting: Sighting) -> Sighting:
        sighting.facts = None
        if explicit:
            log.error("the image for this question is unusable: %s", exc)
            sighting.trouble, sighting.error = "bad_image", f"bad image: {exc}"
        elif requested:
            log.error("the camera's frame is unusable: %s", exc)
            sighting.trouble, sighting.error = "no_camera", f"camera: {exc}"
        else:
            log.warning("the camera's frame is unusable: %s; answering without a picture", exc)
        return sighting
