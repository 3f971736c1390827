"""Resemblyzer's speaker encoder on torch: a voice in, a 256-number voiceprint out.

The network is Resemblyzer's VoiceEncoder (a 3-layer LSTM over 40 mel channels, hidden size 256, then
Linear(256, 256) and ReLU, L2-normalised), loaded from the ``pretrained.pt`` that ships inside the
``resemblyzer`` wheel (Apache-2.0; trained on LibriSpeech, VoxCeleb 1 and 2). The package itself is never
imported: its ``__init__`` needs librosa, which the ``speakers`` extra does not install; the front end is
ours (:mod:`assistant.hearing.speakers.frontend`). torch is imported here only, when an encoder is made.

An utterance's embedding is the normalised mean of its partials' embeddings, as Resemblyzer's
``embed_utterance``; two voices compare by cosine similarity (a dot product of unit vectors).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from assistant.hearing.models import ModelNotFound
from assistant.hearing.speakers.frontend import Floats, partials, preprocess

EMBEDDING_SIZE = 256
MIN_VOICED_S = 0.3  # less voiced audio than this says nothing about who spoke


def weights_path() -> Path:
    """Where the ``resemblyzer`` package keeps its encoder weights, found without importing it."""
    spec = importlib.util.find_spec("resemblyzer")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / "pretrained.pt"
        if path.is_file():
            return path
    raise ModelNotFound("the speaker encoder's weights were not found: install the 'speakers' extra and the "
                        "resemblyzer wheel from requirements-nodeps.lock (scripts/setup.sh does both)")


class SpeakerEncoder:
    """Embeds utterances; thread-safe (one at a time). Loading takes ~0.3 s; an embedding ~10-40 ms."""

    def __init__(self, weights: Path | None = None) -> None:
        try:
            import torch
        except ImportError:
            raise ModelNotFound("speaker identification needs torch: install the 'speakers' extra") from None
        self._torch = torch
        path = weights or weights_path()
        checkpoint = torch.load(str(path), map_location="cpu", weights_only=True)
        state: dict[str, Any] = checkpoint["model_state"]
        self._lstm = torch.nn.LSTM(40, 256, 3, batch_first=True)
        self._linear = torch.nn.Linear(256, EMBEDDING_SIZE)
        self._lstm.load_state_dict({k.removeprefix("lstm."): v for k, v in state.items() if k.startswith("lstm.")})
        self._linear.load_state_dict({k.removeprefix("linear."): v for k, v in state.items()
                                      if k.startswith("linear.")})
        self._lstm.eval()
        self._linear.eval()
        self._lock = threading.Lock()
        self._threads = threading.local()

    def _one_core_here(self) -> None:
        """Run this thread's torch work on one core. Two threads cost three times the CPU for the same
        answer (measured: 146 vs 62 ms for one partial), and Whisper is busy on the other core then.
        torch.set_num_threads is process-wide, so the process default is put back from a helper thread:
        OpenMP's and MKL's thread counts are per thread, and this thread keeps its 1."""
        if getattr(self._threads, "single", False):
            return
        torch = self._torch
        before = torch.get_num_threads()  # initialises this thread's count first, so it stays ours
        torch.set_num_threads(1)
        helper = threading.Thread(target=torch.set_num_threads, args=(before,), name="torch-threads")
        helper.start()
        helper.join()
        self._threads.single = True

    def embed_partials(self, mels: Floats) -> Floats:
        """Unit-length embeddings of a batch of partials, shape (n, 160, 40) -> (n, 256)."""
        torch = self._torch
        self._one_core_here()
        with self._lock, torch.inference_mode():
            _, (hidden, _) = self._lstm(torch.from_numpy(np.ascontiguousarray(mels, dtype=np.float32)))
            raw = torch.relu(self._linear(hidden[-1]))
            out = raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-12)
            result: Floats = out.numpy().astype(np.float32)
        return result

    def embed_wav(self, wav: Floats, max_partials: int | None = None) -> Floats:
        """The embedding of a preprocessed waveform (see frontend.preprocess); a long one is heard through
        ``max_partials`` evenly spaced partials (the CPU a turn may take is bounded)."""
        mels = partials(wav)
        if max_partials is not None and len(mels) > max_partials:
            mels = mels[np.linspace(0, len(mels) - 1, max_partials).round().astype(int)]
        mean = self.embed_partials(mels).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        embedding: Floats = (mean / norm if norm > 0 else mean).astype(np.float32)
        return embedding

    def embed(self, pcm: bytes, max_partials: int | None = None) -> Floats | None:
        """The embedding of 16 kHz mono int16 speech; None when it holds too little voice to tell."""
        wav = preprocess(pcm)
        if len(wav) < MIN_VOICED_S * 16000:
            return None
        return self.embed_wav(wav, max_partials)


_shared: SpeakerEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> SpeakerEncoder:
    """One encoder per process, loaded on first use: a reload builds new stages around the same weights."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SpeakerEncoder()
        return _shared
