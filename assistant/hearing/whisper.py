"""Speech recognition with faster-whisper (CTranslate2), int8 on the CPU by default."""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant import native_logs
from assistant.config.schema import AsrConfig
from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH, Transcript, TranscriptSegment
from assistant.hearing.models import ModelNotFound, ResolvedModel, resolve_whisper
from assistant.hearing.rescore import AcousticScorer

log = logging.getLogger(__name__)


class Recognizer(Protocol):
    model_name: str

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        """Transcribe 16 kHz mono int16 PCM (``vad_filter`` skips silence in long recordings)."""
        ...


@runtime_checkable
class BoundedRecognizer(Protocol):
    def transcribe_bounded(self, pcm: bytes, *, initial_prompt: str | None = None) -> Transcript | None:
        """A transcription that cannot stall (one greedy pass, no temperature fallback, tokens capped by the
        audio's length), or None when it looks like a loop and only a full transcription will do."""
        ...


@runtime_checkable
class QuickRecognizer(Protocol):
    def transcribe_quick(self, pcm: bytes, window_s: float = 10.0, *,
                         keep_doubtful: bool = False) -> Transcript | None:
        """A fast first guess for a short utterance, or None when only a full transcription will do
        (``keep_doubtful``: a guess too doubtful to be the transcript is returned too; see ``is_doubtful``)."""
        ...


@functools.cache
def _model_class() -> Any:
    """faster-whisper's model, remembering (per thread) the encoder output of the last window it decoded.

    Made on first use: importing faster-whisper (CTranslate2, PyAV) costs a second nobody running
    ``assistant config check`` should pay.
    """
    from faster_whisper import WhisperModel

    native_logs.quiet_ctranslate2()
    native_logs.quiet_onnxruntime()  # faster-whisper's Silero VAD

    class EncoderKeepingWhisper(WhisperModel):  # type: ignore[misc]  # faster-whisper ships no types
        _local = threading.local()

        def encode(self, features: np.ndarray) -> Any:
            window = getattr(self._local, "window", None)  # mel frames to encode (None: Whisper's 3000)
            if window is not None:
                features = features[..., :window]  # what follows the audio there is padding anyway
            encoded = super().encode(features)
            self._local.encoded = encoded
            return encoded

        def encoding_window(self, frames: int | None) -> None:
            """Encode only the first ``frames`` mel frames of each window on this thread (None: all)."""
            self._local.window = frames

        def last_encoding(self) -> np.ndarray | None:
            encoded, self._local.encoded = getattr(self._local, "encoded", None), None
            return None if encoded is None else np.asarray(encoded)

    return EncoderKeepingWhisper


MEL_FRAMES_PER_S = 100
WHISPER_WINDOW_FRAMES = 3000  # Whisper's fixed 30 s window
DOUBTFUL_LOGPROB = -0.8  # the hallucination guards drop below -1.0 (hearing_schema.GuardsConfig) ...
DOUBTFUL_NO_SPEECH = 0.45  # ... and above 0.6


