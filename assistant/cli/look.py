"""``assistant look [--image IMG] [--json]``: what the vision stage finds in a camera frame or an image file
(text in reading order, faces, the frame's quality), with timings."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config.schema import Config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("look", help="read text and count faces in a camera frame or an image file")
    p.add_argument("--image", metavar="IMG", help="an image file to look at instead of the configured camera")
    p.add_argument("--json", action="store_true", help="print the facts and timings as JSON")
    p.set_defaults(handler=_look)


def _frame(args: argparse.Namespace, config: Config) -> tuple[bytes, str]:
    from assistant.brain.camera import CameraError, open_camera
    from assistant.cli.main import UserError

    if args.image:
        path = Path(args.image).expanduser()
        try:
            return path.read_bytes(), str(path)
        except OSError as exc:
            raise UserError(f"cannot read the image {path}: {exc.strerror or exc}") from None
    camera = open_camera(config.camera)
    if camera is None:
        raise UserError("no camera is configured: set camera.source, or give --image IMG")
    try:
        return camera.capture(), camera.description
    except CameraError as exc:
        raise UserError(str(exc)) from None


def _look(args: argparse.Namespace) -> int:
    from assistant.brain.camera import ImageError
    from assistant.brain.vision.say import say_people, say_read
    from assistant.brain.vision.scene import Vision
    from assistant.cli.core import setup_logging
    from assistant.cli.main import UserError, print_json
    from assistant.config.schema import load

    config, _ = load(args.config)
    setup_logging(args, config)
    data, source = _frame(args, config)
    vision = Vision.from_config(config.camera)
    began = time.monotonic()
    problems = vision.load()
    load_ms = round((time.monotonic() - began) * 1000.0, 1)
    try:
        facts = vision.look(data)
    except ImageError as exc:
        raise UserError(f"{source}: {exc}") from None
    if args.json:
        print_json({"source": source, **facts.as_dict(), "load_ms": load_ms, "problems": problems})
        return 0
    quality = facts.quality
    print(f"{source}: {facts.width}x{facts.height}, brightness {quality.brightness:g}, contrast {quality.contrast:g}, "
          f"sharpness {quality.sharpness:g}" + (f" -> {quality.problem}" if quality.problem else ""))
    for line in facts.lines:
        print(f"  text {line.confidence:.2f}  {line.text}")
    for face in facts.faces:
        print(f"  face {face.confidence:.2f}  at {face.box}")
    for problem in [*problems, *facts.errors]:
        print(f"  problem: {problem}")
    timings = ", ".join(f"{name} {ms:g} ms" for name, ms in facts.timings_ms.items())
    print(f"timings: load {load_ms:g} ms (once), {timings}")
    print(f"says: {say_read(facts, config.camera.read_part_chars)[0]} {say_people(facts)}")
    return 0
