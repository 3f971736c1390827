"""PortAudio opened and closed from several threads at once (the capture thread reopening a lost microphone
while the speaking thread opens and closes the sink) must not crash the process.

Without one lock around PortAudio's lifecycle calls this aborted or segfaulted on every run. The threads run
in a child process, so a crash fails this test instead of ending the whole suite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from support.paths import REPO
from support.vaudio import VirtualAudio

CHURN = textwrap.dedent("""
    import threading
    from assistant.audio.sinks import PyAudioSink
    from assistant.audio.sources import PyAudioSource

    errors = []

    def microphone():
        for _ in range(15):
            try:
                source = PyAudioSource(None)
                source.read()
                source.close()
            except Exception as exc:
                errors.append(repr(exc))

    def speaker():
        for _ in range(15):
            try:
                sink = PyAudioSink(None)
                sink.play(bytes(3200), 16000)
                sink.close()
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=job) for job in (microphone, microphone, speaker, speaker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("errors:", errors)
""")


def test_devices_opened_and_closed_from_several_threads_at_once(vaudio: VirtualAudio) -> None:
    result = subprocess.run([sys.executable, "-c", CHURN], cwd=REPO, env=vaudio.env, capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, f"the process died ({result.returncode}): {result.stderr[-2000:]}"
    assert "errors: []" in result.stdout, result.stdout
