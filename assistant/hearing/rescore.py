"""Acoustic rescoring: how likely Whisper finds a given sentence for the audio it just heard.

Whisper's free transcript of a noisy command is often a near miss ("Set the memory light to 50%."). The
router knows which sentences it could act on; scoring each of them against the *same encoder output* (a
forced decode: the log-probability Whisper gives every token of the sentence) tells which one was said,
far better than spelling similarity. The encoder already ran for the transcript, so a candidate costs one
short decoder pass: a few ms each with the encoder output cut to the audio's length (the padding of
Whisper's 30 s window is silence, and computing cross-attention over it is most of the cost).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.events import SentenceScorer, Transcript

ENCODER_MARGIN = 100  # encoder positions (20 ms each) kept after the audio: the end of speech stays in view
BATCH = 8  # sentences scored per decoder call
MIN_PROB = 1e-10
CONTINUATION_TOKENS = 12  # enough for a slot value ("one hour and a half") and a little more


class AcousticScorer:
    """Scores sentences against one utterance's Whisper encoder output (from ``WhisperRecognizer``)."""

    def __init__(self, model: Any, tokenizer: Any, encoder_output: np.ndarray, content_frames: int) -> None:
        # content_frames: mel frames (10 ms) of real audio; the encoder halves the time resolution.
        positions = min(encoder_output.shape[1], content_frames // 2 + ENCODER_MARGIN)
        self._model = model  # ctranslate2.models.Whisper
        self._tokenizer = tokenizer  # faster_whisper.tokenizer.Tokenizer
        self._encoded = np.ascontiguousarray(encoder_output[:1, :positions])
        self._frames = min(content_frames, positions * 2)

    def log_likelihoods(self, sentences: Sequence[str]) -> list[float]:
        """The summed log-probability of each sentence's tokens given the audio (higher: more likely said)."""
        import ctranslate2

        scores: list[float] = []
        for start in range(0, len(sentences), BATCH):
            batch = [self._tokenizer.encode(" " + s.strip()) or [self._tokenizer.eot]
                     for s in sentences[start:start + BATCH]]
            encoded = ctranslate2.StorageView.from_array(np.repeat(self._encoded, len(batch), axis=0))
            results = self._model.align(encoded, list(self._tokenizer.sot_sequence), batch,
                                        [self._frames] * len(batch))
            scores += [sum(math.log(max(p, MIN_PROB)) for p in r.text_token_probs) for r in results]
        return scores

    def continuation(self, prefix: str) -> str:
        """What Whisper hears after ``prefix`` when made to start its transcript with it.

        The router uses it for a slot it could not read ("Set a timer for well-hired."): forced to begin
        with "Set a timer for", Whisper writes the rest again, this time expecting a duration.
        """
        import ctranslate2

        forced = self._tokenizer.encode(" " + prefix.strip())
        start = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps, *forced]
        encoded = ctranslate2.StorageView.from_array(self._encoded)
        # CTranslate2 counts the forced prefix in max_length and stops at about half of it (measured: 12 more
        # tokens after an 11-token prefix gave 3); ask for double, within Whisper's 448
        limit = min(448, 2 * (len(start) + CONTINUATION_TOKENS))
        result = self._model.generate(encoded, [start], max_length=limit, beam_size=1)
        tokens = [t for t in result[0].sequences_ids[0][len(forced):] if t < self._tokenizer.eot]
        return str(self._tokenizer.decode(tokens)).strip()


class _PrefixedScorer:
    """Scores sentences as the end of the whole utterance: the audio also holds the wake phrase."""

    def __init__(self, scorer: SentenceScorer, prefix: str) -> None:
        self._scorer, self._prefix = scorer, prefix

    def log_likelihoods(self, sentences: Sequence[str]) -> list[float]:
        return self._scorer.log_likelihoods([f"{self._prefix} {s}" for s in sentences])

    def continuation(self, prefix: str) -> str:
        return self._scorer.continuation(f"{self._prefix} {prefix}")


def scorer_for_request(transcript: Transcript, request: str) -> SentenceScorer | None:
    """The transcript's scorer for the request (the transcript minus a wake phrase), if it has one."""
    if transcript.scorer is None or request == transcript.text:
        return transcript.scorer
    before, found, _ = transcript.text.rpartition(request)
    return _PrefixedScorer(transcript.scorer, before.strip()) if found and before.strip() else None
