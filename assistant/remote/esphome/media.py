"""Fetch a URL Home Assistant gives (a TTS reply, an announcement, media) and decode it to mono int16 PCM:
WAV with the standard library, anything else (flac, mp3, ogg) with PyAV. Runs off the event loop."""

from __future__ import annotations

import io
import urllib.request
import wave

import numpy as np

MAX_BYTES = 50 * 1024 * 1024  # a reply or an announcement is far smaller
TIMEOUT_S = 15.0


class MediaError(Exception):
    """A URL that could not be fetched or decoded."""


def fetch(url: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise MediaError(f"not an http(s) URL: {url[:80]!r}")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            data: bytes = response.read(MAX_BYTES + 1)
    except OSError as exc:
        raise MediaError(f"fetching {url}: {exc}") from None
    if len(data) > MAX_BYTES:
        raise MediaError(f"{url} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return data


def decode(data: bytes) -> tuple[bytes, int]:
    """(mono int16 PCM, its rate)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            return _decode_wav(data)
        except (wave.Error, EOFError, ValueError):
            pass  # a WAV the wave module cannot read (float samples, say): PyAV can
    return _decode_av(data)


def _decode_wav(data: bytes) -> tuple[bytes, int]:
    with wave.open(io.BytesIO(data)) as wav:
        if wav.getsampwidth() != 2:
            raise ValueError("not 16-bit")
        channels, rate = wav.getnchannels(), wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    return np.asarray(samples, dtype="<i2").tobytes(), rate


def _decode_av(data: bytes) -> tuple[bytes, int]:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.audio[0]
            rate = stream.rate or 16000
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            parts: list[bytes] = []
            for frame in container.decode(stream):
                parts.extend(bytes(out.to_ndarray().tobytes()) for out in resampler.resample(frame))
            parts.extend(bytes(out.to_ndarray().tobytes()) for out in resampler.resample(None))
    except (av.FFmpegError, IndexError, ValueError) as exc:
        raise MediaError(f"cannot decode the audio: {exc}") from None
    return b"".join(parts), rate


def load(url: str) -> tuple[bytes, int]:
    return decode(fetch(url))
