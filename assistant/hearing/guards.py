"""Guards against Whisper hallucinating on noise, music and silence.

Whisper always writes *something*: on a fan, a song or a door it produces "Thank you.", "you" or lyrics.
Each guard looks at what the recognizer already measured (per-segment no-speech probability, average
log-probability, compression ratio) and at the utterance (voiced seconds). Bad segments are removed
one by one, so a real request followed by a burst of noise keeps its words; if nothing is left, the
whole transcript is dropped with the first reason found.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

from assistant.config.hearing import GuardsConfig
from assistant.events import Transcript, TranscriptSegment, Utterance

# Whisper marks sounds it does not take for speech as [Music], (upbeat music), *sighs* or ♪ lyrics ♪.
_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|♪[^♪]*♪?|♫[^♫]*♫?")


def plain(text: str) -> str:
    """Lower-case words only: accents, punctuation and extra spaces removed (for list lookups)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9']+", " ", letters).replace("'", "").split())


@dataclass(frozen=True, slots=True)
class Verdict:
    text: str  # what survived the guards ("" when everything was dropped)
    reason: str | None  # why the transcript was dropped, or None when it passed
    removed: tuple[str, ...] = ()  # why individual segments were removed (logged even when text survives)


PROMPT_ECHO_WORDS = 4  # two neighbouring prompt terms this long together are not something a person says


def prompt_runs(prompt: str | None) -> tuple[str, ...]:
    """Neighbouring pairs of the initial prompt's terms, as plain words ("lock the screen lock my session")."""
    terms = [plain(t) for t in (prompt or "").rstrip(".").split(", ")]
    pairs = (f"{a} {b}" for a, b in itertools.pairwise(terms) if a and b)
    return tuple(p for p in pairs if len(p.split()) >= PROMPT_ECHO_WORDS)


class Guards:
    def __init__(self, config: GuardsConfig, prompt: str | None = None) -> None:
        self.config = config
        self._hallucinations = {plain(h) for h in config.hallucinations if plain(h)}
        # Whisper sometimes recites its initial prompt instead of transcribing (short or noisy audio); with
        # command phrases in the prompt that would *be* a command ("lock the screen, lock my session").
        self._prompt_runs = prompt_runs(prompt)

    def segment_problem(self, segment: TranscriptSegment) -> str | None:
        c = self.config
        if segment.no_speech_prob > c.max_no_speech_prob:
            return f"no-speech probability {segment.no_speech_prob:.2f} > {c.max_no_speech_prob}"
        if segment.avg_logprob < c.min_avg_logprob:
            return f"average log-probability {segment.avg_logprob:.2f} < {c.min_avg_logprob}"
        if segment.temperature > 0 and segment.no_speech_prob > c.max_no_speech_prob_resampled:
            return (f"resampled at temperature {segment.temperature:g} with no-speech probability "
                    f"{segment.no_speech_prob:.2f} > {c.max_no_speech_prob_resampled}")
        if segment.compression_ratio > c.max_compression_ratio:
            return f"compression ratio {segment.compression_ratio:.2f} > {c.max_compression_ratio}"
        return None

    def check(self, transcript: Transcript, utterance: Utterance | None = None) -> Verdict:
        """Apply every guard; the verdict's text is the transcript without its bad segments."""
        text = transcript.text.strip()
        if not self.config.enabled:
            return Verdict(text, None if text else "empty transcript")
        if utterance is not None and utterance.voiced_s < self.config.min_voiced_s:
            return Verdict("", f"only {utterance.voiced_s:.2f} s voiced < {self.config.min_voiced_s} s")
        removed: list[str] = []
        kept: list[str] = []
        for segment in transcript.segments:
            problem = self.segment_problem(segment)
            if problem is None:
                kept.append(segment.text)
            else:
                removed.append(f"{segment.text!r}: {problem}")
        if transcript.segments:
            text = " ".join(t for t in kept if t).strip()
        if not text:
            reason = removed[0] if removed else "empty transcript"
            return Verdict("", reason, tuple(removed))
        words = _ANNOTATION.sub(" ", text)
        if not plain(words):
            return Verdict("", f"{text!r} is a sound annotation, not speech", tuple(removed))
        if "♪" in text or "♫" in text:
            return Verdict("", f"{text!r} is sung (music)", tuple(removed))
        if plain(words) in self._hallucinations:
            return Verdict("", f"{text!r} is a known silence hallucination", tuple(removed))
        padded = f" {plain(words)} "
        if any(f" {run} " in padded for run in self._prompt_runs):
            return Verdict("", f"{text!r} recites the initial prompt", tuple(removed))
        return Verdict(" ".join(words.split()), None, tuple(removed))
