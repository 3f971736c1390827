"""Rendered test pages for the OCR benchmark and tests: known text drawn in a given font and size on a 640x480
"camera frame", then degraded (rotation, blur, noise, a photographed page's perspective and uneven light).

Fonts: Pillow's own scalable default (Aileron, inside the Pillow wheel, so always there) and the DejaVu
faces where the system has them. Character accuracy is 1 - (edit distance / reference length) over the
text with its whitespace collapsed, the usual character error rate turned round.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageFont

FRAME = (640, 480)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"dejavu-sans": "DejaVuSans.ttf", "dejavu-serif": "DejaVuSerif.ttf", "dejavu-mono": "DejaVuSansMono.ttf"}

TEXTS = [
    "Dear Ms Rivera, thank you for your letter of 12 March 2024. Your appointment is on Friday at 10:30.",
    "Best before 04/11/2025. Keep refrigerated below 5 C. Contains milk and wheat.",
    "Take two tablets every four hours. Do not exceed eight tablets in 24 hours.",
    "Platform 3: the 17:45 service to Leeds is delayed by about 20 minutes.",
    "Meeting moved to Room 204. Please bring the signed forms and your badge.",
    "Total due: 48.90 EUR. Payment by bank transfer within 14 days of the invoice date.",
]


def font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """``pillow`` (always there) or one of FONT_FILES; raises FileNotFoundError for a missing system font."""
    from PIL import ImageFont

    if name == "pillow":
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(DEJAVU / FONT_FILES[name]), size)


def available_fonts() -> list[str]:
    return ["pillow", *(name for name, file in FONT_FILES.items() if (DEJAVU / file).is_file())]


def render(text: str, font_name: str = "pillow", size: int = 28, frame: tuple[int, int] = FRAME) -> Image.Image:
    """Dark text wrapped to the frame's width on an off-white page, as an RGB image. The margins keep every
    word inside the frame when the page is turned by up to 10°."""
    from PIL import Image, ImageDraw

    face = font(font_name, size)
    image = Image.new("RGB", frame, (236, 232, 224))
    draw = ImageDraw.Draw(image)
    margin = 72
    chars = max(8, int((frame[0] - 2 * margin) / (draw.textlength("abcdefghij", font=face) / 10)))
    y = 96
    for line in textwrap.wrap(text, chars):
        draw.text((margin, y), line, fill=(30, 30, 36), font=face)
        y += round(size * 1.45)
    return image


def encode(image: Image.Image, fmt: str = "PNG", quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format=fmt, quality=quality)
    return out.getvalue()


# --- degradations: each takes and returns an RGB PIL image; deterministic (seeded) ------------------------

def rotate(degrees: float) -> Callable[[Image.Image], Image.Image]:
    def apply(image: Image.Image) -> Image.Image:
        from PIL import Image

        return image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=(236, 232, 224))
    return apply


def blur(radius: float) -> Callable[[Image.Image], Image.Image]:
    def apply(image: Image.Image) -> Image.Image:
        from PIL import ImageFilter

        return image.filter(ImageFilter.GaussianBlur(radius))
    return apply


def noise(sigma: float, seed: int = 0) -> Callable[[Image.Image], Image.Image]:
    def apply(image: Image.Image) -> Image.Image:
        import numpy as np
        from PIL import Image

        pixels = np.asarray(image, dtype=np.float32)
        noisy = pixels + np.random.default_rng(seed).normal(0.0, sigma, pixels.shape)
        return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    return apply


def photographed(seed: int = 0) -> Callable[[Image.Image], Image.Image]:
    """A page photographed at an angle: perspective, a light falling off to one corner, sensor noise, JPEG."""
    def apply(image: Image.Image) -> Image.Image:
        import cv2
        import numpy as np
        from PIL import Image

        rgb = np.asarray(image, dtype=np.uint8)
        h, w = rgb.shape[:2]
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
        dst = np.array([[w * 0.06, h * 0.04], [w * 0.95, 0], [w * 0.99, h * 0.97], [0, h * 0.92]], dtype=np.float32)
        warped = cv2.warpPerspective(rgb, cv2.getPerspectiveTransform(src, dst), (w, h),
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=(90, 80, 70))
        yy, xx = np.mgrid[0:h, 0:w]
        light = 1.0 - 0.45 * ((xx / w) * 0.6 + (yy / h) * 0.4)
        shaded = warped.astype(np.float32) * light[:, :, None]
        shaded += np.random.default_rng(seed).normal(0.0, 6.0, shaded.shape)
        out = io.BytesIO()
        Image.fromarray(np.clip(shaded, 0, 255).astype(np.uint8)).save(out, format="JPEG", quality=70)
        return Image.open(io.BytesIO(out.getvalue())).convert("RGB")
    return apply


@dataclass(frozen=True)
class Condition:
    name: str
    steps: tuple[Callable[[Image.Image], Image.Image], ...]

    def apply(self, image: Image.Image) -> Image.Image:
        for step in self.steps:
            image = step(image)
        return image


CONDITIONS = [
    Condition("clean", ()),
    Condition("rotated 5°", (rotate(5),)),
    Condition("rotated -10°", (rotate(-10),)),
    Condition("blur 1 px", (blur(1.0),)),
    Condition("noise σ12", (noise(12),)),
    Condition("rotated 5° + blur + noise", (rotate(5), blur(0.8), noise(10))),
    Condition("photographed page", (photographed(),)),
]


def char_accuracy(reference: str, read: str) -> float:
    """1 - edit distance / len(reference), whitespace collapsed; 0 at worst."""
    ref, hyp = " ".join(reference.split()), " ".join(read.split())
    if not ref:
        return 1.0 if not hyp else 0.0
    previous = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        current = [i]
        for j, b in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return max(0.0, 1.0 - previous[-1] / len(ref))
