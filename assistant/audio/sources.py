"""Audio sources: a PortAudio device, a WAV file, raw PCM on stdin.

Every source delivers 16 kHz mono int16 chunks from ``read()`` (``None`` at end of stream); the
conversion from whatever the device or file has happens here, once. ``Capture`` runs a source in
its own thread and cuts the stream into VAD-sized frames on a queue, so capture never waits for a
slow stage.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import sys
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

from assistant.audio.devices import PORTAUDIO_LOCK, DeviceError, close_pyaudio, find_device, open_pyaudio
from assistant.audio.resample import Resampler, to_mono
from assistant.audio.stream_clock import StreamClock
from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH, AudioFrame

log = logging.getLogger(__name__)


class AudioSource(Protocol):
    name: str

    def read(self) -> bytes | None:
        """Block until the next chunk of 16 kHz mono int16 PCM; None when the stream has ended."""
        ...

    def close(self) -> None: ...


class AudioFormatError(Exception):
    """An audio file the assistant cannot use; the message says why in one sentence."""


MIN_RATE, MAX_RATE = 1000, 768_000  # sample rates a WAV file may have (Hz)


class WavSource:
    """Reads a 16-bit PCM WAV file (any rate, any channel count), optionally paced like a live mic."""

    def __init__(self, path: str | Path, *, realtime: bool = False, chunk_ms: int = 30,
                 tail_silence_s: float = 0.0) -> None:
        self.path = Path(path)
        self.name = f"wav:{self.path}"
        try:
            self._wav = wave.open(str(self.path), "rb")  # noqa: SIM115 - closed in close()
        except FileNotFoundError:
            raise AudioFormatError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise AudioFormatError(f"{self.path}: is a directory, not a WAV file") from None
        except (wave.Error, EOFError) as exc:
            raise AudioFormatError(f"{self.path}: not a readable PCM WAV file ({exc})") from None
        if self._wav.getsampwidth() != SAMPLE_WIDTH:
            bits = self._wav.getsampwidth() * 8
            self._wav.close()
            raise AudioFormatError(f"{self.path}: {bits}-bit audio; convert it to 16-bit PCM "
                                   "(e.g. sox in.wav -b 16 out.wav)")
        self.channels = self._wav.getnchannels()
        self.rate = self._wav.getframerate()
        if not MIN_RATE <= self.rate <= MAX_RATE or self.channels < 1:
            self._wav.close()
            raise AudioFormatError(f"{self.path}: {self.rate} Hz, {self.channels} channel(s) is not audio this "
                                   f"reads ({MIN_RATE}-{MAX_RATE} Hz, 1 or more channels)")
        self._frame_bytes = SAMPLE_WIDTH * self.channels
        self.duration_s = self._wav.getnframes() / self.rate
        self._resampler = Resampler(self.rate, SAMPLE_RATE)
        self._frames_per_chunk = max(1, self.rate * chunk_ms // 1000)
        self._realtime = realtime
        self._tail = bytes(int(tail_silence_s * SAMPLE_RATE) * SAMPLE_WIDTH)
        self._tail_chunk = SAMPLE_RATE * chunk_ms // 1000 * SAMPLE_WIDTH
        self._started: float | None = None
        self._delivered_s = 0.0

    def read(self) -> bytes | None:
        try:
            raw = self._wav.readframes(self._frames_per_chunk)
        except (wave.Error, EOFError, OSError) as exc:
            raise AudioFormatError(f"{self.path}: unreadable audio data ({exc})") from None
        raw = raw[: len(raw) - len(raw) % self._frame_bytes]  # a data chunk may end mid-sample
        if raw:
            chunk = self._resampler.process(to_mono(raw, self.channels))
        elif self._tail:
            chunk, self._tail = self._tail[: self._tail_chunk], self._tail[self._tail_chunk :]
        else:
            return None
        self._pace(len(chunk) / (SAMPLE_WIDTH * SAMPLE_RATE))
        return chunk

    def _pace(self, seconds: float) -> None:
        # A live mic hands over a chunk only once it has been spoken: wait until its end.
        if not self._realtime:
            return
        now = time.monotonic()
        if self._started is None:
            self._started = now
        self._delivered_s += seconds
        delay = self._started + self._delivered_s - now
        if delay > 0:
            time.sleep(delay)

    def close(self) -> None:
        self._wav.close()


def read_wav_pcm(path: str | Path) -> bytes:
    """A whole WAV file as 16 kHz mono int16, converted as the daemon's WavSource converts it."""
    source = WavSource(path)
    try:
        chunks = []
        while (chunk := source.read()) is not None:
            chunks.append(chunk)
    finally:
        source.close()
    return b"".join(chunks)


