"""Is the frame worth reading? Brightness, contrast and focus of a grey image, and the plain reason if not.

The measures are cheap (a few milliseconds on a 640x480 frame). A frame flagged dark or blank is not
analysed at all; one flagged blurred or bright is still analysed, and the problem only explains an empty
result ("the picture is too blurred"), so a soft but readable label is still read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.brain.vision.facts import Problem, Quality

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

DARK_P99 = 50.0  # the brightest 1 % of the frame below this grey level: nothing is lit
BRIGHT_P1 = 225.0  # the darkest 1 % above this: the frame is washed out
BLANK_CONTRAST = 4.0  # grey-level standard deviation below this: one flat colour
BLUR_SHARPNESS = 12.0  # Laplacian variance below this (on a frame scaled to 640 px): no edges left
MEASURE_SIDE = 640


def assess(grey: npt.NDArray[np.uint8]) -> Quality:
    """Measure a single-channel uint8 image."""
    import cv2
    import numpy as np

    height, width = grey.shape[:2]
    scale = MEASURE_SIDE / max(height, width)
    small = cv2.resize(grey, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else grey
    brightness = float(small.mean())
    contrast = float(small.std())
    low, high = (float(v) for v in np.percentile(small, [1, 99]))
    sharpness = float(cv2.Laplacian(small, cv2.CV_64F).var())
    problem: Problem | None = None
    if high < DARK_P99:
        problem = "dark"
    elif contrast < BLANK_CONTRAST:
        problem = "blank"
    elif low > BRIGHT_P1:
        problem = "bright"
    elif sharpness < BLUR_SHARPNESS:
        problem = "blurred"
    return Quality(round(brightness, 1), round(contrast, 1), round(sharpness, 1), problem)


def worth_analysing(quality: Quality) -> bool:
    """Dark and blank frames hold nothing to find; everything else is looked at."""
    return quality.problem not in ("dark", "blank")
