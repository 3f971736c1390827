"""The vision stage: one encoded frame in, ``SceneFacts`` out (quality, text in reading order, faces, timings).

It runs on demand, on the turn's worker thread (a request about the scene, ``assistant look``), never on the
audio path. A backend that is missing or fails costs only its own facts: the error is recorded in
``SceneFacts.errors`` and the rest is still reported.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from assistant.brain.camera import open_image
from assistant.brain.vision.faces import FaceCounter, FacesUnavailable
from assistant.brain.vision.facts import SceneFacts
from assistant.brain.vision.ocr import OcrUnavailable, TextReader
from assistant.brain.vision.quality import assess, worth_analysing

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from assistant.config.llm import CameraConfig

log = logging.getLogger(__name__)


def decode_bgr(data: bytes, max_side: int) -> npt.NDArray[np.uint8]:
    """An OpenCV BGR array from encoded bytes, scaled down so its longer side is at most ``max_side``."""
    import numpy as np

    image = open_image(data, max_side)
    rgb = np.asarray(image, dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


class Vision:
    """Reads text and counts faces in frames; models load on first use or in ``load()``."""

    def __init__(self, max_side: int = 1280, min_text_confidence: float = 0.6, min_face_confidence: float = 0.7,
                 threads: int = 0) -> None:
        self.max_side = max_side
        self.reader = TextReader(min_text_confidence, threads)
        self.faces = FaceCounter(min_face_confidence)

    @classmethod
    def from_config(cls, config: CameraConfig) -> Vision:
        return cls(config.vision_max_side, config.min_text_confidence, config.min_face_confidence)

    def load(self) -> list[str]:
        """Load both models now (off the turn's clock); returns the problems, one sentence each."""
        problems: list[str] = []
        for part in (self.reader, self.faces):
            try:
                part.load()
            except (OcrUnavailable, FacesUnavailable) as exc:
                problems.append(str(exc))
        return problems

    def look(self, data: bytes, text: bool = True, faces: bool = True) -> SceneFacts:
        """The facts of one encoded image: its text, its faces or both (a request that needs only one does not
        wait for the other). Raises ImageError for bytes that are not an image."""
        began = time.monotonic()
        image = decode_bgr(data, self.max_side)
        decoded = time.monotonic()
        quality = assess(_grey(image))
        assessed = time.monotonic()
        height, width = image.shape[:2]
        facts = SceneFacts(width, height, quality)
        facts.timings_ms.update(decode=_ms(began, decoded), quality=_ms(decoded, assessed))
        if worth_analysing(quality):
            self._analyse(image, facts, text, faces)
        facts.timings_ms["total"] = _ms(began, time.monotonic())
        return facts

    def _analyse(self, image: npt.NDArray[np.uint8], facts: SceneFacts, text: bool = True,
                 faces: bool = True) -> None:
        if text:
            self._read(image, facts)
        if faces:
            self._count(image, facts)

    def _read(self, image: npt.NDArray[np.uint8], facts: SceneFacts) -> None:
        started = time.monotonic()
        try:
            facts.lines = self.reader.read(image)
        except OcrUnavailable as exc:
            facts.errors.append(str(exc))
        except Exception as exc:  # onnxruntime failing on one frame must not cost the turn
            log.exception("reading text failed")
            facts.errors.append(f"reading text failed: {exc}")
        facts.timings_ms["ocr"] = _ms(started, time.monotonic())

    def _count(self, image: npt.NDArray[np.uint8], facts: SceneFacts) -> None:
        started = time.monotonic()
        try:
            facts.faces = self.faces.find(image)
        except FacesUnavailable as exc:
            facts.errors.append(str(exc))
        except Exception as exc:
            log.exception("finding faces failed")
            facts.errors.append(f"finding faces failed: {exc}")
        facts.timings_ms["faces"] = _ms(started, time.monotonic())


_SHARED: dict[tuple[int, float, float], Vision] = {}
_SHARED_LOCK = threading.Lock()


def shared_vision(config: CameraConfig) -> Vision:
    """One Vision per setting in this process, so the skills and the brain load the models once."""
    key = (config.vision_max_side, config.min_text_confidence, config.min_face_confidence)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Vision.from_config(config)
        return _SHARED[key]


def _grey(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    import cv2
    import numpy as np

    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000.0, 1)
