"""A private PulseAudio server with a virtual microphone and a virtual speaker, for tests.

    vmic_in  null sink the test plays speech into (``play``)
    vmic     the source the assistant records: a remap of vmic_in.monitor (default source)
    vspk     null sink the assistant plays into (default sink); the test records vspk.monitor

Null sinks render in 2 s blocks while no client asks for low latency, so a fresh recorder can wait up
to 2 s for data; two permanent 100 ms loopbacks into a discard sink keep both sinks ticking.
The server runs in its own session (setsid) and is stopped by PID.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

_PA_SCRIPT = """\
.fail
load-module module-native-protocol-unix auth-anonymous=1 socket={socket}
load-module module-null-sink sink_name=vspk rate=22050 channels=1 sink_properties=device.description=VirtualSpeaker
load-module module-null-sink sink_name=vmic_in rate=16000 channels=1 sink_properties=device.description=VirtualMicFeed
load-module module-remap-source source_name=vmic master=vmic_in.monitor channels=1 \
source_properties=device.description=VirtualMic
load-module module-null-sink sink_name=vdiscard rate=16000 channels=1 sink_properties=device.description=Discard
load-module module-loopback source=vmic_in.monitor sink=vdiscard latency_msec=100 source_dont_move=true \
sink_dont_move=true
load-module module-loopback source=vspk.monitor sink=vdiscard latency_msec=100 source_dont_move=true \
sink_dont_move=true
set-default-sink vspk
set-default-source vmic
"""


class VirtualAudio:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="vaudio-"))
        self.socket = self.root / "native"
        self.server = f"unix:{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """Environment for a client process (the assistant, paplay, parec)."""
        env = dict(os.environ)
        env["PULSE_SERVER"] = self.server
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return env

    def start(self, timeout: float = 15.0) -> VirtualAudio:
        for name in ("run", "home"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "run", 0o700)
        script = self.root / "vaudio.pa"
        script.write_text(_PA_SCRIPT.format(socket=self.socket))
        env = dict(os.environ, XDG_RUNTIME_DIR=str(self.root / "run"), HOME=str(self.root / "home"))
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.pop("PULSE_SERVER", None)
        log = open(self.root / "pulse.log", "wb")  # noqa: SIM115 - owned by the server process
        self.process = subprocess.Popen(
            ["pulseaudio", "-n", "-F", str(script), "--daemonize=no", "--exit-idle-time=-1",
             "--disallow-exit", "--use-pid-file=no", "--log-target=stderr", "--log-level=notice"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pulseaudio exited: {(self.root / 'pulse.log').read_text()}")
            if self._pactl("info").returncode == 0:
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("pulseaudio did not answer in time")
        self._wait_low_latency(deadline)
        return self

    def _pactl(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, timeout=10)

    def _wait_low_latency(self, deadline: float) -> None:
        # A fresh recorder should get data within ~300 ms once the keepers have woken the sinks.
        while time.monotonic() < deadline:
            started = time.monotonic()
            proc = subprocess.Popen(["parec", "-d", "vmic", "--latency-msec=20", "--raw"], env=self.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            assert proc.stdout is not None
            proc.stdout.read(64)
            proc.kill()
            proc.wait()
            if time.monotonic() - started < 0.3:
                return
            time.sleep(0.1)

    def kill_server(self) -> None:
        """Kill the sound server abruptly (as a crash would), keeping the folder for a restart."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def loop_speaker_into_mic(self, latency_ms: int = 60) -> str:
        """Everything the assistant plays comes back into its microphone at full level, as in a room; the
        module id to ``unload``."""
        loaded = subprocess.run(["pactl", "load-module", "module-loopback", "source=vspk.monitor", "sink=vmic_in",
                                 f"latency_msec={latency_ms}", "source_dont_move=true", "sink_dont_move=true"],
                                env=self.env, capture_output=True, text=True, timeout=10, check=True)
        return loaded.stdout.strip()

    def unload(self, module: str) -> None:
        self._pactl("unload-module", module)

    def play(self, wav: str | Path, sink: str = "vmic_in") -> subprocess.Popen[bytes]:
        """Start playing a WAV file into the virtual mic (returns at once; wait() on the result)."""
        return subprocess.Popen(["paplay", "-d", sink, str(wav)], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def record(self, out_wav: str | Path, source: str = "vspk.monitor", rate: int = 16000) -> subprocess.Popen[bytes]:
        """Start recording a source (default: what the assistant plays) into a WAV; terminate() to stop.

        Returns once the recording is under way (0.1 s of the source's silence written), so a sound played
        next is recorded from its start even when a loaded machine is slow to start parecord."""
        proc = subprocess.Popen(["parecord", "-d", source, "--rate", str(rate), "--channels", "1",
                                 "--format", "s16le", "--file-format=wav", str(out_wav)],
                                env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        under_way = 44 + rate * 2 // 10  # the WAV header, then 0.1 s of samples
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(FileNotFoundError):
                if os.path.getsize(out_wav) >= under_way:
                    return proc
            time.sleep(0.01)
        proc.kill()
        raise RuntimeError(f"parecord from {source} wrote nothing in 20 s (exit {proc.wait()})")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
