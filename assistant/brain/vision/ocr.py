"""Reading text: RapidOCR (PP-OCRv4 detection and recognition, a 0/180° direction classifier) on onnxruntime.

The models come inside the rapidocr-onnxruntime wheel, so nothing is downloaded. Loading takes ~0.1-0.8 s
and is done once, on first use or by ``load()``.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from assistant.brain.vision.facts import TextLine
from assistant.brain.vision.reading import Found, reading_order

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)

# Grain added to each text-line crop before recognition. PP-OCRv4's recogniser drops the spaces between
# English words on flat, clean backgrounds ("thankyouforyourletter"); with a little noise it keeps them.
# Measured on the rendered benchmark pages: clean text 0.84-0.90 -> 1.00 character accuracy, noisy pages
# unchanged. Detection sees the frame as it is (grain there lost lines of skimage's page photograph).
DITHER_SIGMA = 10.0

# Detection settings, chosen on `assistant bench vision` (RapidOCR's defaults: 0.5, dilation on, 1.6): a lower
# box threshold keeps faint lines (skimage's photographed page lost two of eight lines), no dilation and wider
# boxes keep tightly spaced lines apart (18 px serif text merged two lines into one unreadable box).
# Measured: real page 0.70 -> 0.97, clean rendered pages 0.956 (worst 0.48) -> 1.000; noise frames still read
# nothing.
DETECTION = {"det_box_thresh": 0.3, "det_use_dilation": False, "det_unclip_ratio": 2.0, "det_limit_side_len": 480}
# Detection runs on a camera frame as it is (RapidOCR's default scales a 640x480 frame up to 736x981: 36 % slower
# for the same accuracy on the benchmark); only small images are scaled up, so their shorter side is UPSCALE_TO
# (skimage's 384x191 page loses its faintest line without it).
SMALL_SIDE = 400
UPSCALE_TO = 736

MISSING = "reading text needs rapidocr-onnxruntime; install the vision extra (scripts/setup.sh does)"


class OcrUnavailable(Exception):
    """The OCR engine is not installed or failed to load: one plain sentence."""


class TextReader:
    """Finds and reads text in a BGR image; lines come back in reading order."""

    def __init__(self, min_confidence: float = 0.6, threads: int = 0) -> None:
        self.min_confidence = min_confidence
        self.threads = threads  # 0: onnxruntime's default (all cores)
        self._engine: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._engine is not None:
                return
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise OcrUnavailable(MISSING) from exc
            kwargs: dict[str, Any] = {"print_verbose": False, **DETECTION}
            if self.threads > 0:
                kwargs.update(intra_op_num_threads=self.threads, inter_op_num_threads=1)
            try:
                engine = RapidOCR(**kwargs)
            except Exception as exc:  # a broken model file or onnxruntime install
                raise OcrUnavailable(f"the OCR models could not be loaded: {exc}") from exc
            engine.text_rec = _Dithered(engine.text_rec)
            self._engine = engine

    def read(self, image: npt.NDArray[np.uint8]) -> list[TextLine]:
        """Text lines in reading order, each piece at least ``min_confidence`` sure and with a letter or digit."""
        import cv2
        import numpy as np

        self.load()
        scale = 1.0
        if min(image.shape[:2]) < SMALL_SIDE:
            scale = UPSCALE_TO / min(image.shape[:2])
            image = np.asarray(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC),
                               dtype=np.uint8)
        with self._lock:  # one onnxruntime session set; calls are serialised
            result, _ = self._engine(image)
        found: list[Found] = []
        for quad, text, score in result or []:
            text = str(text).strip()
            confidence = float(score)
            if confidence < self.min_confidence or sum(ch.isalnum() for ch in text) == 0:
                continue
            points = tuple((float(x) / scale, float(y) / scale) for x, y in quad)
            found.append(Found((points[0], points[1], points[2], points[3]), text, confidence))
        return reading_order(found)


class _Dithered:
    """Wraps RapidOCR's recogniser: the same seeded grain on every crop, so a frame always reads the same."""

    def __init__(self, recognise: Any) -> None:
        self._recognise = recognise

    def __call__(self, crops: list[Any], *args: Any, **kwargs: Any) -> Any:
        import numpy as np

        rng = np.random.default_rng(0)
        grainy = [np.clip(c.astype(np.float32) + rng.normal(0.0, DITHER_SIGMA, c.shape), 0, 255).astype(np.uint8)
                  for c in crops]
        return self._recognise(grainy, *args, **kwargs)
