"""Finding PortAudio devices by index or name, and opening PortAudio quietly.

PortAudio's ALSA back end prints pages of warnings on stderr while it probes cards that don't
exist; they bury the one line a user needs, so initialisation runs with stderr pointed at
/dev/null (debug logging shows them again).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pyaudio

log = logging.getLogger(__name__)

Direction = Literal["input", "output"]


# PortAudio's lifecycle calls are not thread-safe: its initialisation count is a plain int, Pa_Terminate closes
# every stream still open when that count reaches zero, and device probing walks shared ALSA state. The capture
# thread reopens a lost microphone while the speaking thread opens and closes the sink (a race that crashed the
# process in Pa_OpenStream), so initialising, terminating, device queries and opening or closing a stream all
# hold this lock. Reading and writing an open stream do not.
PORTAUDIO_LOCK = threading.RLock()


class DeviceError(Exception):
    """No usable audio device matches; the message lists what exists."""


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def open_pyaudio() -> pyaudio.PyAudio:
    import pyaudio

    with PORTAUDIO_LOCK, _quiet_stderr():
        return pyaudio.PyAudio()


def close_pyaudio(pa: pyaudio.PyAudio, *streams: pyaudio.Stream | None) -> None:
    """Close ``streams`` (errors of a vanished device are ignored) and terminate this PortAudio handle."""
    with PORTAUDIO_LOCK:
        try:
            for stream in streams:
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        finally:
            pa.terminate()


def list_devices(pa: pyaudio.PyAudio) -> list[dict[str, Any]]:
    devices = []
    for index in range(pa.get_device_count()):
        info = dict(pa.get_device_info_by_index(index))
        devices.append({
            "index": index,
            "name": str(info["name"]),
            "inputs": int(info["maxInputChannels"]),
            "outputs": int(info["maxOutputChannels"]),
            "default_rate": int(float(info["defaultSampleRate"])),
        })
    return devices


def find_device(pa: pyaudio.PyAudio, spec: str | int | None, direction: Direction) -> dict[str, Any]:
    """Resolve a device spec: None -> the default, an int (or digits) -> that index, text -> name substring."""
    key = "maxInputChannels" if direction == "input" else "maxOutputChannels"
    if spec is None or spec == "":
        try:
            with _quiet_stderr():
                if direction == "input":
                    info = pa.get_default_input_device_info()
                else:
                    info = pa.get_default_output_device_info()
        except OSError:
            raise DeviceError(f"no default {direction} device (is a sound card or PulseAudio available?); "
                              "`assistant devices` lists what exists") from None
        return dict(info)
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        index = int(spec)
        if not 0 <= index < pa.get_device_count():
            raise DeviceError(f"no audio device with index {index}; `assistant devices` lists what exists")
        info = dict(pa.get_device_info_by_index(index))
        if int(info[key]) < 1:
            raise DeviceError(f"device #{index} ({info['name']}) has no {direction} channels")
        return info
    wanted = spec.lower()
    candidates = [dict(pa.get_device_info_by_index(i)) for i in range(pa.get_device_count())]
    usable = [d for d in candidates if int(d[key]) > 0]
    exact = [d for d in usable if str(d["name"]).lower() == wanted]
    matches = exact or [d for d in usable if wanted in str(d["name"]).lower()]
    if not matches:
        names = ", ".join(f"#{d['index']} {d['name']}" for d in usable) or "none"
        raise DeviceError(f"no {direction} device matches {spec!r}; {direction} devices: {names}")
    return matches[0]
