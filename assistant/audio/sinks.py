"""Audio sinks: a PortAudio output device, a WAV file, or nowhere.

``play()`` blocks until the audio is handed over (or ``stop()`` is called from another thread, which
cuts playback at the next small block), and returns the monotonic time the first sample was written,
so each turn can report end-of-speech -> first reply sample. A caller that cancels from another thread
also passes its own ``cancelled`` event: a ``stop()`` that lands just before ``play()`` begins is
forgotten by it (each play starts unstopped), the caller's event is not.
"""

from __future__ import annotations

import logging
import threading
import time
import wave
from pathlib import Path
from typing import Protocol

from assistant.audio.devices import PORTAUDIO_LOCK, DeviceError, close_pyaudio, find_device, open_pyaudio
from assistant.audio.resample import Resampler
from assistant.events import SAMPLE_WIDTH

log = logging.getLogger(__name__)

BLOCK_MS = 20  # write granularity: also the worst-case delay of stop()
# PortAudio's own buffer: at 20 ms the ALSA-pulse path underran constantly and sometimes lost most of a
# reply (1 in 3 plays on the virtual server); 40 ms plus a padded tail delivered every play in tests.
BUFFER_MS = 40


class AudioSink(Protocol):
    name: str
    audible: bool  # True when the sound goes into a room, where the mic can hear it back

    def play(self, pcm: bytes, rate: int, cancelled: threading.Event | None = None) -> float | None:
        """Play int16 mono PCM at ``rate``; return when done (or stopped, or ``cancelled`` is set) with the
        first-sample time (None: nothing was played)."""
        ...

    def stop(self) -> float | None:
        """Cut the current playback short (safe from any thread); return how many seconds of the current
        sound the device was handed (it plays those), or None when that is not known."""
        ...

    def close(self) -> None: ...


class NullSink:
    """Discards audio. With ``realtime`` it takes as long as playing would, so turn-taking stays honest."""

    def __init__(self, realtime: bool = False) -> None:
        self.name = "null"
        self.audible = False
        self._realtime = realtime
        self._stopped = threading.Event()
        self._first: float | None = None

    def play(self, pcm: bytes, rate: int, cancelled: threading.Event | None = None) -> float | None:
        self._stopped.clear()
        if cancelled is not None and cancelled.is_set():
            return None
        first = self._first = time.monotonic()
        if self._realtime:
            ends = first + len(pcm) / (SAMPLE_WIDTH * rate)
            while not self._stopped.is_set() and not (cancelled is not None and cancelled.is_set()):
                left = ends - time.monotonic()
                if left <= 0:
                    break
                self._stopped.wait(min(left, BLOCK_MS / 1000))
        return first

    def stop(self) -> float | None:
        self._stopped.set()
        return time.monotonic() - self._first if self._realtime and self._first is not None else None

    def close(self) -> None:
        pass


class WavSink:
    """Appends everything played to one WAV file at a fixed rate (replies resampled to it)."""

    def __init__(self, path: str | Path, rate: int = 22050) -> None:
        self.path = Path(path)
        self.name = f"wav:{self.path}"
        self.audible = False
        self.rate = rate
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise DeviceError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._wav.setnchannels(1)
        self._wav.setsampwidth(SAMPLE_WIDTH)
        self._wav.setframerate(rate)
        self._lock = threading.Lock()

    def play(self, pcm: bytes, rate: int, cancelled: threading.Event | None = None) -> float | None:
        if cancelled is not None and cancelled.is_set():
            return None
        data = Resampler(rate, self.rate).process(pcm)
        with self._lock:
            first = time.monotonic()
            self._wav.writeframes(data)
        return first

    def stop(self) -> float | None:
        return None  # writes are immediate; there is nothing to cut

    def close(self) -> None:
        with self._lock:
            self._wav.close()


class PyAudioSink:
    """A PortAudio output device by index or name substring, written in small blocks so it can be cut."""

    def __init__(self, device: str | int | None = None) -> None:
        with PORTAUDIO_LOCK:
            self._pa = open_pyaudio()
            try:
                self._info = find_device(self._pa, device, "output")
            except DeviceError:
                self._pa.terminate()
                raise
        self.name = f"{self._info['name']} (#{self._info['index']})"
        self.audible = True
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stream = None
        self._stream_rate = 0
        self._handed_s = 0.0  # of the sound playing now, the seconds written to the device so far
        self._playing = False

    def _open(self, rate: int) -> int:
        """(Re)open the stream at ``rate`` if the device takes it, else at its default rate."""
        import pyaudio

        with PORTAUDIO_LOCK:
            try:
                supported = self._pa.is_format_supported(rate, output_device=int(self._info["index"]),
                                                         output_channels=1, output_format=pyaudio.paInt16)
            except ValueError:
                supported = False
            device_rate = rate if supported else int(float(self._info["defaultSampleRate"]))
            if self._stream is None or self._stream_rate != device_rate:
                if self._stream is not None:
                    self._stream.close()
                try:
                    self._stream = self._pa.open(format=pyaudio.paInt16, channels=1, rate=device_rate, output=True,
                                                 output_device_index=int(self._info["index"]),
                                                 frames_per_buffer=device_rate * BUFFER_MS // 1000)
                except OSError as exc:
                    self._stream = None
                    raise DeviceError(f"cannot open output device {self.name}: {exc}") from None
                self._stream_rate = device_rate
        return device_rate

    def play(self, pcm: bytes, rate: int, cancelled: threading.Event | None = None) -> float | None:
        stopped = self._stop.is_set if cancelled is None else (lambda: self._stop.is_set() or cancelled.is_set())
        with self._lock:
            self._stop.clear()
            device_rate = self._open(rate)
            data = Resampler(rate, device_rate).process(pcm)
            block = device_rate * BLOCK_MS // 1000 * SAMPLE_WIDTH
            first: float | None = None
            assert self._stream is not None
            if self._stream.is_stopped():
                self._stream.start_stream()
            self._handed_s, self._playing = 0.0, True
            try:
                for offset in range(0, len(data), block):
                    if stopped():
                        break
                    if first is None:
                        first = time.monotonic()
                    # counted before the write: a stop() during this (blocking) write still plays the block
                    self._handed_s = min(offset + block, len(data)) / (SAMPLE_WIDTH * device_rate)
                    self._stream.write(data[offset : offset + block])
                if not stopped():
                    # Push the tail through the sound server's prebuffer: without this a short sound (an
                    # earcon) could be dropped whole when the stream stops right after it.
                    self._stream.write(bytes(device_rate * (BUFFER_MS + 50) // 1000 * SAMPLE_WIDTH))
                # Stopping drains what is queued (so "done playing" is true for half-duplex timing) and
                # leaves the device idle between replies instead of streaming underruns.
                self._stream.stop_stream()
            finally:
                self._playing = False
            return first

    def stop(self) -> float | None:
        self._stop.set()
        # between sounds nothing of "the current one" is known: the caller may have announced the next sound
        # (the echo gate's reference) before play() began, and the last sound's figure would be taken for it
        return self._handed_s if self._playing else None

    def close(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
            close_pyaudio(self._pa, stream)
