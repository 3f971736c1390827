"""Checks a config needs beyond its schema: files that must exist, models that must resolve."""

from __future__ import annotations

from pathlib import Path

from assistant.brain.check import check_commands
from assistant.brain.llm.weights import BUNDLED, bundled
from assistant.config.schema import Config
from assistant.hearing.models import ModelNotFound, resolve_whisper
from assistant.speech.base import SynthesisError
from assistant.speech.piper_engine import piper_voice_files


def deep_check(config: Config, path: Path | None) -> list[str]:
    """Plain-sentence problems, each prefixed with the key it is about; empty when all is well."""
    problems: list[str] = []
    try:
        resolve_whisper(config.asr.model, config.asr.cache_dir)
    except ModelNotFound as exc:
        problems.append(f"asr.model: {exc}")
    if config.tts.engine == "piper":
        try:
            piper_voice_files(config.tts.piper_model)
        except SynthesisError as exc:
            problems.append(str(exc))  # each names its key already
    model = config.latency.sentence_end_model
    if config.latency.adaptive_end and model and bundled(model) is None and not Path(model).expanduser().is_file():
        problems.append(f"latency.sentence_end_model: {model} is neither a bundled model ({', '.join(BUNDLED)}) "
                        "nor a .gguf file")
    audio = config.audio
    if audio.source == "wav":
        if not audio.input_wav:
            problems.append("audio.input_wav: required when audio.source is 'wav'")
        elif not Path(audio.input_wav).expanduser().is_file():
            problems.append(f"audio.input_wav: {audio.input_wav} does not exist")
    if audio.sink == "wav" and not audio.output_wav:
        problems.append("audio.output_wav: required when audio.sink is 'wav'")

    satellite = config.satellite
    if satellite.esphome.enabled and satellite.brain == "home_assistant" and config.listen.mode != "wake_word":
        problems.append("satellite.brain: home_assistant starts Home Assistant's pipeline on our wake word: "
                        "set listen.mode: wake_word (or satellite.brain: local)")
    problems += check_commands(config, path)
    return problems