def short_window(samples: int, window_s: float) -> int | None:
    """Mel frames to encode for ``samples`` of 16 kHz audio: the audio plus 1 s, at least ``window_s``
    (an even number: the encoder halves it); None when that is Whisper's whole window anyway."""
    frames = max(samples * MEL_FRAMES_PER_S // SAMPLE_RATE + MEL_FRAMES_PER_S, round(window_s * MEL_FRAMES_PER_S))
    frames += frames % 2
    return frames if frames < WHISPER_WINDOW_FRAMES else None


def token_budget(speech_s: float) -> int:
    """More tokens than anyone says in ``speech_s`` (4 per second and 10 more): reaching it means a loop."""
    return int(4 * speech_s) + 10


def is_doubtful(segments: Iterable[Any]) -> bool:
    """Too unsure to stand as a short window's transcript: Whisper is less sure of itself on a short window
    ("Yes." -0.90 -> -1.20), and the hallucination guards were calibrated on the full one."""
    return any(s.avg_logprob < DOUBTFUL_LOGPROB or s.no_speech_prob > DOUBTFUL_NO_SPEECH for s in segments)


def needs_full_window(decoded: tuple[str, list[Any]], budget: int) -> bool:
    """Whether a short-window transcript must be redone on the full window: nothing written, a doubtful
    one, or Whisper's loop."""
    text, segments = decoded
    return not text or is_doubtful(segments) or looks_like_a_loop(decoded, budget)


def looks_like_a_loop(decoded: tuple[str, list[Any]], budget: int) -> bool:
    """Whisper's loop: the whole token budget used, text that compresses too well, words said again
    ("10 of clubs 10 of clubs")."""
    text, segments = decoded
    if sum(len(s.tokens) for s in segments) >= budget or any(s.compression_ratio > 2.4 for s in segments):
        return True
    words = re.findall(r"[\w']+", text.lower())
    for n in range(1, 5):
        for i in range(len(words) - 2 * n + 1):
            chunk = words[i : i + n]
            if chunk == words[i + n : i + 2 * n] and (n >= 2 or chunk == words[i + 2 * n : i + 3 * n]):
                return True  # X X for phrases of 2+ words, X X X for single words ("no no no")
    return False


def looks_unsure(segments: Sequence[Any], below_logprob: float) -> bool:
    """Whether a pass that wrote something deserves a second opinion: a segment whose average token
    log-probability is below ``below_logprob``. A pass that wrote nothing (noise, mostly) is left alone, or
    every noise burst in a loud room would cost a second, slower pass."""
    return any(s.text.strip() for s in segments) and any(s.avg_logprob < below_logprob for s in segments)


class WhisperRecognizer:
    def __init__(self, config: AsrConfig) -> None:
        self.config = config
        self.resolved: ResolvedModel = resolve_whisper(config.model, config.cache_dir)
        self.model_name = config.model
        started = time.monotonic()
        try:
            self._model = _model_class()(
                self.resolved.location,
                device=config.device,
                compute_type=config.compute_type,
                # CTranslate2's own default is 4 threads, which oversubscribes a 2-core box (measured:
                # 0.61 s -> 0.43 s per command with 2); use the cores we may actually run on.
                cpu_threads=config.cpu_threads or len(os.sched_getaffinity(0)),
                local_files_only=self.resolved.is_local,
            )
        except ModelNotFound:
            raise
        except Exception as exc:  # CTranslate2/hub errors are long and technical: keep the gist
            hint = ("" if self.resolved.is_local else
                    " It is not bundled and could not be downloaded (offline?): use tiny.en or a local folder.")
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelNotFound(f"cannot load Whisper model {config.model!r}: {first_line}.{hint}") from None
        self._tokenizer: Any = None
        self._timestamp_begin: int | None = None  # the first timestamp token's id, read on first use
        # The second opinion (asr.second_pass_model), loaded now: the first unsure utterance must not wait
        # for a model to load. Measured on benchmarks/noisy_wer.py: base greedy on tiny.en's passes below
        # -0.8 ran on 11 % of clean and 8 % of noisy utterances, and took WER at 10 dB SNR 0.074 -> 0.062.
        self._second: WhisperRecognizer | None = None
        if config.second_pass_model:
            self._second = WhisperRecognizer(config.model_copy(
                update={"model": config.second_pass_model, "second_pass_model": None}))
        log.info("whisper %s (%s) loaded in %.2f s, %s/%s", config.model, self.resolved.kind,
                 time.monotonic() - started, config.device, config.compute_type)

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        started = time.monotonic()
        audio = self._with_lead_in(pcm)
        decoded = self._decode(audio, initial_prompt=initial_prompt, vad_filter=vad_filter)
        first = self._transcript(decoded, started, len(audio))
        if self._second is not None and looks_unsure(decoded[1], self.config.second_pass_below_logprob):
            log.debug("%s sounds unsure of %r: %s transcribes again", self.model_name, first.text[:80],
                      self._second.model_name)
            again = self._second.transcribe(pcm, vad_filter=vad_filter, initial_prompt=initial_prompt)
            return replace(again, asr_s=time.monotonic() - started)
        return first

    def transcribe_quick(self, pcm: bytes, window_s: float = 10.0, *,
                         keep_doubtful: bool = False) -> Transcript | None:
        """A fast first guess for a short utterance, or None when only the full window will do.

        Whisper's encoder always reads a 30 s window (0.3-0.45 s on 2 cores for a 2 s command); here it
        reads max(audio + 1 s, ``window_s``) (measured: 0.05 s; the whole call 0.09 s). tiny.en then
        sometimes loops or hesitates on short audio, and an initial prompt makes it loop far more, so this
        is greedy, unprompted and capped, and a doubtful result is refused (``needs_full_window``) unless
        ``keep_doubtful`` (the end of turn may still read "7..." in it; nothing written or a loop is refused
        always)."""
        started = time.monotonic()
        audio = self._with_lead_in(pcm)
        window = short_window(len(audio), window_s)
        if window is None:
            return None
        budget = token_budget(len(pcm) / (SAMPLE_WIDTH * SAMPLE_RATE))
        # decoded once, greedy and capped: if it loops, the full window decides, not a hotter sample of the
        # same encoding
        decoded = self._decode(audio, window=window, temperature=0.0, max_new_tokens=budget, without_timestamps=True)
        text, segments = decoded  # what needs_full_window refuses, a doubtful guess kept when asked for
        if not text or looks_like_a_loop(decoded, budget) or (is_doubtful(segments) and not keep_doubtful):
            log.debug("short encoder window gave %r: the full window decides", text[:80])
            return None
        return self._transcript(decoded, started, len(audio))

    def transcribe_bounded(self, pcm: bytes, *, initial_prompt: str | None = None) -> Transcript | None:
        """For speculative recognition, which must never hold the cores while the user may still be talking
        or waiting: one greedy pass over the full window, capped at ``token_budget`` (measured: a speculative
        pass that looped through the temperature fallback on 0.48 s of "what's the weather like" held both
        cores for 1.3-1.6 s). A pass that looks like a loop gives None: the turn transcribes the utterance
        itself, with the fallback."""
        started = time.monotonic()
        audio = self._with_lead_in(pcm)
        # faster-whisper's max_new_tokens also counts the timestamp decoding's steps: measured on "8 of
        # spades, 4 of clubs, 7 of hearts" (3.5 s), a cap of 24 wrote 12 tokens, 30 all 15; so twice the budget
        budget = token_budget(len(pcm) / (SAMPLE_WIDTH * SAMPLE_RATE))
        decoded = self._decode(audio, initial_prompt=initial_prompt, temperature=0.0, beam_size=1,
                               max_new_tokens=2 * budget)
        if looks_like_a_loop(decoded, budget) or self._cut_short(decoded):
            log.debug("speculative pass gave %r: the turn transcribes again", decoded[0][:80])
            return None
        if self._second is not None and looks_unsure(decoded[1], self.config.second_pass_below_logprob):
            # the daemon's turns mostly take the speculative transcript: the second opinion belongs here too
            again = self._second.transcribe_bounded(pcm, initial_prompt=initial_prompt)
            return None if again is None else replace(again, asr_s=time.monotonic() - started)
        return self._transcript(decoded, started, len(audio))

    def word_times(self, pcm: bytes) -> list[tuple[str, float, float]]:
        """Each word heard in ``pcm`` with its start and end in seconds (benchmarks cut recordings between
        words with it)."""
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        pieces, _info = self._model.transcribe(audio, language=self.config.language, beam_size=1,
                                               condition_on_previous_text=False, word_timestamps=True)
        return [(w.word.strip(), float(w.start), float(w.end)) for s in pieces for w in s.words or ()]

    def _cut_short(self, decoded: tuple[str, list[Any]]) -> bool:
        """Whether decoding stopped at the cap rather than at the end of what was said: a segment Whisper
        ends itself ends on a timestamp token (ids after <|notimestamps|>), a capped one on a word."""
        segments = decoded[1]
        if not segments or not segments[-1].tokens:
            return False
        if self._timestamp_begin is None:
            self._timestamp_begin = int(self._model.hf_tokenizer.token_to_id("<|notimestamps|>")) + 1
        return int(segments[-1].tokens[-1]) < self._timestamp_begin

    def _with_lead_in(self, pcm: bytes) -> np.ndarray:
        # Whisper mishears words that start at the very first sample (measured: live-path WER 6.5% -> 5.7%
        # on the shared set with 0.3 s); a little silence in front costs nothing, times are shifted back.
        lead = int(self.config.lead_in_ms / 1000 * SAMPLE_RATE) * SAMPLE_WIDTH
        return np.frombuffer(bytes(lead) + pcm, dtype="<i2").astype(np.float32) / 32768.0

    def _decode(self, audio: np.ndarray, *, initial_prompt: str | None = None, vad_filter: bool = False,
                window: int | None = None, **options: Any) -> tuple[str, list[Any]]:
        """``options`` override faster-whisper's (the quick and bounded passes: greedy, capped)."""
        options = {"beam_size": self.config.beam_size, **options}
        self._model.encoding_window(window)
        try:
            pieces, _info = self._model.transcribe(
                audio,
                language=self.config.language,
                vad_filter=vad_filter,
                # Each utterance stands alone: conditioning on earlier text makes Whisper repeat itself.
                condition_on_previous_text=False,
                initial_prompt=initial_prompt,
                **options,
            )
            segments = list(pieces)  # a generator: decoding happens while we iterate
        finally:
            self._model.encoding_window(None)
        return " ".join(s.text.strip() for s in segments if s.text.strip()), segments

    def _transcript(self, decoded: tuple[str, list[Any]], started: float, samples: int) -> Transcript:
        text, pieces = decoded
        lead_s = self.config.lead_in_ms / 1000
        segments = tuple(
            TranscriptSegment(
                start=round(max(0.0, s.start - lead_s), 3),
                end=round(max(0.0, s.end - lead_s), 3),
                text=s.text.strip(),
                no_speech_prob=float(s.no_speech_prob),
                avg_logprob=float(s.avg_logprob),
                compression_ratio=float(s.compression_ratio),
                temperature=float(s.temperature or 0.0),
            )
            for s in pieces
        )
        return Transcript(text=text, segments=segments, model=self.model_name,
                          asr_s=time.monotonic() - started, language=self.config.language or "",
                          scorer=self._scorer(samples))

    def _scorer(self, samples: int) -> AcousticScorer | None:
        """Rescoring for a one-window utterance (commands are short; dictation needs none)."""
        encoded = self._model.last_encoding()
        if encoded is None or samples > self._model.feature_extractor.n_samples:
            return None
        if self._tokenizer is None:
            from faster_whisper.tokenizer import Tokenizer

            self._tokenizer = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual,
                                        task="transcribe", language=self.config.language or "en")
        frames = samples // self._model.feature_extractor.hop_length
        return AcousticScorer(self._model.model, self._tokenizer, encoded, frames)
