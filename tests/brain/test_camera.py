"""Camera sources (image file/folder, HTTP snapshot URL, OpenCV device), trigger words and image preparation."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from assistant.brain.camera import (
    CameraError,
    FileCamera,
    ImageError,
    OpenCvCamera,
    UrlCamera,
    open_camera,
    prepare_image,
    wants_image,
)
from assistant.config.llm import CameraConfig
from support.llm import free_port
from support.paths import DATA

FRAME = DATA / "camera_red_cup.jpg"


def test_open_camera_picks_the_source_kind(tmp_path: Path) -> None:
    assert open_camera(CameraConfig()) is None
    assert open_camera(CameraConfig(source="none")) is None
    assert isinstance(open_camera(CameraConfig(source=0)), OpenCvCamera)
    assert isinstance(open_camera(CameraConfig(source="2")), OpenCvCamera)
    assert isinstance(open_camera(CameraConfig(source="/dev/video0")), OpenCvCamera)
    assert isinstance(open_camera(CameraConfig(source="http://127.0.0.1:1/snap.jpg")), UrlCamera)
    assert isinstance(open_camera(CameraConfig(source=str(tmp_path))), FileCamera)


def test_file_camera_reads_a_file_or_the_newest_image_in_a_folder(tmp_path: Path) -> None:
    assert FileCamera(FRAME).capture() == FRAME.read_bytes()
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(CameraError, match="no images"):
        FileCamera(tmp_path).capture()
    old, new = tmp_path / "a.jpg", tmp_path / "b.png"
    old.write_bytes(b"old")
    new.write_bytes(b"new")
    os.utime(old, (time.time() + 10, time.time() + 10))
    assert FileCamera(tmp_path).capture() == b"old"
    with pytest.raises(CameraError, match="cannot read"):
        FileCamera(tmp_path / "missing.jpg").capture()


@pytest.fixture()
def snapshot_server() -> Iterator[str]:
    """A real HTTP server on loopback answering /snap.jpg with the test frame, anything else with 404."""
    payload = FRAME.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/snap.jpg":
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            else:
                self.send_error(404)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_camera_fetches_a_snapshot(snapshot_server: str) -> None:
    assert UrlCamera(snapshot_server + "/snap.jpg", 3.0).capture() == FRAME.read_bytes()
    with pytest.raises(CameraError, match=r"404|Not Found"):
        UrlCamera(snapshot_server + "/missing.jpg", 3.0).capture()


def test_url_camera_that_is_down_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(CameraError, match="cannot fetch"):
        UrlCamera(f"http://127.0.0.1:{free_port()}/snap.jpg", 2.0).capture()
    assert time.monotonic() - started < 2.5


def test_a_camera_index_that_does_not_exist_is_a_clear_error() -> None:
    started = time.monotonic()
    with pytest.raises(CameraError, match=r"camera 57 (does not exist|gave no frame)"):
        OpenCvCamera(57, warmup_frames=0, timeout_s=5.0, jpeg_quality=80).capture()
    with pytest.raises(CameraError, match="/dev/video99"):
        OpenCvCamera("/dev/video99", warmup_frames=0, timeout_s=5.0, jpeg_quality=80).capture()
    assert time.monotonic() - started < 11


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What am I holding?", True),
        ("Look at this", True),
        ("can you SEE my cup", True),
        ("what's that", True),
        ("What is the capital of France?", False),
        ("Tell me about seesaws", False),
    ],
)
def test_trigger_words(text: str, expected: bool) -> None:
    assert wants_image(text, CameraConfig().triggers) is expected


def test_prepare_image_downscales_and_reencodes() -> None:
    data, mime = prepare_image(FRAME.read_bytes(), max_side=160)
    assert mime == "image/jpeg"
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (160, 120)
    small, _ = prepare_image(FRAME.read_bytes(), max_side=1000)
    with Image.open(io.BytesIO(small)) as image:
        assert image.size == (320, 240)  # never upscaled


def test_prepare_image_rejects_a_corrupt_image() -> None:
    with pytest.raises(ImageError, match="not a readable image"):
        prepare_image(b"\xff\xd8\xff\xe0 definitely not a jpeg", max_side=256)
    with pytest.raises(ImageError):
        prepare_image(FRAME.read_bytes()[:200], max_side=256)  # truncated file
