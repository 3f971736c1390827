"""CLI for the LLM brain: `assistant llm-check` (one real turn with stats) and `assistant camera-snap`.

``add_llm_args`` / ``read_image_arg`` let other commands (``ask``) take ``--image PATH`` the same way.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from assistant.cli.main import UserError, print_json
from assistant.config.llm import LlmConfig, MemoryConfig
from assistant.config.schema import Config, load

DEFAULT_PROMPT = "What is the capital of France?"


def add_llm_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", metavar="PATH", help="an image to ask about (JPEG/PNG); sent with the question")


def read_image_arg(args: argparse.Namespace) -> bytes | None:
    """The bytes of ``--image``, or None; a missing/unreadable file is a UserError (a corrupt one is the
    brain's business: it answers with an apology)."""
    path = args.image
    if not path:
        return None
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read the image {path}: {exc.strerror or exc}") from None


def _logging(args: argparse.Namespace, config: Any) -> None:
    from assistant.cli.core import setup_logging

    setup_logging(args, config)


def _with_overrides(config: Config, args: argparse.Namespace) -> Config:
    """The config with --backend/--model/--base-url (and --no-memory) applied, for trying a model quickly."""
    llm = config.llm
    update = {k: v for k, v in {"backend": args.backend, "model": args.model, "base_url": args.base_url}.items() if v}
    if update:
        llm = LlmConfig.model_validate(llm.model_dump() | update)
    memory = MemoryConfig(enabled=False) if args.no_memory else config.memory
    return config.model_copy(update={"llm": llm, "memory": memory})


def _llm_check(args: argparse.Namespace) -> int:
    from assistant.brain.brain import build_brain
    from assistant.brain.llm.base import LlmError

    config, _ = load(args.config)
    _logging(args, config)
    image = read_image_arg(args)
    started = time.monotonic()
    try:
        brain = build_brain(_with_overrides(config, args), strict=True)
    except LlmError as exc:
        raise UserError(f"the LLM could not be loaded: {exc}") from None
    if brain is None:
        raise UserError("llm.backend is none: there is no LLM to check (set llm.backend in the config)")
    load_ms = (time.monotonic() - started) * 1000.0
    if not args.json:
        print(f"{brain.backend} / {brain.llm.name}: loaded in {load_ms / 1000:.1f} s")
    spoken: list[str] = []
    for sentence in brain.answer(args.prompt, image=image):
        spoken.append(sentence)
        if not args.json:
            print(sentence, flush=True)
    stats = brain.last_stats
    if args.json:
        result: dict[str, Any] = {"prompt": args.prompt, "reply": " ".join(spoken), "load_ms": round(load_ms, 1)}
        print_json(result | stats.as_dict())
    else:
        rate = f", {stats.tokens_per_s:.1f} tokens/s" if stats.tokens_per_s else ""
        ttft = f"{stats.ttft_ms:.0f} ms" if stats.ttft_ms is not None else "-"
        print(f"[{stats.handled_by}] first token {ttft}, {stats.completion_tokens} tokens{rate}"
              + (f", error: {stats.error}" if stats.error else ""))
    brain.close()
    return 0 if stats.handled_by in ("llm", "command") else 1


def _camera_snap(args: argparse.Namespace) -> int:
    from assistant.brain.camera import CameraError, open_camera, prepare_image

    config, _ = load(args.config)
    _logging(args, config)
    camera_config, llm_config = config.camera, config.llm
    camera = open_camera(camera_config)
    if camera is None:
        raise UserError("camera.source is none: set it to a device index, /dev/video path, URL, file or folder")
    started = time.monotonic()
    try:
        frame, _ = prepare_image(camera.capture(), llm_config.image_max_side, camera_config.jpeg_quality)
    except (CameraError, ValueError) as exc:
        raise UserError(f"{camera.description}: {exc}") from None
    capture_ms = (time.monotonic() - started) * 1000.0
    out = Path(args.out).expanduser()
    out.write_bytes(frame)
    if args.json:
        print_json(
            {"source": camera.description, "out": str(out), "bytes": len(frame), "capture_ms": round(capture_ms, 1)}
        )
    else:
        print(f"{camera.description}: wrote {len(frame)} bytes to {out} in {capture_ms:.0f} ms")
    return 0


def register(subparsers: Any) -> None:
    check = subparsers.add_parser("llm-check", help="load the configured LLM and answer one question, with timings")
    check.add_argument("prompt", nargs="?", default=DEFAULT_PROMPT, help=f"the question (default: {DEFAULT_PROMPT!r})")
    add_llm_args(check)
    check.add_argument("--backend", choices=["llamacpp", "transformers", "openai"], help="override llm.backend")
    check.add_argument("--model", help="override llm.model")
    check.add_argument("--base-url", help="override llm.base_url (openai backend)")
    check.add_argument("--no-memory", action="store_true", help="ignore and do not change the saved conversation")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(handler=_llm_check)

    snap = subparsers.add_parser("camera-snap", help="capture one frame from the configured camera into a file")
    snap.add_argument("--out", default="snapshot.jpg", metavar="PATH", help="where to write the JPEG")
    snap.add_argument("--json", action="store_true", help="print one JSON object")
    snap.set_defaults(handler=_camera_snap)
