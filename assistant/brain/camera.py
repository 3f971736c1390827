"""Camera frames for the brain: OpenCV devices, HTTP snapshot URLs, image files or folders; plus downscaling.

Every source returns encoded image bytes (JPEG/PNG) or raises ``CameraError`` with one plain sentence; the
brain turns that into a text-only turn or an apology, never a crash.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.config.llm import CameraConfig

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"})


class CameraError(Exception):
    """No frame could be had: one plain sentence saying why."""


class ImageError(ValueError):
    """The bytes are not an image we can decode."""


class Camera(Protocol):
    description: str

    def capture(self) -> bytes: ...


class FileCamera:
    """An image file, or the newest image in a folder (another program may drop snapshots there)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"file {path}"

    def capture(self) -> bytes:
        target = self.path
        if target.is_dir():
            images = [p for p in target.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
            if not images:
                raise CameraError(f"the camera folder {target} has no images")
            target = max(images, key=lambda p: p.stat().st_mtime)
        try:
            return target.read_bytes()
        except OSError as exc:
            raise CameraError(f"cannot read the camera image {target}: {exc.strerror or exc}") from None


class UrlCamera:
    """An HTTP(S) URL answering with one JPEG/PNG per request (IP cameras' snapshot endpoints)."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.description = f"snapshot URL {url}"

    def capture(self) -> bytes:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout_s) as response:
                return bytes(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise CameraError(f"cannot fetch a snapshot from {self.url}: {reason}") from None


class OpenCvCamera:
    """A V4L2/USB camera through OpenCV, opened per capture so the device is free between questions."""

    def __init__(self, device: int | str, warmup_frames: int, timeout_s: float, jpeg_quality: int) -> None:
        self.device = device
        self.warmup_frames = warmup_frames
        self.timeout_s = timeout_s
        self.jpeg_quality = jpeg_quality
        self.description = f"camera {device}"

    def _grab(self, result: list[bytes | Exception]) -> None:
        try:
            import cv2
        except ImportError:
            result.append(CameraError("camera devices need OpenCV; run `pip install opencv-python-headless`"))
            return
        capture = cv2.VideoCapture(self.device)
        try:
            if not capture.isOpened():
                result.append(CameraError(f"camera {self.device} does not exist or cannot be opened"))
                return
            frame = None
            for _ in range(self.warmup_frames + 1):
                ok, frame = capture.read()
                if not ok:
                    result.append(CameraError(f"camera {self.device} opened but gave no frame"))
                    return
            assert frame is not None  # warmup_frames >= 0, so the loop read at least one frame
            ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if not ok:
                result.append(CameraError(f"could not encode a frame from camera {self.device}"))
                return
            result.append(encoded.tobytes())
        except Exception as exc:  # OpenCV raises cv2.error from deep inside drivers
            result.append(CameraError(f"camera {self.device} failed: {exc}"))
        finally:
            capture.release()

    def capture(self) -> bytes:
        # A wedged driver can block read() forever; run it in a thread so the turn goes on without it.
        result: list[bytes | Exception] = []
        worker = threading.Thread(target=self._grab, args=(result,), name="camera", daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        if not result:
            raise CameraError(f"camera {self.device} gave no frame within {self.timeout_s:g} s")
        frame = result[0]
        if isinstance(frame, Exception):
            raise frame
        return frame


def open_camera(config: CameraConfig) -> Camera | None:
    """The camera the config names, or None. Never touches the device: that happens per capture."""
    source = config.source
    if source is None:
        return None
    if isinstance(source, int) or (isinstance(source, str) and source.strip().isdigit()):
        return OpenCvCamera(int(source), config.warmup_frames, config.timeout_s, config.jpeg_quality)
    text = str(source).strip()
    if re.match(r"^https?://", text, re.IGNORECASE):
        return UrlCamera(text, config.timeout_s)
    if text.startswith("/dev/"):
        return OpenCvCamera(text, config.warmup_frames, config.timeout_s, config.jpeg_quality)
    return FileCamera(Path(text).expanduser())


def wants_image(text: str, triggers: list[str]) -> bool:
    """True when the utterance refers to seeing ("what am I holding", "look at this")."""
    said = " " + " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()) + " "
    return any(f" {trigger.lower().strip()} " in said for trigger in triggers if trigger.strip())


def open_image(data: bytes, max_side: int) -> PILImage:
    """Decode to RGB, scaled down so the longer side is at most ``max_side``. Raises ImageError for bytes
    that are not a decodable image (so a corrupt file never reaches a model)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            image = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"not a readable image ({exc})") from None
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def prepare_image(data: bytes, max_side: int, quality: int = 85) -> tuple[bytes, str]:
    """Decode, downscale so the longer side is at most ``max_side``, re-encode; returns (bytes, MIME type).
    Raises ImageError for bytes that are not a decodable image."""
    out = io.BytesIO()
    open_image(data, max_side).save(out, format="JPEG", quality=quality)
    return out.getvalue(), "image/jpeg"


def decode_rgb(data: bytes) -> object:
    """A PIL RGB image from encoded bytes (for backends that hand images to a processor)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            return opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageError(f"not a readable image ({exc})") from None
