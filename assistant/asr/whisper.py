"""Speech recognition with faster-whisper (CTranslate2), int8 on the CPU by default."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from typing import Any, Protocol

import numpy as np

from assistant.asr.rescore import AcousticScorer
from assistant.config import AsrConfig
from assistant.events import Transcript, TranscriptSegment
from assistant.models import ModelNotFound, ResolvedModel, resolve_whisper

log = logging.getLogger(__name__)


class Recognizer(Protocol):
    model_name: str

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        """Transcribe 16 kHz mono int16 PCM (``vad_filter`` skips silence in long recordings)."""
        ...


@functools.cache
def _model_class() -> Any:
    """faster-whisper's model, remembering (per thread) the encoder output of the last window it decoded.

    Made on first use: importing faster-whisper (CTranslate2, PyAV) costs a second nobody running
    ``assistant config check`` should pay.
    """
    from faster_whisper import WhisperModel

    class EncoderKeepingWhisper(WhisperModel):
        _local = threading.local()

        def encode(self, features: np.ndarray) -> Any:
            encoded = super().encode(features)
            self._local.encoded = encoded
            return encoded

        def last_encoding(self) -> np.ndarray | None:
            encoded, self._local.encoded = getattr(self._local, "encoded", None), None
            return None if encoded is None else np.asarray(encoded)

    return EncoderKeepingWhisper


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
        log.info("whisper %s (%s) loaded in %.2f s, %s/%s", config.model, self.resolved.kind,
                 time.monotonic() - started, config.device, config.compute_type)

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        started = time.monotonic()
        # Whisper mishears words that start at the very first sample (measured: live-path WER 6.5% -> 5.7%
        # on the shared set with 0.3 s); a little silence in front costs nothing, times are shifted back.
        lead_s = self.config.lead_in_ms / 1000
        audio = np.frombuffer(bytes(int(lead_s * 16000) * 2) + pcm, dtype="<i2").astype(np.float32) / 32768.0
        pieces, _info = self._model.transcribe(
            audio,
            language=self.config.language,
            beam_size=self.config.beam_size,
            vad_filter=vad_filter,
            # Each utterance stands alone: conditioning on earlier text makes Whisper repeat itself.
            condition_on_previous_text=False,
            initial_prompt=initial_prompt,
        )
        segments = tuple(
            TranscriptSegment(
                start=round(max(0.0, s.start - lead_s), 3),
                end=round(max(0.0, s.end - lead_s), 3),
                text=s.text.strip(),
                no_speech_prob=float(s.no_speech_prob),
                avg_logprob=float(s.avg_logprob),
                compression_ratio=float(s.compression_ratio),
            )
            for s in pieces  # a generator: decoding happens while we iterate
        )
        text = " ".join(s.text for s in segments if s.text).strip()
        return Transcript(text=text, segments=segments, model=self.model_name,
                          asr_s=time.monotonic() - started, language=self.config.language or "",
                          scorer=self._scorer(len(audio)))

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
