"""Config sections for hearing well: listening modes (`listen:`) and hallucination guards (`guards:`).

Only pydantic here, so `config check` stays fast. The defaults were measured with tiny.en on the shared
speech set (benchmarks/wer.py, benchmarks/false_triggers.py), live path, 55 speech segments of the
primary set against every utterance of the 13 noise/music files:
  no-speech probability   speech <= 0.50          noise: up to 0.61                    -> 0.6
  average log-probability speech >= -0.74         noise: -0.99 to -1.64 (lyrics -0.59) -> -1.0
  compression ratio       speech <= 1.56          a "shoot, shoot, ..." loop 2.16      -> 2.4 (Whisper's)
  voiced seconds          speech >= 0.45 ("No.")  a beep 0.36                          -> 0.3
  Silero / webrtc voiced  speech >= 0.47          noise/music <= 0.08 (0.24 over 20 min of a song) -> 0.3
  ... up to 8 s voiced    commands in 10-15 dB noise >= 0.20 (5 dB: 0.15)                       -> 0.15
Speech *in* noise (benchmarks/noisy_wer.py): webrtcvad calls the noise around a command voiced too, so
Silero confirmed less than 0.3 of it and the whole command was dropped ("yes", "five five"): at 0.15 the 12
commands' WER at 10 dB is 0.128 (was 0.191). But 0.15 for everything lets 6 of the 60 twenty-second pieces
of a looped song through, and Whisper writes its lyrics as a plausible request; music is heard as one
long "utterance" (cut at vad.max_utterance_s), a command is short: so the lenient fraction is for short ones.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from assistant.config.base import StrictModel

# Whisper's well-known outputs on silence, noise and music (compared after normalisation).
DEFAULT_HALLUCINATIONS: tuple[str, ...] = (
    "you",
    "thank you",
    "thank you very much",
    "thank you so much",
    "thanks",
    "thanks for watching",
    "thank you for watching",
    "thank you so much for watching",
    "thanks for listening",
    "thank you for listening",
    "please subscribe",
    "like and subscribe",
    "subscribe to my channel",
    "bye",
    "bye bye",
    "so",
    "oh",
    "uh",
    "um",
    "hmm",
    "mm",
    "ah",
    "the end",
    "music",
    "applause",
    "silence",
    "blank audio",
    "subtitles by the amara org community",
)


class WakePersonaConfig(StrictModel):
    persona: str | None = Field(None, description="who the assistant is when woken by this word (replaces llm.persona)")
    conversation: str | None = Field(None, description="the conversation memory this word talks in (null: memory's)")


class WakeWordConfig(StrictModel):
    engine: Literal["micro", "openwakeword", "wyoming"] = Field(
        "micro", description="micro (pymicro-wakeword, ~0.3 % of a core), openwakeword (pyopen-wakeword) or "
        "wyoming (a Wyoming wake-word server at uri, e.g. wyoming-openwakeword)"
    )
    uri: str = Field("tcp://127.0.0.1:10400", description="wyoming: the wake-word server (tcp://host:port)")
    models: list[str] = Field(
        default_factory=lambda: ["okay_nabu"], min_length=1, max_length=8,
        description="bundled names (`assistant wake-words`) or model files: micro a .json (its .tflite beside it), "
        "openwakeword a .tflite",
    )
    threshold: float | None = Field(
        None, gt=0.0, lt=1.0, description="null: each model's own cut-off; else the probability a detection needs"
    )
    confirm_from: float | None = Field(
        0.5, gt=0.0, lt=1.0, description="a model that reaches only this probability, not its cut-off, wakes if "
        "Whisper hears the wake phrase in the word's audio (null: never)"
    )
    confirm_below: float = Field(
        0.95, gt=0.0, le=1.0, description="with confirm_from, a word the model is less sure of than this (or its "
        "cut-off, if higher) is confirmed by Whisper too: the near misses ('OK Google') end there"
    )
    refractory_s: float = Field(
        2.0, ge=0.2, le=30.0, description="after a detection, no other one for this long (one word wakes once)"
    )
    earcon_after_ms: int = Field(
        300, ge=0, le=5000, description="the 'listening' earcon (if on) plays when the user pauses this long after "
        "the wake word; said in one breath, the request is heard without it"
    )
    personas: dict[str, WakePersonaConfig] = Field(
        default_factory=dict, description="per model name: the persona and conversation that word wakes"
    )

    @model_validator(mode="after")
    def _personas_name_models(self) -> WakeWordConfig:
        names = {Path(m).stem for m in self.models}
        unknown = sorted(set(self.personas) - names)
        if unknown:
            raise ValueError(f"personas for models that are not configured: {unknown} (models: {sorted(names)})")
        return self


class ListenConfig(StrictModel):
    mode: Literal["always", "wake_word", "wake_phrase", "push_to_talk"] = Field(
        "always",
        description="always: every utterance is a request; wake_word: only after an acoustic wake word "
        "(listen.wake_word); wake_phrase: only after a wake phrase in the transcript; "
        "push_to_talk: only after a trigger",
    )
    wake_word: WakeWordConfig = Field(
        default_factory=WakeWordConfig, description="wake_word mode: the acoustic models and how they wake"
    )
    wake_phrases: list[str] = Field(
        default_factory=lambda: ["hey computer", "computer"],
        description="phrases that start a request in wake_phrase mode, matched tolerantly on the transcript",
    )
    wake_tolerance: float = Field(
        0.25, ge=0.0, le=0.5, description="edits allowed when matching a wake phrase, as a fraction of its letters"
    )
    wake_only_window_s: float = Field(
        8.0, ge=0.0, le=120.0,
        description="a wake word, or a wake phrase said alone, makes the next utterance within this a request"
    )
    follow_up_s: float = Field(
        0.0, ge=0.0, le=120.0, description="after a reply, listen without the wake phrase this long (0: off)"
    )
    push_to_talk_window_s: float = Field(
        8.0, gt=0.0, le=120.0, description="after a push-to-talk trigger, the next utterance within this is a request"
    )

    @field_validator("wake_phrases")
    @classmethod
    def _phrases_have_words(cls, value: list[str]) -> list[str]:
        empty = [phrase for phrase in value if not re.search(r"[^\W_]", phrase)]
        if empty:
            raise ValueError(f"wake phrases need at least one letter or digit: {empty!r}")
        return value


class GuardsConfig(StrictModel):
    enabled: bool = Field(True, description="drop transcripts that look like Whisper hallucinating on noise")
    max_no_speech_prob: float = Field(
        0.6, ge=0.0, le=1.0, description="drop a segment when Whisper's no-speech probability is above this"
    )
    min_avg_logprob: float = Field(
        -1.0, le=0.0, description="drop a segment whose average token log-probability is below this"
    )
    max_no_speech_prob_resampled: float = Field(
        0.5, ge=0.0, le=1.0, description="drop a segment Whisper had to resample (its greedy decode failed its own "
        "checks) when its no-speech probability is above this: resampling noise re-rolls until a guess passes"
    )
    max_compression_ratio: float = Field(
        2.4, gt=0.0, description="drop a segment whose text compresses better than this (repetition loops)"
    )
    min_voiced_s: float = Field(
        0.3, ge=0.0, le=10.0, description="drop utterances with less voiced audio than this (seconds)"
    )
    hallucinations: list[str] = Field(
        default_factory=lambda: list(DEFAULT_HALLUCINATIONS),
        description="whole transcripts that are dropped as known silence hallucinations (case/punctuation ignored)",
    )
    silero_threshold: float = Field(
        0.5, gt=0.0, lt=1.0, description="Silero speech probability a 32 ms window needs to count as speech"
    )
    silero_min_speech_s: float = Field(
        0.25, ge=0.0, le=10.0,
        description="seconds of speech Silero must find in an utterance (vad.engine silero, both)"
    )
    silero_min_fraction: float = Field(
        0.3, ge=0.0, le=1.0, description="vad.engine both: Silero must confirm this fraction of webrtc's voiced audio"
    )
    silero_min_fraction_short: float = Field(
        0.15, ge=0.0, le=1.0, description="... of an utterance with at most silero_short_s voiced (a command in "
        "noise, whose noise webrtcvad calls voiced too)"
    )
    silero_short_s: float = Field(
        8.0, ge=0.0, le=120.0,
        description="utterances with at most this many voiced seconds use silero_min_fraction_short"
    )
