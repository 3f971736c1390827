"""Soak test: run the daemon for a long time like systemd would, feed it speech, and watch for decay.

    python benchmarks/soak.py [--minutes 60] [--vmic] [--speech A.wav B.wav ...] [--every 20] [--json out.json]
                              [--cmd "assistant run"] [--reload-every 600] [--hostile-every 5]

This script plays the service manager: it opens a NOTIFY_SOCKET, sets WATCHDOG_USEC, starts the daemon
with a private config (private control socket and history database), waits for READY=1, then plays a
playlist of speech, noise and music clips separated by silence in real time: through the virtual
microphone of a private PulseAudio server with ``--vmic`` (the daemon replies into its virtual speaker),
else as raw PCM on stdin. Every sample it records RSS, CPU,
threads and open files (psutil), the last STATUS= line, the gap since the last WATCHDOG=1, the
control socket's `status`, and the number of turns in history.db. Optional SIGHUPs check that reloads
come back with READY=1; optional hostile control-socket clients (idle, trickling, garbage, oversized,
surrogates, hang-ups) check that `status` keeps answering. At the end it prints a table and the verdict:

- RSS growth per hour after warm-up (a leak shows as a steady slope),
- the longest watchdog gap (must stay below WATCHDOG_USEC, or systemd would have restarted it),
- turns recorded vs utterances played, dropped frames, file-descriptor and thread growth.

It needs `assistant run` (the pipeline) and `service:` in the root config; until then it exercises
whatever command `--cmd` names.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.audio.sources import read_wav_pcm
from assistant.service.control import ControlClient, ControlError

WATCHDOG_USEC = 30_000_000


@dataclass
class Sample:
    t_s: float
    rss_mb: float
    cpu_pct: float
    threads: int
    fds: int
    status: str
    watchdog_gap_s: float
    turns: int
    dropped_frames: Any = None
    status_ms: float | None = None  # how long `status` took to answer, with the hostile clients about


@dataclass
class Manager:
    """The NOTIFY_SOCKET end: remembers READY/WATCHDOG/STATUS like systemd does."""

    path: str
    ready: threading.Event = field(default_factory=threading.Event)
    last_watchdog: float = field(default_factory=time.monotonic)
    max_watchdog_gap_s: float = 0.0
    status: str = ""
    readies: int = 0
    reloads: int = 0

    def serve(self, stop: threading.Event) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(self.path)
        sock.settimeout(0.5)
        with sock:
            while not stop.is_set():
                try:
                    data = sock.recv(65_536).decode("utf-8", "replace")
                except TimeoutError:
                    continue
                for line in data.splitlines():
                    key, _, value = line.partition("=")
                    if key == "READY":
                        self.readies += 1
                        self.last_watchdog = time.monotonic()
                        self.ready.set()
                    elif key == "WATCHDOG" and value == "1":
                        now = time.monotonic()
                        self.max_watchdog_gap_s = max(self.max_watchdog_gap_s, now - self.last_watchdog)
                        self.last_watchdog = now
                    elif key == "RELOADING":
                        self.reloads += 1
                    elif key == "STATUS":
                        self.status = value


def playlist(clips: list[bytes], every_s: float) -> bytes:
    """One cycle: each clip (speech, noise or music) followed by silence until the next one is due."""
    return b"".join(clip + b"\0\0" * int(16_000 * max(every_s - len(clip) / 32_000, 1.0)) for clip in clips)


def rss_slope_mb_per_h(samples: list[Sample]) -> float:
    """The least-squares slope of RSS over time: one late spike (a turn in flight) does not read as a leak."""
    t = [s.t_s / 3600 for s in samples]
    rss = [s.rss_mb for s in samples]
    t_mean, rss_mean = sum(t) / len(t), sum(rss) / len(rss)
    spread = sum((x - t_mean) ** 2 for x in t)
    return sum((x - t_mean) * (y - rss_mean) for x, y in zip(t, rss, strict=True)) / spread if spread else 0.0


def feed(stdin: Any, cycle: bytes, stop: threading.Event, played: list[int]) -> None:
    """Real-time stream of the playlist, over and over."""
    chunk = 16_000 * 2 // 50  # 20 ms
    start = time.monotonic()
    sent = 0
    while not stop.is_set():
        for offset in range(0, len(cycle), chunk):
            if stop.is_set():
                return
            if offset == 0:
                played[0] += 1
            try:
                stdin.write(cycle[offset:offset + chunk])
                stdin.flush()
            except (BrokenPipeError, ValueError):
                return
            sent += chunk
            delay = start + sent / 32_000 - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def hostile_clients(path: Path, stop: threading.Event, counts: dict[str, int], every_s: float) -> None:
    """What careless or hostile local clients do, in turn: connect and say nothing, trickle a byte at a time,
    send garbage, an oversized line, a lone UTF-16 surrogate, a request and hang up before the reply."""
    payloads = [b"", b"x", b"\xff\xfe garbage\n", b'{"cmd": "say", "text": "half a pair \\ud800"}\n',
                b'{"cmd": ' + b"[" * 10_000 + b"\n", b"y" * 70_000 + b"\n", b'{"cmd": "status"}\n']
    n = 0
    while not stop.wait(every_s):
        payload = payloads[n % len(payloads)]
        n += 1
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(3)
        try:
            sock.connect(str(path))
            if payload == b"x":  # trickle: one byte a second, never a whole line
                for _ in range(5):
                    sock.send(b"x")
                    if stop.wait(1.0):
                        break
            elif payload:
                sock.sendall(payload)
        except OSError:
            counts["refused"] = counts.get("refused", 0) + 1
        finally:
            sock.close()  # without reading the reply
        counts["sent"] = counts.get("sent", 0) + 1


def count_turns(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM turns").fetchone()[0])
    except sqlite3.Error:
        return -1


def measure(proc: Any, started: float, manager: Manager, history: Path, status: dict[str, Any]) -> Sample:
    with proc.oneshot():
        return Sample(
            t_s=round(time.monotonic() - started, 1), rss_mb=round(proc.memory_info().rss / 2**20, 1),
            cpu_pct=round(proc.cpu_percent(), 1), threads=proc.num_threads(), fds=proc.num_fds(),
            status=manager.status, watchdog_gap_s=round(time.monotonic() - manager.last_watchdog, 1),
            turns=count_turns(history), dropped_frames=status.get("dropped_frames"),
        )


def feed_vmic(server: Any, cycle: bytes, folder: Path, stop: threading.Event, played: list[int]) -> None:
    """The playlist played into the virtual microphone of a private PulseAudio server, over and over."""
    path = folder / "cycle.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(cycle)
    while not stop.is_set():
        played[0] += 1
        player = server.play(path)
        while player.poll() is None:
            if stop.wait(0.5):
                player.terminate()
                return


def write_config(folder: Path, model: str, vmic: bool = False) -> tuple[Path, Path, Path]:
    socket_path, history = folder / "control.sock", folder / "history.db"
    config = folder / "config.yaml"
    audio = "{source: device, sink: device}" if vmic else "{source: stdin, stdin_rate: 16000, sink: 'null'}"
    config.write_text(
        f"audio: {audio}\n"
        "llm: {backend: none}\n"
        "tts: {engine: 'null'}\n"
        f"asr: {{model: {json.dumps(model)}}}\n"
        f"service: {{control: {{socket: {json.dumps(str(socket_path))}}}, "
        f"history: {{path: {json.dumps(str(history))}}}}}\n"
    )
    return config, socket_path, history


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    data = Path(__file__).resolve().parents[1] / "tests" / "data"
    parser.add_argument("--speech", type=Path, nargs="+", help="clips played in turn (default: speech, noise, music)",
                        default=[data / "jfk.wav", data / "picovoice_empty_noise.wav", data / "whatstheweatherlike.wav",
                                 data / "music_brahms_hungarian_dance5.wav", data / "turn_on_the_living_room_lamp.wav"])
    parser.add_argument("--vmic", action="store_true",
                        help="play through the virtual mic of a private PulseAudio server instead of stdin")
    parser.add_argument("--every", type=float, default=20.0, help="seconds between utterances")
    parser.add_argument("--sample-every", type=float, default=30.0, help="seconds between measurements")
    parser.add_argument("--reload-every", type=float, default=0.0, help="send SIGHUP this often (0: never)")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--cmd", default="assistant run", help="the daemon command (gets --config first)")
    parser.add_argument("--json", type=Path, help="write every sample here")
    parser.add_argument("--hostile-every", type=float, default=0.0,
                        help="seconds between hostile control-socket clients (0: none)")
    args = parser.parse_args()

    import psutil  # dev dependency; only this benchmark needs it

    cycle = playlist([read_wav_pcm(path) for path in args.speech], args.every)
    folder = Path(tempfile.mkdtemp(prefix="soak"))
    config, socket_path, history = write_config(folder, args.model, args.vmic)
    server = None
    if args.vmic:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from support.vaudio import VirtualAudio  # the tests' private PulseAudio server

        server = VirtualAudio(folder / "pulse").start()
    manager = Manager(str(folder / "notify"))
    stop = threading.Event()
    threading.Thread(target=manager.serve, args=(stop,), daemon=True).start()
    time.sleep(0.2)

    argv = shlex.split(args.cmd)
    argv[1:1] = ["--config", str(config)]
    env = dict(server.env if server else os.environ, NOTIFY_SOCKET=manager.path, WATCHDOG_USEC=str(WATCHDOG_USEC))
    started = time.monotonic()
    daemon = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    if not manager.ready.wait(300):
        daemon.kill()
        raise SystemExit("no READY=1 within 300 s")
    print(f"READY after {time.monotonic() - started:.1f} s; soaking for {args.minutes:g} min", flush=True)

    played = [0]
    if server is not None:
        threading.Thread(target=feed_vmic, args=(server, cycle, folder, stop, played), daemon=True).start()
    else:
        threading.Thread(target=feed, args=(daemon.stdin, cycle, stop, played), daemon=True).start()
    hostile: dict[str, int] = {}
    if args.hostile_every:
        threading.Thread(target=hostile_clients, args=(socket_path, stop, hostile, args.hostile_every),
                         daemon=True).start()
    proc = psutil.Process(daemon.pid)
    proc.cpu_percent()
    samples: list[Sample] = []
    end = time.monotonic() + args.minutes * 60
    next_reload = time.monotonic() + args.reload_every if args.reload_every else float("inf")
    failure = ""
    while time.monotonic() < end:
        time.sleep(min(args.sample_every, max(end - time.monotonic(), 0)))
        if daemon.poll() is not None:
            failure = f"daemon exited with status {daemon.returncode}"
            break
        if time.monotonic() >= next_reload:
            daemon.send_signal(signal.SIGHUP)
            next_reload += args.reload_every
        asked = time.monotonic()
        try:
            status = ControlClient(socket_path, timeout_s=5).request("status")
        except ControlError as exc:
            status = {"error": str(exc)}
        status_ms = round((time.monotonic() - asked) * 1000, 1) if "error" not in status else None
        try:
            sample = measure(proc, started, manager, history, status)
            sample.status_ms = status_ms
        except psutil.NoSuchProcess:
            failure = f"daemon exited with status {daemon.wait()}"
            break
        samples.append(sample)
        print(f"{sample.t_s:>8.0f}s rss={sample.rss_mb:>7.1f}MB cpu={sample.cpu_pct:>5.1f}% thr={sample.threads:>3}"
              f" fds={sample.fds:>4} wd_gap={sample.watchdog_gap_s:>4.1f}s turns={sample.turns:>5}"
              f" dropped={sample.dropped_frames} status_ms={sample.status_ms} status={sample.status!r}", flush=True)

    stop.set()
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        failure = failure or "did not stop within 30 s of SIGTERM"

    if server is not None:
        server.stop()
    warm = [s for s in samples if s.t_s > samples[0].t_s + 300] or samples
    hours = (warm[-1].t_s - warm[0].t_s) / 3600 if len(warm) > 1 else 0
    slope = rss_slope_mb_per_h(warm) if hours else None
    verdict = {
        "played": played[0], "turns": samples[-1].turns if samples else 0,
        "rss_growth_mb_per_h": round(slope, 1) if slope is not None else None,
        "rss_growth_pct_per_h": round(100 * slope / warm[0].rss_mb, 2) if slope is not None else None,
        "rss_after_warmup_mb": warm[0].rss_mb if warm else None, "rss_end_mb": warm[-1].rss_mb if warm else None,
        "max_watchdog_gap_s": round(manager.max_watchdog_gap_s, 1), "watchdog_usec_s": WATCHDOG_USEC / 1e6,
        "fd_growth": samples[-1].fds - samples[0].fds if samples else None,
        "thread_growth": samples[-1].threads - samples[0].threads if samples else None,
        "reloads": manager.reloads, "readies": manager.readies, "failure": failure or None,
        "status_ms_max": max((s.status_ms for s in samples if s.status_ms is not None), default=None),
        "status_failures": sum(s.status_ms is None for s in samples), "hostile_clients": hostile,
    }
    print(json.dumps(verdict, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"verdict": verdict, "samples": [asdict(s) for s in samples]}, indent=1))
    ok = not failure and manager.max_watchdog_gap_s < WATCHDOG_USEC / 1e6
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
