"""`assistant serve wyoming`: our recognizer, voice and wake words as a Wyoming server for Home Assistant."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import TYPE_CHECKING

from assistant.cli.main import UserError
from assistant.config.schema import Config, ConfigError, load
from assistant.service import logs

if TYPE_CHECKING:
    from assistant.remote.wyoming.backends import Backends

log = logging.getLogger("assistant")

DEFAULT_URI = "tcp://0.0.0.0:10300"
PARTS = ("asr", "tts", "wake")


def build_backends(config: Config, parts: tuple[str, ...] = PARTS, name: str = "assistant") -> Backends:
    """Our own stages, as the daemon builds them, for the server: Whisper with the guards and the vocabulary
    prompt the daemon would use, the configured voice, the configured wake-word models."""
    from assistant.app.build import build_recognizer, build_synthesizer
    from assistant.app.router import build_router
    from assistant.hearing.listen import build_listener
    from assistant.hearing.wake_word import WakeWordError, WakeWords
    from assistant.remote.wyoming.backends import Backends

    backends = Backends(name=name, language=config.asr.language or "en")
    if "asr" in parts:
        vocabulary = build_router(config, dry_run=True).vocabulary() if config.asr.bias_vocabulary else []
        listener = build_listener(config, vocabulary=vocabulary)
        backends.recognizer = build_recognizer(config)
        backends.guards = listener.guards
        backends.initial_prompt = listener.initial_prompt
    if "tts" in parts:
        backends.synthesizer = build_synthesizer(config)
        backends.voice = config.tts.voice
    if "wake" in parts:
        wake = config.listen.wake_word

        def detector() -> WakeWords:
            return WakeWords(wake.engine, wake.models, threshold=wake.threshold, refractory_s=wake.refractory_s)

        try:
            first = detector()
        except WakeWordError as exc:
            raise ConfigError([f"listen.wake_word.models: {exc}"]) from None
        backends.wake_models = first.models
        first.close()
        backends.wake = detector
    return backends


def cmd_serve_wyoming(args: argparse.Namespace) -> int:
    from assistant.remote.wyoming.framing import parse_tcp_uri
    from assistant.remote.wyoming.server import WyomingServer

    config, _ = load(args.config)
    logs.setup_logging(logs.level_for(config.logging, verbose=args.verbose, daemon=True))
    try:
        address = parse_tcp_uri(args.uri)
    except ValueError as exc:
        raise UserError(str(exc), 2) from None
    parts = tuple(p for p in PARTS if p not in (args.without or []))
    if not parts:
        raise UserError("nothing to serve: --without named every part (asr, tts, wake)", 2)
    backends = build_backends(config, parts, args.name)
    server = WyomingServer(backends, address, zeroconf=not args.no_zeroconf)

    async def serve() -> None:
        try:
            await server.start()
        except OSError as exc:
            raise UserError(f"cannot listen on {address}: {exc.strerror or exc} "
                            "(is another server on that port?)") from None
        from assistant.service.sdnotify import Notifier

        Notifier.from_env().ready(f"serving Wyoming on {address}")
        await server.serve_forever()

    asyncio.run(serve())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = subparsers.add_parser("serve", help="offer our recognizer, voice and wake words to other machines")
    sub = serve.add_subparsers(dest="serve_command", metavar="PROTOCOL", required=True)
    p = sub.add_parser("wyoming", help="a Wyoming server (Home Assistant's Wyoming integration can add it)",
                       description="Serve our Whisper (with its guards and vocabulary bias), our voice and our "
                       "wake words over the Wyoming protocol, advertised over zeroconf as _wyoming._tcp.")
    p.add_argument("--uri", default=DEFAULT_URI, help=f"where to listen (default: {DEFAULT_URI})")
    p.add_argument("--name", default="assistant", help="the name advertised over zeroconf (default: assistant)")
    p.add_argument("--no-zeroconf", action="store_true", help="do not advertise the server over zeroconf")
    p.add_argument("--without", action="append", choices=PARTS, help="leave a part out (repeatable)")
    p.set_defaults(handler=cmd_serve_wyoming)
