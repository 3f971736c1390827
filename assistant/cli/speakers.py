"""``assistant speakers enroll|list|remove|identify``: the voices the assistant knows by name.

Only embeddings are stored (``voices.json`` in the state directory, mode 0600), never the audio. A running
daemon takes up a change with ``assistant reload``.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.cli.main import UserError, print_json

if TYPE_CHECKING:
    from assistant.config.schema import Config
    from assistant.hearing.speakers.encoder import SpeakerEncoder
    from assistant.hearing.speakers.frontend import Floats

# Said while recording with --record: varied sounds, ~3 s each (Harvard sentences, public domain).
PROMPTS = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
)
RECORD_TIMEOUT_S = 15.0  # per sentence


def _config(args: argparse.Namespace) -> Config:
    from assistant.cli.core import _configured

    return _configured(args)


def _embed_files(encoder: SpeakerEncoder, files: list[str]) -> list[Floats]:
    from assistant.audio.sources import read_wav_pcm

    embeddings = []
    for name in files:
        if not Path(name).is_file():
            raise UserError(f"{name}: no such file")
        embedding = encoder.embed(read_wav_pcm(name))
        if embedding is None:
            raise UserError(f"{name}: too little speech to learn a voice from (say a sentence or two)")
        embeddings.append(embedding)
    return embeddings


def record_utterances(config: Config, count: int) -> list[bytes]:
    """``count`` utterances from the configured input (the microphone, or audio.source's file), one per
    prompted sentence, cut by the endpointer as the daemon cuts them."""
    import queue
    import time

    from assistant.app.build import build_capture, build_source
    from assistant.hearing.vad import Endpointer

    capture = build_capture(config, build_source(config)).start()
    utterances: list[bytes] = []
    try:
        for n in range(count):
            print(f"({n + 1}/{count}) Say: {PROMPTS[n % len(PROMPTS)]}", flush=True)
            endpointer = Endpointer(config.vad)
            deadline = time.monotonic() + RECORD_TIMEOUT_S
            while True:
                if time.monotonic() > deadline:
                    raise UserError(f"no speech heard within {RECORD_TIMEOUT_S:.0f} s: check the microphone "
                                    "(assistant devices) and audio.input_device")
                try:
                    frame = capture.frames.get(timeout=0.5)
                except queue.Empty:
                    continue
                utterance = endpointer.feed(frame) if frame is not None else endpointer.flush()
                if utterance is not None:
                    utterances.append(utterance.pcm)
                    break
                if frame is None:
                    raise UserError(f"the input ended after {len(utterances)} of {count} sentences")
    finally:
        capture.stop()
    return utterances


def cmd_enroll(args: argparse.Namespace) -> int:
    from assistant.hearing.speakers.encoder import SpeakerEncoder
    from assistant.hearing.speakers.store import VoiceStore, VoiceStoreError, valid_name

    config = _config(args)
    try:
        name = valid_name(args.name)
    except VoiceStoreError as exc:
        raise UserError(str(exc)) from None
    if not args.files and not args.record:
        raise UserError("give WAV files of the person speaking, or --record to record them now")
    encoder = SpeakerEncoder()
    embeddings = _embed_files(encoder, args.files)
    if args.record:
        for pcm in record_utterances(config, args.count):
            embedding = encoder.embed(pcm)
            if embedding is None:
                raise UserError("a recording held too little speech: try again, a whole sentence each time")
            embeddings.append(embedding)
    try:
        voice = VoiceStore().enroll(name, embeddings, add=args.add)
    except VoiceStoreError as exc:
        raise UserError(str(exc)) from None
    print(f"enrolled {voice.name} from {len(voice.embeddings)} utterances (embeddings only, in "
          f"{VoiceStore().path}); `assistant reload` tells a running daemon")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from assistant.hearing.speakers.store import VoiceStore, VoiceStoreError

    _config(args)
    store = VoiceStore()
    try:
        voices = store.load()
    except VoiceStoreError as exc:
        raise UserError(str(exc)) from None
    rows = [{"name": v.name, "utterances": len(v.embeddings),
             "enrolled": datetime.datetime.fromtimestamp(v.enrolled_at).isoformat(timespec="seconds")}
            for v in voices.values()]
    if args.json:
        print_json({"speakers": rows, "path": str(store.path)})
        return 0
    if not rows:
        print(f"no voices enrolled ({store.path}): assistant speakers enroll NAME FILE... | --record")
    for row in rows:
        print(f"{row['name']}\t{row['utterances']} utterances\tenrolled {row['enrolled']}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from assistant.hearing.speakers.store import VoiceStore, VoiceStoreError

    _config(args)
    try:
        removed = VoiceStore().remove(args.name)
    except VoiceStoreError as exc:
        raise UserError(str(exc)) from None
    if not removed:
        raise UserError(f"no voice enrolled as {args.name!r} (assistant speakers list)")
    print(f"removed {args.name.lower()}")
    return 0


def cmd_identify(args: argparse.Namespace) -> int:
    from assistant.audio.sources import read_wav_pcm
    from assistant.hearing.speakers.encoder import SpeakerEncoder
    from assistant.hearing.speakers.identify import Identifier
    from assistant.hearing.speakers.store import VoiceStore, VoiceStoreError

    config = _config(args)
    try:
        voices = VoiceStore().load()
    except VoiceStoreError as exc:
        raise UserError(str(exc)) from None
    if not voices:
        raise UserError("no voices enrolled: assistant speakers enroll NAME FILE...")
    identifier = Identifier(SpeakerEncoder(), voices, config.speakers.threshold)
    results = []
    for name in args.files:
        if not Path(name).is_file():
            raise UserError(f"{name}: no such file")
        found = identifier.identify(read_wav_pcm(name))
        results.append({"file": name, "speaker": found.speaker, "score": found.score, "closest": found.closest})
    if args.json:
        print_json({"results": results, "threshold": identifier.threshold})
    for row in [] if args.json else results:
        score = "-" if row["score"] is None else f"{row['score']:.3f}"
        sys.stdout.write(f"{row['file']}\t{row['speaker'] or 'unknown'}\t{score} (closest: {row['closest']}, "
                         f"threshold {identifier.threshold:.2f})\n")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("speakers", help="enrol, list and remove the voices the assistant knows by name")
    sub = parser.add_subparsers(dest="speakers_command", metavar="ACTION", required=True)
    p = sub.add_parser("enroll", help="learn a person's voice from WAV files or the microphone (embeddings only)")
    p.add_argument("name", help="the person's name (letters, digits, '_', '-'; e.g. alice)")
    p.add_argument("files", nargs="*", metavar="FILE", help="WAV files of them speaking (3 sentences or more)")
    p.add_argument("--record", action="store_true", help="record them now from the configured input, prompted")
    p.add_argument("--count", type=int, default=3, choices=range(1, 11), metavar="N",
                   help="sentences to record with --record (default 3)")
    p.add_argument("--add", action="store_true", help="add to their enrolled voice instead of replacing it")
    p.set_defaults(handler=cmd_enroll)
    p = sub.add_parser("list", help="the enrolled voices")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_list)
    p = sub.add_parser("remove", help="forget a person's voice")
    p.add_argument("name")
    p.set_defaults(handler=cmd_remove)
    p = sub.add_parser("identify", help="who speaks in WAV files, with the similarity (to choose a threshold)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_identify)
