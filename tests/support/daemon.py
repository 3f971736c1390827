"""`assistant run` as a subprocess, and its log read as it is written."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path


class DaemonLog:
    """Collects a subprocess's stderr lines in a thread so the test can wait for one."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._proc = proc
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self.lines.append(line.rstrip())

    def finish(self, timeout: float = 10) -> list[str]:
        """Every line, once the process has exited and its stderr is read to the end."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "stderr did not end with the process"
        return self.lines

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if text in line:
                    return line
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in daemon log:\n" + "\n".join(self.lines))


def run_daemon(config: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], DaemonLog]:
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "--config", str(config), "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = DaemonLog(proc)
    log.wait_for("listening on", timeout=120)
    return proc, log


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(10)
