"""Bad input of every kind: one clear line on stderr, a non-zero exit, never a traceback."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from assistant.config.schema import EX_CONFIG
from support.cli import run_cli
from support.vaudio import VirtualAudio


def assert_one_clear_line(result, code: int | None = None, contains: str = "") -> None:  # type: ignore[no-untyped-def]
    assert result.returncode != 0
    if code is not None:
        assert result.returncode == code
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) >= 1 and contains in lines[-1], result.stderr
    assert len([line for line in lines if line.startswith("error:")]) == 1 or code == EX_CONFIG


def test_missing_wav(tmp_path: Path) -> None:
    result = run_cli("transcribe", str(tmp_path / "nope.wav"))
    assert_one_clear_line(result, 1, "no such file")


def test_corrupt_wav(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk" * 3)
    assert_one_clear_line(run_cli("transcribe", str(bad)), 1, "not a readable PCM WAV file")
    text = tmp_path / "text.wav"
    text.write_text("hello")
    assert_one_clear_line(run_cli("simulate", str(text)), 1, "not a readable PCM WAV file")


def test_non_16_bit_wav(tmp_path: Path) -> None:
    path = tmp_path / "u8.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(bytes(8000))
    assert_one_clear_line(run_cli("transcribe", str(path)), 1, "8-bit audio; convert it to 16-bit PCM")
    assert_one_clear_line(run_cli("segments", str(path), "--json"), 1, "8-bit audio")


def test_model_path_that_does_not_exist(data_dir: Path, tmp_path: Path) -> None:
    result = run_cli("transcribe", str(data_dir / "whatstheweatherlike.wav"), "--model", str(tmp_path / "no-model"))
    assert_one_clear_line(result, 1, "does not exist")


def test_invalid_config_for_run(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("vad:\n  aggressiveness: 7\n")
    result = run_cli("--config", str(bad), "run")
    assert_one_clear_line(result, EX_CONFIG, "vad.aggressiveness: must be <= 3")
    result = run_cli("--config", str(tmp_path / "missing.yaml"), "run")
    assert_one_clear_line(result, EX_CONFIG, "file not found")


@pytest.mark.usefixtures("vaudio")
def test_nonexistent_device_name(tmp_path: Path, vaudio: VirtualAudio) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("audio:\n  input_device: 'USB Mic That Is Not There'\n")
    result = run_cli("--config", str(config), "run", env=vaudio.env, timeout=120)
    assert_one_clear_line(result, 1, "no input device matches 'USB Mic That Is Not There'")
    result = run_cli("say", "hello", env={**vaudio.env, "ASSISTANT_CONFIG": str(config)}, timeout=60)
    assert result.returncode == 0, result.stderr  # output device is the default: still fine
    config.write_text("audio:\n  output_device: 42\n")
    result = run_cli("--config", str(config), "say", "hello", env=vaudio.env, timeout=60)
    assert_one_clear_line(result, 1, "no audio device with index 42")
