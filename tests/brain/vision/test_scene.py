"""The vision stage with its real models (RapidOCR's PP-OCRv4, the bundled YuNet) on real photographs and
rendered pages: text read in order, people counted, and nothing invented on dark, blank or noise frames."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from assistant.bench.ocr_pages import CONDITIONS, TEXTS, char_accuracy, encode, render
from assistant.brain.camera import ImageError
from assistant.brain.vision.reading import running_text
from assistant.brain.vision.scene import Vision
from support.paths import DATA


@pytest.fixture(scope="module")
def vision() -> Vision:
    seeing = Vision()
    assert seeing.load() == []  # both models are installed and load
    return seeing


def _read(vision: Vision, data: bytes) -> str:
    return running_text([line.text for line in vision.look(data).lines])


@pytest.mark.parametrize("condition", [c for c in CONDITIONS if c.name in ("clean", "rotated -10°", "noise σ12",
                                                                           "photographed page")],
                         ids=lambda c: c.name)
def test_rendered_text_is_read_in_order(vision: Vision, condition: object) -> None:
    text = TEXTS[0]
    page = condition.apply(render(text, "pillow", 28))  # type: ignore[attr-defined]
    read = _read(vision, encode(page))
    assert char_accuracy(text, read) >= 0.95, read
    assert "12 March 2024" in read


PAGE_LINES = ["Region-based segmentation", "Let us first determine markers of the coins and the",
              "background. These markers are pixels that we can label",
              "unambiguously as either object or background. Here,",
              "the markers are found at the two extreme parts of the",  # the faintest line
              "histogram of grey values:"]


def test_a_real_photographed_page_is_read_line_by_line(vision: Vision) -> None:
    facts = vision.look((DATA / "skimage_page.png").read_bytes())
    lines = [line.text for line in facts.lines]
    assert len(lines) >= len(PAGE_LINES)
    for expected, read in zip(PAGE_LINES, lines, strict=False):  # the page's lines, in order, nearly letter-perfect
        assert char_accuracy(expected, read) >= 0.9, (expected, read)
    assert all(0.6 <= line.confidence <= 1.0 for line in facts.lines)
    assert facts.people == 0 and facts.quality.problem is None


@pytest.mark.parametrize("name, people", [("skimage_astronaut.jpg", 1), ("skimage_camera.jpg", 1),
                                          ("skimage_coffee.jpg", 0), ("skimage_chelsea.jpg", 0),
                                          ("skimage_rocket.jpg", 0)])
def test_people_are_counted_in_real_photographs(vision: Vision, name: str, people: int) -> None:
    facts = vision.look((DATA / name).read_bytes())
    assert facts.people == people, facts.faces
    assert all(face.confidence >= 0.7 for face in facts.faces)


def test_two_photographs_side_by_side_are_two_people(vision: Vision) -> None:
    left = Image.open(DATA / "skimage_astronaut.jpg").convert("RGB")
    right = Image.open(DATA / "skimage_camera.jpg").convert("RGB")
    both = Image.new("RGB", (left.width + right.width, max(left.height, right.height)))
    both.paste(left, (0, 0))
    both.paste(right, (left.width, 0))
    facts = vision.look(encode(both, "JPEG"))
    assert facts.people == 2
    assert facts.faces[0].box[0] < left.width <= facts.faces[1].box[0]  # one face in each photograph, left first


def _frame(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


RNG = np.random.default_rng(7)
EMPTY_FRAMES = {
    "black": (np.zeros((480, 640, 3)), "dark"),
    "dim noise": (RNG.integers(0, 30, (480, 640, 3)), "dark"),
    "grey": (np.full((480, 640, 3), 128), "blank"),
    "white": (np.full((480, 640, 3), 255), "blank"),
    "noise": (np.clip(RNG.normal(128, 60, (480, 640, 3)), 0, 255), None),
    "coarse noise": (np.kron(RNG.integers(0, 255, (60, 80, 3)), np.ones((8, 8, 1))), None),
}


@pytest.mark.parametrize("name", list(EMPTY_FRAMES))
def test_nothing_is_invented_on_dark_blank_or_noise_frames(vision: Vision, name: str) -> None:
    pixels, problem = EMPTY_FRAMES[name]
    facts = vision.look(_frame(pixels))
    assert facts.lines == [] and facts.faces == [], (facts.lines, facts.faces)
    assert facts.quality.problem == problem


def test_a_dark_frame_is_not_analysed_and_bytes_that_are_no_image_raise(vision: Vision) -> None:
    facts = vision.look(_frame(np.zeros((480, 640, 3))))
    assert "ocr" not in facts.timings_ms and facts.empty
    with pytest.raises(ImageError):
        vision.look(b"\x89PNG\r\n\x1a\n not really")