class StdinSource:
    """Raw signed 16-bit little-endian mono PCM on standard input, at ``rate``.

    Reads the file descriptor directly with a timeout, so ``close()`` can end a read that waits on a
    silent pipe (a thread blocked inside Python's buffered stdin aborts the interpreter at exit).
    """

    def __init__(self, rate: int = SAMPLE_RATE, chunk_ms: int = 30, stream: BinaryIO | None = None) -> None:
        self.name = f"stdin:{rate}Hz"
        self._fd = (stream if stream is not None else sys.stdin.buffer).fileno()
        self._bytes_per_chunk = rate * chunk_ms // 1000 * SAMPLE_WIDTH
        self._resampler = Resampler(rate, SAMPLE_RATE)
        self._odd = b""
        self._closed = False

    def read(self) -> bytes | None:
        data = b""
        while not data:
            if self._closed:
                return None
            ready, _, _ = select.select([self._fd], [], [], 0.5)
            if not ready:
                continue
            data = os.read(self._fd, self._bytes_per_chunk)
            if not data:
                return None  # end of input
        data = self._odd + data
        cut = len(data) - len(data) % SAMPLE_WIDTH  # a pipe may split a sample in two
        data, self._odd = data[:cut], data[cut:]
        return self._resampler.process(data)

    def close(self) -> None:
        self._closed = True


