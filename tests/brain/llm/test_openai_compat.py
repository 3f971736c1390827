"""The openai backend against a real OpenAI-compatible server (`transformers serve`) on loopback, plus the
failures a daemon meets in practice: nothing listening, and a server that accepts but never answers."""

from __future__ import annotations

import http.server
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from assistant.brain.brain import Brain
from assistant.brain.camera import FileCamera
from assistant.brain.llm.base import ChatMessage
from assistant.brain.llm.openai_compat import OpenAICompatLLM
from assistant.config.llm import CameraConfig, LlmConfig, MemoryConfig
from support.llm import free_port, tiny_vlm_folder
from support.paths import DATA

FRAME = DATA / "camera_red_cup.jpg"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, str]]:
    """`transformers serve` preloading the tiny SmolVLM folder; yields (base_url, model)."""
    folder = str(tiny_vlm_folder())
    port = free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    cli = Path(sys.executable).with_name("transformers")
    process = subprocess.Popen(
        [str(cli), "serve", folder, "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"transformers serve exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("transformers serve did not become healthy within 120 s")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", folder
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def config(base_url: str, model: str, **overrides: object) -> LlmConfig:
    values: dict[str, object] = {"backend": "openai", "base_url": base_url, "model": model, "max_tokens": 8,
                                 "temperature": 0.0, "timeout_s": 60, "first_token_timeout_s": 60,
                                 "api_key_env": "ASSISTANT_TEST_KEY"}
    return LlmConfig.model_validate(values | overrides)


def make_brain(llm_config: LlmConfig, tmp_path: Path, **camera: object) -> Brain:
    return Brain(OpenAICompatLLM(llm_config), llm_config, CameraConfig.model_validate(camera),
                 MemoryConfig(enabled=False, path=str(tmp_path)),
                 camera=FileCamera(FRAME) if camera else None, backend="openai")


def test_streams_a_text_turn(server: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TEST_KEY", "sk-test")  # sent as a bearer token; the local server ignores it
    llm = OpenAICompatLLM(config(*server))
    completion = llm.stream([ChatMessage("user", "Hello there")], max_tokens=8)
    assert "".join(completion).strip()
    # The server's own token accounting, which it sends only when asked (stream_options.include_usage): how
    # many tokens it packs into each event is its business, so the count is bounded, not exact.
    assert llm.reports_usage
    assert completion.prompt_tokens is not None and completion.prompt_tokens > 0
    assert 1 <= completion.completion_tokens <= 8 and completion.ttft_ms is not None


def test_an_image_turn_reaches_the_model(server: tuple[str, str], tmp_path: Path) -> None:
    b = make_brain(config(*server), tmp_path, source=str(FRAME), attach="on_request")
    list(b.answer("Tell me something"))
    text_only = b.last_stats
    list(b.answer("Tell me what you see"))
    with_image = b.last_stats
    assert not text_only.image and with_image.image
    assert text_only.prompt_tokens is not None and with_image.prompt_tokens is not None
    # "see" adds one word; the image adds its placeholder tokens, which only the processor on the server makes.
    assert with_image.prompt_tokens >= text_only.prompt_tokens + 5


def test_an_unreachable_server_gets_a_quick_apology(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    llm_config = config(f"http://127.0.0.1:{free_port()}/v1", "any", retries=1)
    b = make_brain(llm_config, tmp_path)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert list(b.answer("Hello?")) == [llm_config.apology]
    assert time.monotonic() - started < 5
    assert b.last_stats.handled_by == "apology" and "cannot reach the LLM server" in (b.last_stats.error or "")
    assert "retrying" in caplog.text and "LLM turn failed" in caplog.text


def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    """A real socket that accepts connections and reads requests but never replies (a wedged backend)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    llm_config = config(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", "any", timeout_s=2.0,
                        first_token_timeout_s=1.5)
    b = make_brain(llm_config, tmp_path)
    started = time.monotonic()
    try:
        assert list(b.answer("Hello?")) == [llm_config.timeout_apology]
        assert 1.4 < time.monotonic() - started < 3.0
        assert b.last_stats.timed_out
    finally:
        for connection in accepted:
            connection.close()
        listener.close()


class _NoStreamOptions(http.server.BaseHTTPRequestHandler):
    """An older OpenAI-compatible server: rejects stream_options (HTTP 422), streams one token per event."""

    bodies: ClassVar[list[dict[str, object]]] = []
    first_words_heard = threading.Event()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append(body)
        if "stream_options" in body:
            message = b'{"detail": "unknown field: stream_options"}'
            self.send_response(422)
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in ["Rome", " is", " the", " capital."]:
            event = {"choices": [{"index": 0, "delta": {"content": word}}]}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
            # the rest waits until the client has handed on the first words: proof that it streams
            if not self.first_words_heard.wait(5):
                self.wfile.write(b'data: {"error": "the client held the first words back"}\n\n')
                return
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_without_stream_options_is_asked_without_them() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoStreamOptions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        llm = OpenAICompatLLM(config(f"http://127.0.0.1:{server.server_address[1]}/v1", "old"))
        for _ in range(2):
            _NoStreamOptions.first_words_heard.clear()
            completion = llm.stream([ChatMessage("user", "What is the capital of Italy?")], max_tokens=8)
            deltas = iter(completion)
            assert next(deltas) == "Rome"
            _NoStreamOptions.first_words_heard.set()
            assert "".join(deltas) == " is the capital."
            assert completion.completion_tokens == 4 and completion.prompt_tokens is None
        assert not llm.reports_usage
        # asked once with the option, then never again
        assert ["stream_options" in body for body in _NoStreamOptions.bodies] == [True, False, False]
    finally:
        server.shutdown()
        server.server_close()
