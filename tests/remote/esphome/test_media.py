"""What Home Assistant's URLs serve, decoded to the PCM our sink plays: WAV (any channel count), FLAC and
MP3 through PyAV; URLs that are not http(s), missing files and non-audio are a MediaError, not a crash."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from assistant.remote.esphome import media
from support.esphome import serving
from support.wav import read_wav, write_wav


def encoded(samples: np.ndarray, rate: int, codec: str, container: str) -> bytes:
    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as target:
        stream = target.add_stream(codec, rate=rate, layout="mono")  # type: ignore[call-overload]
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    return out.getvalue()


@pytest.fixture(scope="module")
def reply(data_dir: Path) -> np.ndarray:
    return read_wav(data_dir / "capital_of_italy_piper.wav")[0]


def test_wav_and_flac_decode_to_the_same_samples(reply: np.ndarray, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "r.wav", reply).read_bytes()
    assert media.decode(wav) == (reply.tobytes(), 16000)
    assert media.decode(encoded(reply, 16000, "flac", "flac")) == (reply.tobytes(), 16000)  # lossless


def test_stereo_wav_is_mixed_down(reply: np.ndarray, tmp_path: Path) -> None:
    stereo = np.stack([reply, reply], axis=1).reshape(-1)
    pcm, rate = media.decode(write_wav(tmp_path / "s.wav", stereo, rate=22050, channels=2).read_bytes())
    assert rate == 22050 and pcm == reply.tobytes()


def test_mp3_decodes_to_about_as_long(reply: np.ndarray) -> None:
    pcm, rate = media.decode(encoded(reply, 16000, "mp3", "mp3"))
    assert rate == 16000
    assert abs(len(pcm) // 2 - len(reply)) < 0.1 * 16000  # the codec's padding, no more


def test_bad_urls_and_bad_audio(tmp_path: Path) -> None:
    with pytest.raises(media.MediaError, match="not an http"):
        media.load("file:///etc/passwd")
    with serving({"/noise.bin": b"\x01\x02" * 1000}) as web:
        with pytest.raises(media.MediaError):
            media.load(web.url + "/missing.wav")
        with pytest.raises(media.MediaError):
            media.load(web.url + "/noise.bin")
