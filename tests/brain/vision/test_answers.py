"""The seeing skills through the whole router, as `assistant ask` and the daemon use it: the camera is an
image file (``camera.source``), the models are the real ones, and no language model is configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from assistant.app.router import build_router
from assistant.bench.ocr_pages import TEXTS, char_accuracy, render
from assistant.brain.router import Router
from assistant.brain.vision.answers import NO_CAMERA_SET_UP
from assistant.brain.vision.say import MORE, NO_VLM
from assistant.config.schema import Config
from support.paths import DATA


def _router(tmp_path: Path, source: Path | None, image: bytes | None = None, **sections: Any) -> Router:
    camera = {"source": str(source) if source else None, **sections.pop("camera", {})}
    config = Config.model_validate({"llm": {"backend": "none"}, "camera": camera,
                                    "skills": {"timers_file": str(tmp_path / "timers.json"),
                                               **sections.pop("skills", {})}})
    return build_router(config, image=image)


def test_read_this_reads_the_label_aloud(tmp_path: Path) -> None:
    label = tmp_path / "label.png"
    render(TEXTS[1], "pillow", 30).save(label)
    reply = _router(tmp_path, label).route("Can you read this?")
    assert reply.intent == "vision.read" and reply.handled_by == "skill"
    assert reply.text.startswith("It says: Best before 04/11/2025.")
    assert char_accuracy("It says: " + TEXTS[1], reply.text) >= 0.95, reply.text
    assert "ocr" in reply.slots["timings_ms"] and "faces" not in reply.slots["timings_ms"]  # only what was asked


def test_long_text_is_read_in_parts_on_request(tmp_path: Path) -> None:
    page = tmp_path / "page.png"
    text = " ".join(TEXTS[:3])
    render(text, "pillow", 22).save(page)
    router = _router(tmp_path, page, camera={"read_part_chars": 110})
    first = router.route("what does it say")
    assert first.intent == "vision.read" and first.text.endswith(MORE)
    heard = [first.text.removeprefix("It says: ").removesuffix(MORE)]
    for _ in range(10):
        reply = router.route("read on")
        assert reply.intent == "vision.more"
        heard.append(reply.text.removesuffix(MORE).removesuffix("That's the end."))
        if reply.text.endswith("That's the end."):
            break
    assert len(heard) >= 3
    assert char_accuracy(text, " ".join(heard)) >= 0.95, heard
    assert router.route("read on").intent != "vision.more"  # nothing left: not ours to answer


@pytest.mark.parametrize("photo, question, answer", [
    ("skimage_astronaut.jpg", "How many people do you see?", "I see one person."),
    ("skimage_camera.jpg", "Is anyone there?", "I see one person."),
    ("skimage_coffee.jpg", "Is anybody there?", "I don't see anyone."),
    ("skimage_chelsea.jpg", "how many people can you see", "I don't see anyone."),
])
def test_people_are_counted_in_real_photographs(tmp_path: Path, photo: str, question: str, answer: str) -> None:
    reply = _router(tmp_path, DATA / photo).route(question)
    assert (reply.intent, reply.text) == ("vision.people", answer)
    assert "ocr" not in reply.slots["timings_ms"]  # counting people does not wait for text to be read


def test_what_do_you_see_says_what_was_found_and_what_cannot_be_named(tmp_path: Path) -> None:
    reply = _router(tmp_path, DATA / "skimage_astronaut.jpg").route("What do you see?")
    assert reply.intent == "vision.describe"
    assert reply.text == f"I see one person. {NO_VLM}"
    page = _router(tmp_path, DATA / "skimage_page.png").route("what can you see")
    assert page.text == ("There are seven lines of text; it begins: Region-based segmentation. Say 'read this' to "
                         f"hear it. {NO_VLM}")


def test_a_dark_or_blank_frame_is_answered_honestly(tmp_path: Path) -> None:
    dark = tmp_path / "dark.jpg"
    Image.new("RGB", (640, 480), (3, 3, 3)).save(dark)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (640, 480), (200, 200, 200)).save(blank)
    assert _router(tmp_path, dark).route("read this").text == \
        "I can't make anything out: the picture is too dark to make anything out."
    assert _router(tmp_path, dark).route("is anyone there").text.startswith("I can't make anything out")
    assert _router(tmp_path, blank).route("what do you see").text == \
        "I can't make anything out: the picture is blank: there is nothing in it to see."


def test_no_camera_an_explicit_image_and_the_skill_turned_off(tmp_path: Path) -> None:
    assert _router(tmp_path, None).route("read this").text == NO_CAMERA_SET_UP
    image = (DATA / "skimage_astronaut.jpg").read_bytes()
    with_image = _router(tmp_path, None, image=image)
    assert with_image.route("how many people do you see").text == "I see one person."
    assert with_image.route("how many people do you see").text == NO_CAMERA_SET_UP  # the image was for one request
    off = _router(tmp_path, DATA / "skimage_astronaut.jpg", skills={"enabled": ["time", "date"]})
    assert off.route("how many people do you see").intent != "vision.people"


def test_a_look_started_from_the_speculative_transcript_answers_the_turn(tmp_path: Path) -> None:
    label = tmp_path / "label.png"
    render(TEXTS[1], "pillow", 30).save(label)
    router = _router(tmp_path, label)
    router.prefetch("Read this.")  # the speculator's transcript, while the end-of-speech hangover still runs
    early = router.route("Read this.")
    assert early.slots.get("prefetched") is True and early.text.startswith("It says: Best before 04/11/2025.")
    router.prefetch("what time is it")  # not a seeing request: nothing is started
    later = router.route("Read this.")
    assert "prefetched" not in later.slots and later.text == early.text
    router.prefetch("how many people do you see")  # looked for faces only: no use to a request for text
    assert "prefetched" not in router.route("read this").slots
