"""The default brain: the bundled Gemma 3 270M GGUF in-process through llama-cpp-python, plus `llm-check`."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from assistant.brain.brain import Brain, build_brain
from assistant.brain.claims import HONEST
from assistant.brain.llm.base import ChatMessage, LlmError
from assistant.brain.llm.factory import effective_backend
from assistant.brain.llm.llamacpp import LlamaCppLLM
from assistant.cli.llm import register
from assistant.config.llm import LlmConfig, MemoryConfig
from assistant.config.schema import Config
from support.llm import cache_dir

pytestmark = pytest.mark.slow


def gemma_config(**overrides: object) -> LlmConfig:
    values: dict[str, object] = {"backend": "llamacpp", "model": "gemma3-270m", "cache_dir": str(cache_dir() / "llm"),
                                 "temperature": 0.0, "max_tokens": 24, "timeout_s": 60, "first_token_timeout_s": 60}
    return LlmConfig.model_validate(values | overrides)


@pytest.fixture(scope="module")
def gemma() -> LlamaCppLLM:
    return LlamaCppLLM(gemma_config())


def test_auto_picks_llamacpp_when_it_is_installed() -> None:
    assert effective_backend(LlmConfig()) == "llamacpp"


@pytest.mark.parametrize(
    ("question", "expected"),
    [("What is the capital of France?", "Paris"), ("What is the capital of Japan?", "Tokyo")],
)
def test_gemma_answers_real_questions(gemma: LlamaCppLLM, tmp_path: Path, question: str, expected: str) -> None:
    brain = Brain(gemma, gemma_config(), memory_config=MemoryConfig(path=str(tmp_path)), backend="llamacpp")
    spoken = list(brain.answer(question))
    assert spoken and expected in " ".join(spoken), spoken
    assert all("\n" not in s and "User:" not in s for s in spoken)
    stats = brain.last_stats
    assert stats.handled_by == "llm" and stats.completion_tokens > 0 and stats.prompt_tokens
    assert stats.ttft_ms is not None and stats.first_sentence_ms is not None


def test_each_token_comes_with_the_probability_the_model_gave_it(gemma: LlamaCppLLM, tmp_path: Path) -> None:
    completion = gemma.stream([ChatMessage("user", "What is the capital of France?")], max_tokens=12)
    text = "".join(completion)
    # every token but the last (its probability is read when the next one is chosen)
    assert len(completion.token_probs) == completion.completion_tokens - 1 >= 3
    assert text.startswith("".join(piece for piece, _ in completion.token_probs))
    assert all(0.0 < p <= 1.0 for _, p in completion.token_probs)
    brain = Brain(gemma, gemma_config(), memory_config=MemoryConfig(path=str(tmp_path)), backend="llamacpp")
    assert "Paris" in " ".join(brain.answer("What is the capital of France?"))
    confidence = brain.last_stats.confidence
    assert confidence is not None and confidence > gemma_config().min_confidence  # the word "Paris" was likely


def test_a_guess_is_not_said(gemma: LlamaCppLLM, tmp_path: Path) -> None:
    """With the bar set above how sure the model was of "Paris", its answer is withheld, not spoken."""
    brain = Brain(gemma, gemma_config(min_confidence=0.999), memory_config=MemoryConfig(path=str(tmp_path)),
                  backend="llamacpp")
    assert list(brain.answer("What is the capital of France?")) == [HONEST["unsure"]]
    assert brain.last_stats.handled_by == "unsure" and len(brain.memory) == 0


def test_the_stream_arrives_token_by_token(gemma: LlamaCppLLM) -> None:
    completion = gemma.stream([ChatMessage("user", "Name three colours of the rainbow.")], max_tokens=12)
    deltas = list(completion)
    assert len(deltas) >= 3 and "".join(deltas).strip()
    assert completion.completion_tokens <= 12 and completion.tokens_per_s


def test_a_too_short_timeout_apologises_and_frees_the_model(gemma: LlamaCppLLM, tmp_path: Path) -> None:
    hurried = gemma_config(timeout_s=0.05, first_token_timeout_s=0.05, max_tokens=64)
    brain = Brain(gemma, hurried, memory_config=MemoryConfig(path=str(tmp_path)), backend="llamacpp")
    assert list(brain.answer("Tell me about the history of Rome.")) == [hurried.timeout_apology]
    assert brain.last_stats.timed_out
    # The aborted generation lets go of the model: the next turn is answered normally.
    patient = Brain(gemma, gemma_config(), memory_config=MemoryConfig(path=str(tmp_path)), backend="llamacpp")
    assert "Paris" in " ".join(patient.answer("What is the capital of France?"))


def test_a_missing_gguf_is_a_clear_error_and_an_apology(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = Config(llm=gemma_config(model=str(tmp_path / "absent.gguf")), memory=MemoryConfig(path=str(tmp_path)))
    with pytest.raises(LlmError, match=r"absent\.gguf does not exist"):
        build_brain(config, strict=True)
    with caplog.at_level(logging.ERROR):
        brain = build_brain(config)
        assert brain is not None and list(brain.answer("Hi")) == [brain.config.apology]
    assert "could not be loaded" in caplog.text


def test_llm_check_reports_reply_model_tokens_and_ttft(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the bundled model is assembled here on demand
    (tmp_path / "xdg" / "assistant").mkdir(parents=True)
    (cache_dir() / "llm").mkdir(exist_ok=True)
    (tmp_path / "xdg" / "assistant" / "llm").symlink_to(cache_dir() / "llm")
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    parser.add_argument("-v", "--verbose", action="store_true")
    register(parser.add_subparsers())
    empty = tmp_path / "config.yaml"
    empty.write_text("{}\n")
    args = parser.parse_args(["--config", str(empty), "llm-check", "What is the capital of Italy?",
                              "--backend", "llamacpp", "--no-memory", "--json"])
    assert args.handler(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["handled_by"] == "llm" and result["backend"] == "llamacpp" and result["model"] == "smollm2-135m"
    assert "Rome" in result["reply"] and result["completion_tokens"] > 0 and result["ttft_ms"] > 0


def test_a_constrained_tool_call_is_well_formed_and_configured(gemma: LlamaCppLLM) -> None:
    import threading

    from assistant.brain.llm import prompts
    from assistant.brain.llm.base import Completion
    from assistant.brain.llm.llamacpp import tool_grammar

    tools: list[dict[str, Any]] = [
        {"name": "set_volume", "description": "Set the speaker volume.",
         "parameters": {"type": "object", "properties": {"level": {"type": "integer"}}, "required": ["level"]}},
        {"name": "lights_off", "description": "Turn the lights off."},
    ]
    messages = prompts.with_tool_instructions([ChatMessage("user", "Set the volume to 3.")], tools)
    text = "".join(gemma._generate(messages, 40, Completion("m"), threading.Event(),
                                   tool_grammar(tools, allow_speech=False)))
    call = prompts.parse_tool_json(text, {"set_volume", "lights_off"})
    assert call is not None and call.name in {"set_volume", "lights_off"}, text
    if call.name == "set_volume":
        assert isinstance(call.arguments["level"], int)
    else:
        assert call.arguments == {}
