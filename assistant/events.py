"""The small immutable messages passed between pipeline stages.

Every message carries monotonic timestamps (``time.monotonic()`` seconds) so a turn can report where
its time went. Audio positions (``start_s``/``end_s``) are seconds of *stream time*: the number of
samples captured so far divided by the sample rate, which is exact and immune to scheduling jitter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

SAMPLE_RATE = 16_000  # every frame inside the pipeline is 16 kHz mono int16
SAMPLE_WIDTH = 2


def valid_text(text: str, max_chars: int | None = None) -> str:
    """Text from an edge (a socket, a network peer, a model) made safe for every stage after it: lone UTF-16
    surrogates (which JSON can carry but UTF-8 cannot encode) become U+FFFD, NUL characters go, and the
    length is bounded."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\0", "")
    return text if max_chars is None else text[:max_chars]


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """One VAD-sized chunk of 16 kHz mono int16 PCM."""

    pcm: bytes
    start_s: float  # stream time of the first sample
    captured_at: float  # monotonic time at which the frame was read from the source

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / (SAMPLE_WIDTH * SAMPLE_RATE)

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True, slots=True)
class Utterance:
    """A stretch of speech found by the endpointer (pre-roll included)."""

    pcm: bytes
    start_s: float  # stream time where speech started (after pre-roll)
    end_s: float  # stream time where speech ended (before the hangover)
    voiced_s: float  # seconds of frames the VAD called speech
    ended_at: float  # monotonic time when the endpointer decided the utterance was over
    speech_end_at: float  # monotonic time when the frame of the user's last sound was captured
    truncated: bool = False  # cut at max_utterance_s
    wake_word: str | None = None  # the acoustic wake word (model name) this utterance was heard after

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / (SAMPLE_WIDTH * SAMPLE_RATE)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who a request was said to (the wake word that woke us, the persona and conversation it maps to) and
    who said it (the enrolled voice identified, if any)."""

    wake_word: str | None = None
    persona: str | None = None  # replaces llm.persona for this request
    conversation: str | None = None  # the conversation memory it talks in (None: memory.conversation)
    speaker: str | None = None  # the enrolled person who said it (None: unknown, or typed)


@dataclass(frozen=True, slots=True)
class TranscriptSegment:
    start: float
    end: float
    text: str
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    temperature: float = 0.0  # above 0: Whisper resampled this segment, its greedy decode having failed its checks


class SentenceScorer(Protocol):
    """How likely the recognizer finds each sentence for the audio it just transcribed."""

    def log_likelihoods(self, sentences: Sequence[str]) -> list[float]: ...

    def continuation(self, prefix: str) -> str:
        """The rest of the transcript when it is made to start with ``prefix``."""
        ...


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    segments: tuple[TranscriptSegment, ...]
    model: str
    asr_s: float  # seconds spent in the recognizer
    language: str = "en"
    # Scores other sentences against the same audio (assistant.hearing.rescore), when the recognizer can.
    scorer: SentenceScorer | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the router decided to say (and do) for one request."""

    text: str
    handled_by: str  # "skill" | "command" | "llm" | "fallback"
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    action: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Sentences still being generated (an LLM streaming its answer); ``text`` holds what is known now.
    # The pipeline speaks each sentence as it arrives; ``spoken_text()`` collects them without speaking.
    stream: Iterator[str] | None = field(default=None, compare=False, repr=False)

    def spoken_text(self) -> str:
        """The whole reply text, draining the stream if there is one (for callers that don't speak)."""
        if self.stream is None:
            return self.text
        return " ".join(part for part in [self.text, *self.stream] if part).strip()


@dataclass(slots=True)
class TurnReport:
    """Everything one turn did, with its latency breakdown (filled in as the turn progresses)."""

    speech_start: float
    speech_end: float
    transcript: str = ""
    reply: str = ""
    handled_by: str = ""
    intent: str | None = None
    dropped: str | None = None  # why the turn produced no reply, if it didn't
    error: str | None = None
    wake_word: str | None = None  # the acoustic wake word the request followed
    speaker: str | None = None  # the enrolled voice that said it (None: nobody enrolled was close enough)
    speaker_score: float | None = None  # that voice's similarity (None: no identification ran)
    end_of_turn: str | None = None  # the verdict on the pause's words (done, more, maybe, unsure; None: none)
    latency_ms: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "transcript": self.transcript,
            "reply": self.reply,
            "handled_by": self.handled_by,
            "intent": self.intent,
            "speech_start": round(self.speech_start, 3),
            "speech_end": round(self.speech_end, 3),
            "dropped": self.dropped,
            "error": self.error,
            "wake_word": self.wake_word,
            "speaker": self.speaker,
            "speaker_score": self.speaker_score,
            "end_of_turn": self.end_of_turn,
            "latency_ms": {k: round(v, 1) for k, v in self.latency_ms.items()},
        }
