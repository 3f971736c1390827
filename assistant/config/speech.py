"""Config models for speaking and fast turn-taking (streamed speech, earcons, barge-in, latency knobs).

The lead wires these into the root ``Config`` as ``speech_out``, ``earcons`` and ``latency``; the
barge-in knobs live in ``BargeInConfig`` (root field ``barge_in``) so ``TurnConfig`` only gains the policy.
"""

from __future__ import annotations

from pydantic import Field

from assistant.config.base import StrictModel


class SpeechOutConfig(StrictModel):
    streaming: bool = Field(True, description="synthesize the next sentence while the current one plays")
    lookahead: int = Field(2, ge=1, le=8, description="sentences synthesized ahead of playback at most")
    max_chars: int = Field(4000, ge=1, le=100_000, description="longer replies are cut here (at a word boundary)")


class EarconsConfig(StrictModel):
    listening: bool = Field(
        False, description="short rising tone when the next utterance needs no wake phrase (after a wake phrase "
        "said alone, push-to-talk, or when a follow-up window opens)"
    )
    thinking: bool = Field(False, description="soft tone when the turn is handed to recognition")
    error: bool = Field(True, description="low falling tone when a turn fails")
    volume: float = Field(0.3, ge=0.0, le=1.0, description="earcon loudness relative to full scale")


class BargeInConfig(StrictModel):
    min_speech_ms: int = Field(
        90, ge=30, le=2000, description="user speech over our own voice needed before playback is cut"
    )
    margin_db: float = Field(
        6.0, ge=0.0, le=40.0,
        description="the user's voice must be this much above what our voice leaves once its echo is removed",
    )
    max_echo_delay_ms: int = Field(
        600, ge=50, le=3000, description="longest speaker-to-mic delay searched when matching the echo"
    )
    floor_dbfs: float = Field(-50.0, ge=-90.0, le=0.0, description="residual quieter than this is never speech")


class LatencyConfig(StrictModel):
    speculative: bool = Field(True, description="start recognising while the end-of-speech hangover runs")
    speculative_after_ms: int = Field(
        30, ge=30, le=2000, description="silence after the user's last sound after which the utterance so far is "
        "transcribed"
    )
    adaptive_end: bool = Field(
        True, description="end each turn when Whisper's first guess says the user is done (a whole request or a "
        "finished sentence), and wait longer when they trail off ('set a timer for...')"
    )
    adaptive_min_ms: int = Field(
        200, ge=30, le=2000, description="trailing silence needed before a turn judged finished ends"
    )
    max_pause_ms: int = Field(
        1500, ge=100, le=10_000, description="longest pause waited out when the user trails off mid-sentence"
    )
    maybe_pause_ms: int = Field(
        900, ge=100, le=10_000, description="silence waited when the words could end but the sentence-end model finds "
        "an end unlikely ('why should one', 'the horizon')"
    )
    turn_threshold: float = Field(
        0.7, ge=0.0, le=1.0, description="Smart Turn probability above which the turn counts as complete"
    )
    turn_model: bool = Field(
        False, description="also ask the Smart Turn v3.2 model (slow on 2 cores; a whole command needs no model)"
    )
    sentence_end_model: str = Field(
        "smollm2-135m", description="language model that tells a finished phrase from one going on, for the end of "
        "turn (a bundled model's name or a .gguf path; '': none)",
    )
    quick_window_s: float = Field(
        10.0, ge=0.0, le=29.0,
        description="adaptive end first tries Whisper on max(utterance + 1 s, this) of audio, not 30 s; 0: off",
    )
