"""The seeing skills (``skills.enabled: vision``): "read this", "how many people do you see", "what do you
see", and "read on" for long text. They answer from the vision stage, without any language model.

An exact-answer skill (see :mod:`assistant.brain.answers.base`): it answers only requests it parsed whole.
"What do you see" is left to a vision-language model when one is configured (it gets the frame and the
facts); reading and counting are always ours.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.brain.answers.base import Answer, first_match, prepare
from assistant.brain.camera import Camera, CameraError, ImageError
from assistant.brain.vision.facts import SceneFacts
from assistant.brain.vision.say import say_next, say_people, say_read, say_scene

if TYPE_CHECKING:
    from assistant.brain.vision.scene import Vision

log = logging.getLogger(__name__)

PREFETCH_TTL_S = 3.0  # a frame looked at while the user was still finishing is used this long after

NO_CAMERA_SET_UP = "I don't have a camera set up, so I can't see anything. Set camera.source in my config."
NO_FRAME = "Sorry, I couldn't get a picture from the camera."
BAD_IMAGE = "Sorry, I couldn't read that image."

_THING = r"(?:this|that|it|these|those|the \w+|this \w+|that \w+|my \w+)"
READ = [re.compile(p) for p in (
    rf"^(?:can you |could you |would you |please )?read (?:out )?{_THING}(?: out)?"
    r"(?: (?:to|for) me| aloud| out loud)?$",
    r"^(?:can you |could you |please )?read (?:me )?(?:this|that|it|what it says|what this says|what that says)$",
    rf"^what does {_THING} say$",
    rf"^what(?:'s| is) written(?: here| there| on {_THING})?$",
    rf"^what(?:'s| is| does) (?:it|{_THING}) (?:say|read)$",
    r"^what does it read$",
)]
PEOPLE = [re.compile(p) for p in (
    r"^(?:is|are) (?:there )?(?:any ?one|any ?body|people|someone|somebody) "
    r"(?:there|here|in (?:the )?(?:room|picture|frame|view))$",
    r"^how many (?:people|persons|faces|humans) (?:do you see|can you see|are (?:there|here|in (?:the )?"
    r"(?:room|picture|frame|view)))$",
    r"^(?:do|can) you see (?:any ?one|any ?body|someone|somebody|people|a person|anyone there)$",
    r"^who(?:'s| is) (?:there|here)$",
    r"^how many people$",
)]
DESCRIBE = [re.compile(p) for p in (
    r"^what (?:do|can) you see(?: now| right now)?$",
    r"^what(?:'s| is) in front of (?:you|the camera)$",
    r"^(?:describe|tell me) what you see$",
    r"^what are you looking at$",
    r"^what does the camera see$",
    r"^look around$",
)]
MORE = [re.compile(r"^(?:read on|keep reading|continue(?: reading)?|go on|next part|more|"
                   r"read (?:the )?(?:next|rest|more)(?: part| of it)?)$")]


class VisionAnswers:
    name = "vision"

    def __init__(self, camera: Camera | None, vision: Vision, read_part_chars: int = 300,
                 model_sees: Callable[[], bool] = lambda: False) -> None:
        self.camera = camera
        self.vision = vision
        self.read_part_chars = read_part_chars
        self.model_sees = model_sees  # a vision-language model answers "what do you see" itself
        self.next_image: bytes | None = None  # an explicit image for the next request (`assistant ask --image`)
        self._remaining: list[str] = []
        self._lock = threading.Lock()
        self._early: _Early | None = None  # a look started from the speculative transcript

    def load(self) -> None:
        """Load the models now, so the first 'read this' does not wait for them (with no camera, on first use)."""
        if self.camera is None:
            return
        for problem in self.vision.load():
            log.warning("seeing: %s", problem)

    def prefetch(self, text: str) -> None:
        """Start looking now when ``text`` (a speculative transcript, during the end-of-speech hangover) is a
        seeing request, so the answer does not wait for the camera and the models after the turn ends."""
        wanted = _wanted(prepare(text))
        if wanted is None or self.camera is None or self.next_image is not None:
            return
        early = _Early(wanted)
        self._early = early
        log.debug("looking early for %r", text)
        threading.Thread(target=early.run, args=(self.camera, self.vision), name="vision-prefetch",
                         daemon=True).start()

    def answer(self, text: str, now: datetime) -> Answer | None:
        with self._lock:
            if first_match(MORE, text) is not None and self._remaining:
                reply, self._remaining = say_next(self._remaining)
                return Answer(reply, "vision.more")
            if first_match(READ, text) is not None:
                return self._look("vision.read", lambda facts: self._read(facts), faces=False)
            if first_match(PEOPLE, text) is not None:
                return self._look("vision.people", say_people, text=False)
            if first_match(DESCRIBE, text) is not None and not self._model_sees():
                return self._look("vision.describe", say_scene)
            return None

    def _model_sees(self) -> bool:
        try:
            return self.model_sees()
        except Exception:  # a model that fails to load cannot see either
            log.exception("checking whether the model takes images failed")
            return False

    def _read(self, facts: SceneFacts) -> str:
        reply, self._remaining = say_read(facts, self.read_part_chars)
        return reply

    def _look(self, intent: str, words: Callable[[SceneFacts], str], text: bool = True, faces: bool = True) -> Answer:
        image, self.next_image = self.next_image, None
        early, self._early = self._early, None
        if image is None and early is not None and early.serves((text, faces)):
            facts = early.result()
            if facts is not None:
                log.debug("answering from the early look (%.0f ms before the turn)",
                          (time.monotonic() - early.started) * 1000.0)
                return Answer(words(facts), intent, {**_summary(facts), "prefetched": True})
        if image is None:
            if self.camera is None:
                return Answer(NO_CAMERA_SET_UP, intent, {"error": "no camera"})
            try:
                image = self.camera.capture()
            except CameraError as exc:
                log.error("camera capture failed (%s): %s", self.camera.description, exc)
                return Answer(NO_FRAME, intent, {"error": str(exc)})
        try:
            facts = self.vision.look(image, text=text, faces=faces)
        except ImageError as exc:
            log.error("the image is unusable: %s", exc)
            return Answer(BAD_IMAGE, intent, {"error": str(exc)})
        return Answer(words(facts), intent, _summary(facts))


def _summary(facts: SceneFacts) -> dict[str, Any]:
    """What was seen, for logs and `assistant ask --json`."""
    return {"people": facts.people, "text": facts.text, "problem": facts.quality.problem,
            "timings_ms": dict(facts.timings_ms), "errors": list(facts.errors)}


def _wanted(prepared: str) -> tuple[bool, bool] | None:
    """(text, faces) a seeing request needs, or None for any other request."""
    if first_match(READ, prepared) is not None:
        return True, False
    if first_match(PEOPLE, prepared) is not None:
        return False, True
    if first_match(DESCRIBE, prepared) is not None:
        return True, True
    return None


class _Early:
    """One look begun before the turn ended; the turn takes its facts if they fit and are fresh."""

    def __init__(self, wanted: tuple[bool, bool]) -> None:
        self.wanted = wanted
        self.started = time.monotonic()
        self.done = threading.Event()
        self.facts: SceneFacts | None = None

    def run(self, camera: Camera, vision: Vision) -> None:
        try:
            self.facts = vision.look(camera.capture(), text=self.wanted[0], faces=self.wanted[1])
        except (CameraError, ImageError) as exc:  # the turn tries again and says what went wrong
            log.info("looking early failed: %s", exc)
        except Exception:
            log.exception("looking early failed")
        finally:
            self.done.set()

    def serves(self, wanted: tuple[bool, bool]) -> bool:
        covers = all(have or not need for have, need in zip(self.wanted, wanted, strict=True))
        return covers and time.monotonic() - self.started < PREFETCH_TTL_S

    def result(self) -> SceneFacts | None:
        self.done.wait(PREFETCH_TTL_S)
        return self.facts
