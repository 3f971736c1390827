"""Grounding: what the camera sees (read by the real OCR model from a real frame) reaches a text-only model's
prompt, a vision-language model gets the frame and the facts, and a dark frame is answered honestly without
asking the model at all.

The model is a recorder implementing the LLM protocol: the thing under test is what the brain puts in its
prompt. The camera is an image file (the FileCamera the config's ``camera.source`` makes of a path).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from assistant.bench.ocr_pages import render
from assistant.brain.brain import CANNOT_SEE, Brain
from assistant.brain.camera import FileCamera
from assistant.brain.llm.base import LLM, ChatMessage, Completion
from assistant.brain.vision.scene import Vision
from assistant.config.llm import CameraConfig, LlmConfig, MemoryConfig

LETTER = "Dear Ms Rivera, thank you for your letter of 12 March 2024. Your appointment is on Friday at 10:30."


class Recorder:
    """Answers one fixed sentence and keeps every prompt and image it was given."""

    supports_native_tools = False

    def __init__(self, images: bool = False) -> None:
        self.name = "recorder"
        self.supports_images = images
        self.calls: list[tuple[list[ChatMessage], bytes | None]] = []

    def stream(self, messages: list[ChatMessage], *, image: bytes | None = None, max_tokens: int,
               tools: list[dict[str, Any]] | None = None) -> Completion:
        self.calls.append((messages, image))
        completion = Completion(self.name)

        def run() -> Iterator[str]:
            yield "The letter is dated 12 March 2024."

        return completion.attach(run())

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def vision() -> Vision:
    return Vision()


def _brain(llm: Recorder, tmp_path: Path, frame: Path, vision: Vision | None, **camera: object) -> Brain:
    assert isinstance(llm, LLM)
    config = CameraConfig.model_validate({"source": str(frame), **camera})
    return Brain(llm, LlmConfig(), config, MemoryConfig(path=str(tmp_path / "memory")), camera=FileCamera(frame),
                 vision=vision)


@pytest.fixture()
def letter(tmp_path: Path) -> Path:
    path = tmp_path / "letter.png"
    render(LETTER, "dejavu-serif" if Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf").is_file()
           else "pillow", 24).save(path)
    return path


def test_the_letter_read_from_the_frame_reaches_a_text_only_models_prompt(
        tmp_path: Path, letter: Path, vision: Vision) -> None:
    llm = Recorder()
    brain = _brain(llm, tmp_path, letter, vision)
    assert list(brain.answer("What's the date on this letter?")) == ["The letter is dated 12 March 2024."]
    (messages, image), = llm.calls
    asked = messages[-1]
    assert asked.role == "user" and image is None
    assert "12 March 2024" in asked.content and "Friday at 10:30" in asked.content
    assert asked.content.rstrip().endswith("What's the date on this letter?")
    assert "No faces are visible." in asked.content
    assert brain.last_stats.vision_ms is not None and not brain.last_stats.image
    # the facts are for this turn only: memory keeps the question as it was asked
    assert "12 March 2024" not in " ".join(m.content for m in brain.memory.messages() if m.role == "user")


def test_a_question_not_about_seeing_gets_no_frame_and_no_facts(tmp_path: Path, letter: Path, vision: Vision) -> None:
    llm = Recorder()
    list(_brain(llm, tmp_path, letter, vision).answer("What is the capital of France?"))
    (messages, image), = llm.calls
    assert messages[-1].content == "What is the capital of France?" and image is None


def test_a_vision_language_model_gets_the_frame_and_the_facts(tmp_path: Path, letter: Path, vision: Vision) -> None:
    llm = Recorder(images=True)
    list(_brain(llm, tmp_path, letter, vision).answer("What does this letter say?"))
    (messages, image), = llm.calls
    assert image is not None and image[:2] == b"\xff\xd8"  # the JPEG of the frame
    assert "12 March 2024" in messages[-1].content


def test_a_dark_frame_is_answered_honestly_without_asking_the_model(tmp_path: Path, vision: Vision) -> None:
    dark = tmp_path / "dark.png"
    Image.new("RGB", (640, 480), (6, 6, 8)).save(dark)
    llm = Recorder()
    brain = _brain(llm, tmp_path, dark, vision)
    assert list(brain.answer("What am I holding?")) == ["I can't make anything out: the picture is too dark to make "
                                                        "anything out."]
    assert llm.calls == [] and brain.last_stats.handled_by == "apology"


def test_without_the_vision_stage_a_text_only_model_still_says_it_cannot_see(tmp_path: Path, letter: Path) -> None:
    llm = Recorder()
    assert list(_brain(llm, tmp_path, letter, None).answer("What does this say?")) == [CANNOT_SEE]
    assert llm.calls == []
