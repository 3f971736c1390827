"""Any file handed to the WAV reader (`simulate`, `transcribe`, audio.source: wav) is either read as 16 kHz
mono int16 or refused with a one-line AudioFormatError: never another exception. Hypothesis writes the
headers and data; the reported cases are regression tests."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.audio.sources import AudioFormatError, read_wav_pcm
from support.cli import run_cli


def wav_bytes(rate: int, data: bytes, channels: int = 1, bits: int = 16, fmt_tag: int = 1,
              data_size: int | None = None) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def read(path: Path) -> bytes | None:
    try:
        pcm = read_wav_pcm(path)
    except AudioFormatError as exc:
        assert "\n" not in str(exc)
        return None
    assert len(pcm) % 2 == 0
    return pcm


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rate=st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 8000, 16000, 44100, 48000])),
       channels=st.integers(0, 8), bits=st.sampled_from([0, 8, 16, 24, 32, 7]), fmt_tag=st.sampled_from([1, 3, 0]),
       data=st.binary(max_size=4000), data_size=st.one_of(st.none(), st.integers(0, 2**32 - 1)))
def test_any_wav_header_is_read_or_refused_in_one_line(tmp_path: Path, rate: int, channels: int, bits: int,
                                                       fmt_tag: int, data: bytes, data_size: int | None) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(wav_bytes(rate, data, channels, bits, fmt_tag, data_size))
    read(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_in_one_line(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(garbage)
    read(path)


def test_a_data_chunk_that_ends_mid_sample_is_read_up_to_the_last_whole_sample(tmp_path: Path) -> None:
    path = tmp_path / "odd.wav"
    path.write_bytes(wav_bytes(16000, b"\x01\x00" * 1600 + b"\x07"))
    assert read(path) == b"\x01\x00" * 1600


@pytest.mark.parametrize("command", ["simulate", "transcribe"])
def test_a_zero_sample_rate_is_one_line_at_the_command_line(tmp_path: Path, command: str) -> None:
    path = tmp_path / "zero.wav"
    path.write_bytes(wav_bytes(0, b"\x01\x00" * 1600))
    result = run_cli(command, str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"error: {path}: 0 Hz, 1 channel(s) is not audio this reads "
                                                  "(1000-768000 Hz, 1 or more channels)"]
