"""Real PortAudio devices through a private PulseAudio server: what is played in is what is captured."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.devices import DeviceError
from assistant.audio.sinks import PyAudioSink
from assistant.audio.sources import Capture, PyAudioSource
from support.vaudio import VirtualAudio
from support.wav import read_wav


def best_correlation(reference: np.ndarray, captured: np.ndarray) -> float:
    """Normalised correlation of the reference with the captured signal at the best alignment."""
    ref = reference.astype(np.float64)
    cap = captured.astype(np.float64)
    if len(cap) < len(ref):  # a short capture still counts: what is missing lowers the score
        cap = np.concatenate([cap, np.zeros(len(ref) - len(cap))])
    # align on the lag that maximises the cross-correlation (FFT), then compare sample by sample
    size = 1 << int(np.ceil(np.log2(len(cap) + len(ref))))
    xcorr = np.fft.irfft(np.fft.rfft(cap, size) * np.conj(np.fft.rfft(ref, size)), size)
    lag = int(np.argmax(xcorr[: len(cap) - len(ref) + 1]))
    window = cap[lag : lag + len(ref)]
    return float(np.dot(ref, window) / (np.linalg.norm(ref) * np.linalg.norm(window) + 1e-9))


def test_recording_played_into_virtual_mic_is_captured(vaudio: VirtualAudio, data_dir: Path) -> None:
    wav = data_dir / "whatstheweatherlike.wav"
    reference, rate = read_wav(wav)
    assert rate == 16000
    source = PyAudioSource(None, rate=16000)  # the default device is the virtual mic
    capture = Capture(source, frame_ms=30).start()
    time.sleep(0.3)
    player = vaudio.play(wav)
    player.wait(timeout=20)
    time.sleep(0.5)
    capture.stop()
    source.close()
    capture.join(5)
    frames = []
    while not capture.frames.empty():
        frame = capture.frames.get()
        if frame is not None:
            frames.append(frame.pcm)
    captured = np.frombuffer(b"".join(frames), dtype="<i2")
    assert capture.dropped == 0
    assert best_correlation(reference, captured) > 0.98


def test_input_device_by_name_and_index(vaudio: VirtualAudio) -> None:
    by_name = PyAudioSource("pulse")
    assert "pulse" in by_name.name
    by_name.close()
    with pytest.raises(DeviceError, match="no input device matches 'no-such-mic'"):
        PyAudioSource("no-such-mic")
    with pytest.raises(DeviceError, match="index 99"):
        PyAudioSource(99)


def test_sink_plays_into_virtual_speaker(vaudio: VirtualAudio, tmp_path: Path, data_dir: Path) -> None:
    reference, rate = read_wav(data_dir / "turn_on_the_living_room_lamp.wav")
    out = tmp_path / "speaker.wav"
    recorder = vaudio.record(out)
    time.sleep(1.0)  # the recorder is running before the first sample
    sink = PyAudioSink(None)
    first = sink.play(reference.tobytes(), rate)
    sink.close()
    time.sleep(1.0)  # and still running after the last
    recorder.terminate()
    recorder.wait(5)
    assert first is not None
    captured, captured_rate = read_wav(out)
    assert captured_rate == 16000
    assert best_correlation(reference, captured) > 0.95


def test_a_cut_sink_says_how_much_it_handed_to_the_device(vaudio: VirtualAudio, data_dir: Path) -> None:
    """The echo gate ends its reference where the device's audio ends, so ``stop()`` must tell: the seconds
    of the sound written so far, which is what has played plus the device's small buffer."""
    reference, rate = read_wav(data_dir / "turn_on_the_living_room_lamp.wav")
    sink = PyAudioSink(None)
    first: list[float | None] = []
    player = threading.Thread(target=lambda: first.append(sink.play(reference.tobytes(), rate)))
    try:
        started = time.monotonic()
        player.start()
        deadline = started + 20
        while sink._handed_s < 1.0 and time.monotonic() < deadline:  # playing for a while (a slow open counts not)
            time.sleep(0.01)
        cut_at = time.monotonic()
        handed_s = sink.stop()
        player.join(5)
        assert not player.is_alive() and first and first[0] is not None
        assert started <= first[0] < cut_at
        elapsed = cut_at - first[0]
        # an underrun on a loaded machine leaves the device's clock behind the wall clock: 0.15 s of slack
        assert handed_s is not None and elapsed - 0.15 <= handed_s <= elapsed + 0.5, (handed_s, elapsed)
        assert handed_s < len(reference) / rate - 1.0  # cut well before the end
        # between sounds there is no current one: the last one's figure must not be taken for the next's
        # (the echo gate is told of the next sound just before play() begins)
        assert sink.stop() is None
    finally:
        sink.close()
