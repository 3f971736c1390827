"""The transformers backend with real models: Gemma 3 270M (text, converted once from the bundled GGUF) and a
tiny random-weight SmolVLM built on the fly (vision: the real AutoProcessor/AutoModelForImageTextToText code)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from assistant.brain.brain import BAD_IMAGE, NO_CAMERA, Brain, build_brain
from assistant.brain.camera import FileCamera, OpenCvCamera
from assistant.brain.llm.base import ChatMessage, LlmError
from assistant.brain.llm.hf import TransformersLLM
from assistant.config.llm import CameraConfig, LlmConfig, MemoryConfig
from support.llm import cache_dir, png_bytes, tiny_vlm_folder
from support.paths import DATA

FRAME = DATA / "camera_red_cup.jpg"

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def vlm_config(**overrides: object) -> LlmConfig:
    values: dict[str, object] = {"backend": "transformers", "model": str(tiny_vlm_folder()), "temperature": 0.0,
                                 "max_tokens": 6, "timeout_s": 60, "first_token_timeout_s": 60}
    return LlmConfig.model_validate(values | overrides)


@pytest.fixture(scope="module")
def vlm() -> TransformersLLM:
    return TransformersLLM(vlm_config())


@pytest.fixture(scope="session")
def gemma() -> TransformersLLM:
    config = LlmConfig(backend="transformers", model="gemma3-270m", cache_dir=str(cache_dir() / "llm"),
                       temperature=0.0, max_tokens=12, timeout_s=300, first_token_timeout_s=300)
    return TransformersLLM(config)


def brain(llm: TransformersLLM, tmp_path: Path, camera: object = None, **camera_config: object) -> Brain:
    return Brain(llm, llm._config, CameraConfig.model_validate(camera_config), MemoryConfig(path=str(tmp_path)),
                 camera=camera, backend="transformers")  # type: ignore[arg-type]


def test_gemma_answers_a_real_question_coherently(gemma: TransformersLLM, tmp_path: Path) -> None:
    assert gemma.prompt_style == "completion" and not gemma.supports_images
    b = brain(gemma, tmp_path)
    reply = list(b.answer("What is the capital of France?"))
    assert reply and "Paris" in " ".join(reply), reply
    stats = b.last_stats
    assert stats.handled_by == "llm" and stats.error is None
    assert stats.completion_tokens > 0 and stats.prompt_tokens and stats.ttft_ms is not None
    # The exchange is remembered for the next turn.
    assert next(m.content for m in b.memory.messages()) == "What is the capital of France?"
    # and the model was sure of "Paris", by its own token probabilities
    assert stats.confidence is not None and stats.confidence > gemma._config.min_confidence


def test_each_token_comes_with_the_probability_the_model_gave_it(gemma: TransformersLLM) -> None:
    completion = gemma.stream([ChatMessage("user", "What is the capital of Japan?")], max_tokens=8)
    text = "".join(completion)
    assert len(completion.token_probs) >= 3 and all(0.0 < p <= 1.0 for _, p in completion.token_probs)
    assert "".join(piece for piece, _ in completion.token_probs).strip() in text


def test_the_image_reaches_the_vision_model(vlm: TransformersLLM) -> None:
    assert vlm.supports_images and vlm.prompt_style == "chat"
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "What do you see?")]
    text_only = vlm.prepare_inputs(messages)
    red = vlm.prepare_inputs(messages, png_bytes((220, 20, 20)))
    striped = vlm.prepare_inputs(messages, png_bytes((20, 20, 220), stripe=True))
    assert "pixel_values" not in text_only and "pixel_values" in red
    image_token = vlm.processor.image_token_id
    assert int((red["input_ids"] == image_token).sum()) > 0
    assert red["input_ids"].shape[-1] > text_only["input_ids"].shape[-1]
    with torch.no_grad():
        logits_red = vlm.model(**red).logits[0, -1]
        logits_striped = vlm.model(**striped).logits[0, -1]
    assert not torch.allclose(logits_red, logits_striped), "different images must change what the model predicts"


def test_a_camera_frame_goes_with_a_question_about_seeing(vlm: TransformersLLM, tmp_path: Path) -> None:
    b = brain(vlm, tmp_path, camera=FileCamera(FRAME), attach="on_request")
    assert list(b.answer("Tell me a joke"))
    without = b.last_stats
    assert not without.image and without.capture_ms is None
    spoken = list(b.answer("What am I holding?"))
    with_image = b.last_stats
    assert spoken and with_image.image and with_image.capture_ms is not None
    assert with_image.prompt_tokens and without.prompt_tokens
    assert with_image.completion_tokens > 0


def test_a_corrupt_image_gets_an_apology_and_the_next_turn_works(
    vlm: TransformersLLM, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    b = brain(vlm, tmp_path)
    with caplog.at_level(logging.ERROR):
        assert list(b.answer("What is this?", image=b"\x89PNG\r\n\x1a\n broken")) == [BAD_IMAGE]
    assert "unusable" in caplog.text and b.last_stats.handled_by == "apology"
    assert list(b.answer("What is this?", image=FRAME.read_bytes()))
    assert b.last_stats.image


def test_a_missing_camera_apologises_when_asked_and_degrades_otherwise(
    vlm: TransformersLLM, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = OpenCvCamera(57, warmup_frames=0, timeout_s=5.0, jpeg_quality=80)
    asked = brain(vlm, tmp_path, camera=missing, attach="on_request")
    with caplog.at_level(logging.WARNING):
        assert list(asked.answer("What am I holding?")) == [NO_CAMERA]
    assert "camera 57" in caplog.text
    always = brain(vlm, tmp_path, camera=missing, attach="always")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        spoken = list(always.answer("Tell me a story"))
    assert spoken and not always.last_stats.image and "answering without a picture" in caplog.text


@pytest.mark.parametrize("remove", ["model.safetensors", "config.json"])
def test_a_model_folder_missing_files_is_a_clear_error_and_an_apology(
    remove: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_vlm_folder(), broken)
    (broken / remove).unlink()
    config = SimpleNamespace(llm=vlm_config(model=str(broken)), camera=CameraConfig(),
                             memory=MemoryConfig(path=str(tmp_path)))
    with pytest.raises(LlmError, match="no weights" if remove.startswith("model") else "missing config.json"):
        build_brain(config, strict=True)
    with caplog.at_level(logging.ERROR):
        b = build_brain(config)
        assert b is not None
        assert list(b.answer("Hello?")) == [b.config.apology]
    assert "could not be loaded" in caplog.text and "LLM turn failed" in caplog.text
