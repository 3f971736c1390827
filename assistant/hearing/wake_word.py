"""Acoustic wake words: a small model on every audio frame, so Whisper only hears what was said to us.

Two engines, both with their models inside their wheels (no download at run time) and both running on
TensorFlow Lite through ctypes:

* ``micro`` (pymicro-wakeword, microWakeWord models as on ESPHome devices): ~2-5 ms of CPU per audio
  second here; each model ships a JSON file with its phrase and its own probability cut-off.
* ``openwakeword`` (pyopen-wakeword): a shared mel + embedding front end and a small head per model;
  about 30x the CPU of ``micro`` (measured: benchmarks/wake_word.py).

A ``WakeWords`` detector takes 16 kHz mono int16 PCM in any chunk size and returns a ``Detection`` when one
of its models fires. Its clock is the audio itself (samples fed), so a file gives the same detections on
every run, however fast it is read. One utterance of the wake word fires a model for several hundred ms:
after a detection every model stays quiet for ``refractory_s`` of audio.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH

log = logging.getLogger(__name__)

ENGINES = ("micro", "openwakeword")
OPENWAKEWORD_THRESHOLD = 0.5  # openWakeWord's own recommended default; its models carry none
# A candidate's probability is watched this long for its peak (micro's is a mean over ~150 ms, so it rises
# through the lower cut-off well before it reaches its highest).
CANDIDATE_S = 0.3


class WakeWordError(ValueError):
    """A wake-word model that cannot be found or loaded (a config problem, said in plain words)."""


@dataclass(frozen=True, slots=True)
class Detection:
    model: str  # the model's name (its file stem: "okay_nabu")
    phrase: str  # what is said to wake it ("Okay Nabu")
    probability: float  # the highest the model gave this word
    end_s: float  # stream time of the audio that made it fire (seconds of audio fed so far)
    sure: bool = True  # above the model's cut-off; False: a candidate between confirm_from and it


@dataclass(frozen=True, slots=True)
class WakeModelInfo:
    name: str
    phrase: str
    engine: str
    source: str  # "bundled" or the file it came from
    threshold: float  # the model's own cut-off


class WakeDetector(Protocol):
    """What the listen loop needs of a wake-word detector (ours, or a Wyoming server's)."""

    engine: str

    @property
    def models(self) -> list[WakeModelInfo]: ...

    def feed(self, pcm: bytes) -> Detection | None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


class _Head(Protocol):
    info: WakeModelInfo

    def probabilities(self, features: Any) -> Iterable[float]: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


def phrase_from_name(name: str) -> str:
    """"hey_jarvis" -> "Hey Jarvis" (openWakeWord models carry no phrase of their own)."""
    return " ".join(part.capitalize() for part in name.replace("-", "_").split("_") if part)


# ---- the micro engine (pymicro-wakeword) ---------------------------------------------------------------


def _micro_models_dir() -> Path:
    return Path(str(resources.files("pymicro_wakeword") / "models"))


def _micro_config(model: str) -> Path:
    """A bundled name's JSON file, or the JSON file given (a .tflite path: the JSON file beside it)."""
    path = Path(model).expanduser()
    if path.suffix == ".tflite":
        path = path.with_suffix(".json")
    elif path.suffix != ".json":
        bundled = _micro_models_dir() / f"{model}.json"
        if not bundled.is_file():
            raise WakeWordError(f"no bundled micro wake word {model!r}; bundled: {', '.join(bundled_names('micro'))} "
                                "(or give the path of a model's .json file)")
        return bundled
    if not path.is_file():
        raise WakeWordError(f"micro wake word model {model!r}: {path} does not exist (a microWakeWord model is a "
                            ".json file with its .tflite file beside it)")
    return path


class _MicroHead:
    def __init__(self, model: str, threshold: float | None) -> None:
        from pymicro_wakeword import MicroWakeWord

        config_path = _micro_config(model)
        try:
            description = json.loads(config_path.read_text(encoding="utf-8"))
            self._model = MicroWakeWord.from_config(config_path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WakeWordError(f"cannot load micro wake word {model!r} from {config_path}: {exc}") from None
        bundled = config_path.parent == _micro_models_dir()
        self._cutoff = float(self._model.probability_cutoff)
        self.threshold = self._cutoff if threshold is None else threshold
        self.info = WakeModelInfo(name=config_path.stem, phrase=str(description.get("wake_word") or
                                                                    phrase_from_name(config_path.stem)),
                                  engine="micro", source="bundled" if bundled else str(config_path),
                                  threshold=self._cutoff)

    def probabilities(self, features: Any) -> Iterable[float]:
        probability = self._model.process_streaming_prob(features)
        # The model runs once per `stride` feature frames and says 0.0 in between: not a probability
        if probability is None or self._model._features:
            return ()
        return (probability,)

    def reset(self) -> None:
        self._model.reset()

    def close(self) -> None:
        self._model.close()


class _MicroFeatures:
    def __init__(self) -> None:
        from pymicro_wakeword import MicroWakeWordFeatures

        self._features = MicroWakeWordFeatures()

    def __call__(self, pcm: bytes) -> Iterator[Any]:
        return iter(self._features.process_streaming(pcm))

    def reset(self) -> None:
        self._features.reset()

    def close(self) -> None:
        pass


# ---- the openWakeWord engine (pyopen-wakeword) ---------------------------------------------------------


def _oww_models_dir() -> Path:
    return Path(str(resources.files("pyopen_wakeword") / "models"))


_OWW_FRONT_END = frozenset({"melspectrogram", "embedding_model"})


class _OpenWakeWordHead:
    def __init__(self, model: str, threshold: float | None) -> None:
        from pyopen_wakeword import OpenWakeWord

        path = Path(model).expanduser()
        if path.suffix != ".tflite":
            path = _oww_models_dir() / f"{model}.tflite"
            if model in _OWW_FRONT_END or not path.is_file():
                raise WakeWordError(f"no bundled openwakeword wake word {model!r}; bundled: "
                                    f"{', '.join(bundled_names('openwakeword'))} (or give a .tflite file's path)")
        elif not path.is_file():
            raise WakeWordError(f"openwakeword model {model!r}: {path} does not exist")
        try:
            self._model = OpenWakeWord.from_model(path)
        except (OSError, ValueError) as exc:
            raise WakeWordError(f"cannot load openwakeword model {model!r}: {exc}") from None
        self.threshold = OPENWAKEWORD_THRESHOLD if threshold is None else threshold
        bundled = path.parent == _oww_models_dir()
        self.info = WakeModelInfo(name=path.stem, phrase=phrase_from_name(path.stem), engine="openwakeword",
                                  source="bundled" if bundled else str(path), threshold=OPENWAKEWORD_THRESHOLD)

    def probabilities(self, features: Any) -> Iterable[float]:
        return self._model.process_streaming(features)

    def reset(self) -> None:
        self._model.reset()

    def close(self) -> None:
        self._model.close()


class _OpenWakeWordFeatures:
    def __init__(self) -> None:
        from pyopen_wakeword import OpenWakeWordFeatures

        self._features = OpenWakeWordFeatures.from_builtin()

    def __call__(self, pcm: bytes) -> Iterator[Any]:
        return iter(self._features.process_streaming(pcm))

    def reset(self) -> None:
        self._features.reset()

    def close(self) -> None:
        self._features.close()


# ---- the detector ----------------------------------------------------------------------------------------


class WakeWords:
    """Several wake-word models of one engine on one shared feature front end."""

    def __init__(self, engine: str = "micro", models: Sequence[str] = ("okay_nabu",), *,
                 threshold: float | None = None, refractory_s: float = 2.0,
                 confirm_from: float | None = None, confirm_below: float | None = None) -> None:
        if engine not in ENGINES:
            raise WakeWordError(f"unknown wake word engine {engine!r}: use one of {', '.join(ENGINES)}")
        if not models:
            raise WakeWordError("no wake word models configured")
        try:
            self._features: _MicroFeatures | _OpenWakeWordFeatures = (
                _MicroFeatures() if engine == "micro" else _OpenWakeWordFeatures())
            self._heads: list[_MicroHead | _OpenWakeWordHead] = [
                (_MicroHead if engine == "micro" else _OpenWakeWordHead)(model, threshold) for model in models]
        except ImportError as exc:
            raise WakeWordError(f"the {engine} wake word engine is not installed ({exc.name}): "
                                "reinstall with scripts/setup.sh") from None
        names = [head.info.name for head in self._heads]
        if len(set(names)) != len(names):
            raise WakeWordError(f"a wake word model is configured twice: {names}")
        self.engine = engine
        self.refractory_s = refractory_s
        self.confirm_from = confirm_from
        self.confirm_below = confirm_below if confirm_from is not None else None
        self._samples = 0
        self._quiet_until_s = 0.0
        self._candidates: dict[str, tuple[float, float]] = {}  # model -> (since, peak) between the two cut-offs

    @property
    def models(self) -> list[WakeModelInfo]:
        return [head.info for head in self._heads]

    @property
    def audio_s(self) -> float:
        """Seconds of audio fed so far: the detector's clock."""
        return self._samples / SAMPLE_RATE

    def feed(self, pcm: bytes) -> Detection | None:
        """Feed 16 kHz mono int16 audio; the first model to fire, if one does.

        With ``confirm_from``, a model whose probability rises above it but not to its cut-off (or to
        ``confirm_below``, if that is higher) gives a candidate (``sure=False``) once its probability falls
        back or ``CANDIDATE_S`` has passed, for something slower (Whisper hearing the phrase) to confirm; a
        model that reaches the cut-off fires at once, as without it.
        """
        self._samples += len(pcm) // SAMPLE_WIDTH
        found: Detection | None = None
        for features in self._features(pcm):
            for head in self._heads:
                for probability in head.probabilities(features):
                    if found is None and self.audio_s >= self._quiet_until_s:
                        found = self._judge(head.info, head.threshold, probability)
        if found is not None:
            self._quiet_until_s = self.audio_s + self.refractory_s
            self._candidates.clear()
            log.info("wake word %r (p=%.2f%s) at %.2f s", found.model, found.probability,
                     "" if found.sure else ", to be confirmed", found.end_s)
        return found

    def _judge(self, info: WakeModelInfo, threshold: float, probability: float) -> Detection | None:
        if probability > max(threshold, self.confirm_below or 0.0):
            return Detection(info.name, info.phrase, probability, self.audio_s)
        if self.confirm_from is None:
            return None
        since, peak = self._candidates.get(info.name, (self.audio_s, 0.0))
        peak = max(peak, probability)
        if probability > self.confirm_from and self.audio_s - since < CANDIDATE_S:
            self._candidates[info.name] = (since, peak)
            return None
        if info.name not in self._candidates:
            return None
        del self._candidates[info.name]
        return Detection(info.name, info.phrase, peak, self.audio_s, sure=False)

    def reset(self) -> None:
        """Forget the audio heard so far (the clock goes on)."""
        self._features.reset()
        for head in self._heads:
            head.reset()

    def close(self) -> None:
        for head in self._heads:
            head.close()
        self._features.close()


def bundled_names(engine: str) -> list[str]:
    if engine == "micro":
        return sorted(p.stem for p in _micro_models_dir().glob("*.json"))
    return sorted(p.stem for p in _oww_models_dir().glob("*.tflite") if p.stem not in _OWW_FRONT_END)


def bundled_models() -> list[WakeModelInfo]:
    """Every bundled model of every installed engine (for `assistant wake-words`)."""
    found: list[WakeModelInfo] = []
    for engine in ENGINES:
        try:
            names = bundled_names(engine)
        except ModuleNotFoundError:
            continue
        for name in names:
            head = _MicroHead(name, None) if engine == "micro" else _OpenWakeWordHead(name, None)
            found.append(head.info)
            head.close()
    return found