class PyAudioSource:
    """A PortAudio input device, by index or name substring; opened at 16 kHz if it can, else resampled.

    PortAudio calls back from its own thread; the callback only copies data onto a queue (and counts
    input overflows), so nothing here can stall the device.
    """

    def __init__(self, device: str | int | None = None, *, rate: int = SAMPLE_RATE, buffer_ms: int = 30) -> None:
        import pyaudio

        with PORTAUDIO_LOCK:
            self._pa = open_pyaudio()
            try:
                info = find_device(self._pa, device, "input")
                self.name = f"{info['name']} (#{info['index']})"
                self.rate = self._pick_rate(info, rate)
                self._resampler = Resampler(self.rate, SAMPLE_RATE)
                self._chunks: queue.Queue[bytes | None] = queue.Queue()
                self.overflows = 0
                self._closed = False
                self._stream = self._pa.open(
                    format=pyaudio.paInt16, channels=1, rate=self.rate, input=True,
                    input_device_index=int(info["index"]),
                    frames_per_buffer=max(1, self.rate * buffer_ms // 1000), stream_callback=self._callback,
                )
            except DeviceError:
                self._pa.terminate()
                raise
            except OSError as exc:
                self._pa.terminate()
                raise DeviceError(f"cannot open input device {device!r}: {exc}") from None
        log.info("microphone: %s at %d Hz%s", self.name, self.rate,
                 "" if self.rate == SAMPLE_RATE else f" (resampled to {SAMPLE_RATE} Hz)")

    def _pick_rate(self, info: dict[str, object], wanted: int) -> int:
        import pyaudio

        for rate in (wanted, SAMPLE_RATE, int(float(str(info["defaultSampleRate"])))):
            try:
                if self._pa.is_format_supported(rate, input_device=int(str(info["index"])), input_channels=1,
                                                input_format=pyaudio.paInt16):
                    return rate
            except ValueError:
                continue
        return int(float(str(info["defaultSampleRate"])))

    def _callback(self, data: bytes | None, frames: int, time_info: object, status: int) -> tuple[None, int]:
        import pyaudio

        if status & pyaudio.paInputOverflow:
            self.overflows += 1
        if data:
            self._chunks.put(data)
        return None, pyaudio.paContinue

    # A live input delivers a buffer every few ms, silence included: this long without one means the
    # device is gone (unplugged, sound server restarted) even if PortAudio still calls the stream active.
    STALL_S = 3.0

    def read(self) -> bytes | None:
        waited = 0.0
        while True:
            try:
                data = self._chunks.get(timeout=0.5)
            except queue.Empty:
                waited += 0.5
                if self._closed or not self._stream.is_active() or waited >= self.STALL_S:
                    return None
                continue
            return None if data is None else self._resampler.process(data)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            with contextlib.suppress(OSError):
                self._stream.stop_stream()
            close_pyaudio(self._pa, self._stream)
        finally:
            self._chunks.put(None)


class Capture:
    """Reads a source in its own thread and queues fixed-size frames stamped with stream time.

    With ``reopen`` (live devices), a source that ends or fails is reopened with backoff instead of
    ending the stream: a mic unplugged or a sound server restarted comes back without a restart.
    """

    BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)

    def __init__(self, source: AudioSource, frame_ms: int = 30, queue_s: float = 120.0,
                 reopen: Callable[[], AudioSource] | None = None) -> None:
        self.source = source
        self._reopen = reopen
        self.reopened = 0
        self.frame_bytes = SAMPLE_RATE * frame_ms // 1000 * SAMPLE_WIDTH
        self.frames: queue.Queue[AudioFrame | None] = queue.Queue(maxsize=max(1, int(queue_s * 1000 / frame_ms)))
        self.dropped = 0
        self.captured = 0
        self.last_read_at = time.monotonic()  # watchdog: a stalled source stops advancing this
        self.ended = threading.Event()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)

    def start(self) -> Capture:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def switch_source(self, reopen: Callable[[], AudioSource]) -> None:
        """Move to another source (new audio settings): close this one; the thread opens the next."""
        self._reopen = reopen
        with contextlib.suppress(Exception):
            self.source.close()

    def _recover(self) -> bool:
        """Reopen a lost live source, retrying with backoff until it works or we are stopped."""
        if self._reopen is None:
            return False
        log.warning("audio input %s lost: reopening", self.source.name)
        with contextlib.suppress(Exception):
            self.source.close()
        attempt = 0
        while not self._stop.is_set():
            self._stop.wait(self.BACKOFF_S[min(attempt, len(self.BACKOFF_S) - 1)])
            if self._stop.is_set():
                return False
            self.last_read_at = time.monotonic()  # retrying is progress, not a stall
            try:
                self.source = self._reopen()
            except Exception as exc:
                attempt += 1
                log.warning("audio input still unavailable (attempt %d): %s", attempt, exc)
                continue
            self.reopened += 1
            log.info("audio input back: %s", self.source.name)
            return True
        return False

    def _run(self) -> None:
        pending = b""
        stream_samples = 0
        clock = StreamClock()
        frame_samples = self.frame_bytes // SAMPLE_WIDTH
        try:
            while not self._stop.is_set():
                try:
                    chunk = self.source.read()
                except OSError as exc:
                    log.warning("audio read failed: %s", exc)
                    chunk = None
                now = time.monotonic()
                self.last_read_at = now
                if chunk is None:
                    if not self._stop.is_set() and self._recover():
                        pending = b""
                        clock.reset()
                        continue
                    break
                pending += chunk
                # A chunk holds several frames, the earlier ones spoken before it arrived; all are dated on
                # the stream's own clock (a late wake-up of this thread must not make them look newer).
                started = clock.start_of_stream(now, (stream_samples + len(pending) // SAMPLE_WIDTH) / SAMPLE_RATE)
                while len(pending) >= self.frame_bytes:
                    pcm, pending = pending[: self.frame_bytes], pending[self.frame_bytes :]
                    ends_s = (stream_samples + frame_samples) / SAMPLE_RATE
                    frame = AudioFrame(pcm, stream_samples / SAMPLE_RATE, started + ends_s)
                    stream_samples += frame_samples
                    self._put(frame)
        except Exception as exc:  # the device vanished mid-read: report it, let the owner decide
            self.error = exc
            log.warning("audio capture from %s stopped: %s", self.source.name, exc)
        finally:
            self.ended.set()
            self.frames.put(None)

    def _put(self, frame: AudioFrame) -> None:
        try:
            self.frames.put_nowait(frame)
            self.captured += 1
        except queue.Full:
            # The consumers are minutes behind: losing this frame beats growing without bound.
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("audio queue full: %d frames dropped so far", self.dropped)
