"""``assistant bench latency|cutoffs|idle|tts|barge-in|wake``: live-path measurements, as tables or JSON."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from assistant.bench.stats import COMMAND_CATEGORIES, DEFAULT_MANIFEST, Recording, fmt, read_manifest


def _recordings(args: argparse.Namespace) -> list[Recording]:
    from assistant.cli.main import UserError

    if args.files:
        return [Recording(Path(p), args.reference or "", "file") for p in args.files]
    manifest = Path(args.manifest)
    if not manifest.is_file():
        raise UserError(f"no manifest at {manifest}: pass --manifest PATH or recordings as arguments")
    rows = read_manifest(manifest, args.category or COMMAND_CATEGORIES)
    if not rows:
        raise UserError(f"{manifest}: no rows in categories {args.category or list(COMMAND_CATEGORIES)}")
    return rows[: args.limit] if args.limit else rows


def _config(args: argparse.Namespace) -> Any:
    from assistant.cli.core import setup_logging
    from assistant.config.schema import load

    config, _ = load(args.config)
    setup_logging(args, config)
    if getattr(args, "hangover_ms", None) is not None:
        config.vad.hangover_ms = args.hangover_ms
    for name in getattr(args, "set", None) or []:  # --set asr.beam_size=5
        key, _, value = name.partition("=")
        section, _, field = key.partition(".")
        setattr(getattr(config, section), field, value)
    return config


def _emit(args: argparse.Namespace, result: dict[str, Any], text: str) -> None:
    from assistant.bench.latency import dumps

    if args.json:
        sys.stdout.write(dumps(result) + "\n")
    else:
        print(text)


def cmd_latency(args: argparse.Namespace) -> int:
    from assistant.bench import latency

    config = _config(args)
    result = latency.run(config, _recordings(args))
    _emit(args, result, latency.table(result))
    return 0


def cmd_cutoffs(args: argparse.Namespace) -> int:
    from assistant.bench import cutoffs

    config = _config(args)
    manifest = Path(args.manifest)
    as_is = [] if args.files else read_manifest(manifest, ["vad_endpointing"]) if manifest.is_file() else []
    if not args.files and not args.category:
        args.category = list(cutoffs.CATEGORIES)
    result = cutoffs.run(config, _recordings(args), as_is)
    _emit(args, result, cutoffs.table(result))
    return 0


def cmd_idle(args: argparse.Namespace) -> int:
    from assistant.bench import idle

    result = (idle.watch_pid(args.pid, args.seconds) if args.pid else
              idle.run_in_process(_config(args), args.seconds, args.room))
    _emit(args, result, f"idle for {result['seconds']} s: {result['cpu_percent_of_one_core']:.2f} % of one core, "
                        f"RSS {result['rss_mib']:.0f} MiB" + (f" (pid {result['pid']})" if result["pid"] else
                                                                f" (in-process pipeline, {result['mode']} mode, on "
                                                                f"{result['audio']}: {result['turns']} turns)"))
    return 0


def cmd_tts(args: argparse.Namespace) -> int:
    from assistant.app.build import build_sink, build_synthesizer
    from assistant.audio.sinks import NullSink
    from assistant.bench import tts

    config = _config(args)
    synthesizer = build_synthesizer(config)
    sink = build_sink(config) if args.device else NullSink()  # the first sample is what is timed
    try:
        rows = [tts.first_audio(synthesizer, sink, text, args.runs) for text in (tts.SHORT, tts.LONG)]
    finally:
        sink.close()
    lines = [f"end of text -> first sample written ({rows[0]['sink']}, {args.runs} runs each)"]
    lines += [f"  median {fmt(r['median'], 1)} ms, p90 {fmt(r['p90'], 1)} ms: {r['text'][:50]!r}" for r in rows]
    _emit(args, {"runs": rows}, "\n".join(lines))
    return 0


def cmd_barge_in(args: argparse.Namespace) -> int:
    from assistant.app.build import build_synthesizer
    from assistant.bench import bargein

    config = _config(args)
    result = bargein.run(build_synthesizer(config), _recordings(args), config.barge_in, delay_ms=args.delay_ms,
                         echo_gain=args.echo_gain, rt60_ms=args.rt60_ms, replies=args.replies)

    def ms(value: float | None) -> str:
        return "missed" if value is None else fmt(value)

    by_file: dict[str, list[dict[str, Any]]] = {}
    for row in result["utterances"]:
        by_file.setdefault(row["file"], []).append(row)
    lines = [f"{'recording':40} {'cold (ms, per reply)':>24} {'warm (ms, per reply)':>24}"]
    lines += [f"{name[:40]:40} {' '.join(ms(r['cold_ms']) for r in rows):>24} "
              f"{' '.join(ms(r['warm_ms']) for r in rows):>24}" for name, rows in by_file.items()]
    for state, what in (("cold", "fresh gate"), ("warm", "has learnt this room")):
        stop = result[state]["stop_ms"]
        lines.append(f"{state} ({what}): barge-in stop latency median {fmt(stop['median'])} ms, p90 "
                     f"{fmt(stop['p90'])} ms after speech onset; missed {result[state]['missed']} of "
                     f"{len(result['utterances'])}; false trigger on own voice in {result[state]['false_triggers']} "
                     f"of {result['replies']} replies")
    text = "\n".join(lines)
    _emit(args, result, text)
    return 0


def cmd_asr_knobs(args: argparse.Namespace) -> int:
    from assistant.bench import knobs
    from assistant.hearing.models import resolve_whisper

    config = _config(args)
    location = resolve_whisper(config.asr.model, config.asr.cache_dir).location
    rows = knobs.run(str(location), _recordings(args))
    lines = [f"{'variant':40} {'median s':>9} {'max s':>7} {'WER':>6}"]
    lines += [f"{r['variant']:40} {r['median_s']:9.3f} {r['max_s']:7.3f} {r['wer']:6.3f}" for r in rows]
    _emit(args, {"model": config.asr.model, "variants": rows}, "\n".join(lines))
    return 0


def cmd_wake(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from assistant.bench import wake, wake_audio, wake_table
    from assistant.cli.main import UserError
    from assistant.hearing.wake_word import ENGINES

    data = Path(args.data)
    if not (data / "manifest.tsv").is_file():
        raise UserError(f"no manifest.tsv in {data}: pass --data with the speech folder (../shared/speech)")
    engines = ENGINES if args.engine == "both" else (args.engine,)
    options = wake.Options(data=data, engines=engines, models=args.model or tuple(wake_audio.PHRASES), seed=args.seed,
                           threshold=args.threshold, long_hours=args.long_hours,
                           long_engines=ENGINES if args.long_engine == "both" else (args.long_engine,),
                           transcript=not args.no_transcript, piper=not args.no_piper, cpu_runs=args.cpu_runs,
                           every=args.every, confirm_from=args.confirm_from, confirm_below=args.confirm_below)
    if args.quick:
        options = replace(options, voices=wake_audio.ESPEAK_VOICES[:2], variants=wake_audio.ESPEAK_VARIANTS[:3],
                          speeds=wake_audio.ESPEAK_SPEEDS[-1:])
    started = time.monotonic()
    result = wake.run(options, progress=lambda line: print(f"[{time.monotonic() - started:6.0f} s] {line}",
                                                           file=sys.stderr, flush=True))
    _emit(args, result, wake_table.table(result))
    return 0


def cmd_vision(args: argparse.Namespace) -> int:
    from assistant.bench import vision

    _config(args)
    result = vision.run()
    _emit(args, result, vision.table(result))
    return 0


def _add_recordings(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", help="WAV files (default: the manifest's command recordings)")
    p.add_argument("--manifest", default=str(DEFAULT_MANIFEST), help="TSV manifest (file, reference_transcript, "
                   "category)")
    p.add_argument("--category", action="append", help="manifest categories (repeatable; default: "
                   + ", ".join(COMMAND_CATEGORIES) + ")")
    p.add_argument("--reference", help="reference transcript for WAV files given as arguments")
    p.add_argument("--limit", type=int, default=0, help="use only the first N recordings")


def main(what: str, argv: list[str] | None = None) -> int:
    """Run one bench subcommand standalone (the benchmarks/*.py wrappers): ``assistant bench WHAT ...``."""
    from assistant.cli.main import UserError

    parser = argparse.ArgumentParser(prog="assistant")
    parser.set_defaults(config=None, verbose=False)
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", what, *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.handler(args))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code


def cmd_speakers(args: argparse.Namespace) -> int:
    import json

    from assistant.bench import speakers

    _config(args)
    result = speakers.run(Path(args.data), seed=args.seed, piper=not args.no_piper, max_trials=args.trials)
    if args.write_background:
        Path(args.write_background).write_text(json.dumps({
            "about": "the mean Resemblyzer embedding of the real voices of the shared speech set (assistant bench "
                     "speakers): what every voice shares, taken away before voices are compared",
            "utterances": result["background_utterances"], "mean": result["background"]}) + "\n", encoding="utf-8")
    result.pop("background")
    _emit(args, result, speakers.table(result))
    return 0


def _add_common(p: argparse.ArgumentParser) -> None:
    # also accepted after the subcommand, so the benchmarks/*.py wrappers take them too
    p.add_argument("-c", "--config", metavar="PATH", default=argparse.SUPPRESS, help="config file")
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = subparsers.add_parser("bench", help="measure latency, idle cost, speech output and barge-in")
    sub = bench.add_subparsers(dest="bench_command", metavar="WHAT", required=True)

    p = sub.add_parser("vision", help="OCR accuracy and time, face counting, empty frames (nothing invented)")
    _add_common(p)
    p.set_defaults(handler=cmd_vision)

    p = sub.add_parser("latency", help="per-turn latency on real recordings played in real time")
    _add_recordings(p)
    p.add_argument("--hangover-ms", type=int, help="override vad.hangover_ms")
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help="override a config value")
    _add_common(p)
    p.set_defaults(handler=cmd_latency)

    p = sub.add_parser("cutoffs", help="false cut-offs: turns ended inside a 0.5-1 s pause inserted mid-sentence")
    _add_recordings(p)
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help="override a config value")
    _add_common(p)
    p.set_defaults(handler=cmd_cutoffs)

    p = sub.add_parser("idle", help="CPU and memory while listening to silence")
    p.add_argument("--seconds", type=float, default=60.0, help="how long to measure")
    p.add_argument("--pid", type=int, help="watch this running daemon instead of an in-process pipeline")
    p.add_argument("--room", metavar="WAV", help="play this recording in a loop instead of silence (speech that "
                   "is not said to the assistant: compare listen modes with --set listen.mode=...)")
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help="override a config value")
    _add_common(p)
    p.set_defaults(handler=cmd_idle)

    p = sub.add_parser("tts", help="end of reply text -> first audio sample")
    p.add_argument("--runs", type=int, default=20, help="repetitions per text")
    p.add_argument("--device", action="store_true", help="play on the configured output device, not a null sink")
    _add_common(p)
    p.set_defaults(handler=cmd_tts)

    p = sub.add_parser("wake", help="wake words: detection, false accepts per hour, CPU, latency; acoustic vs "
                       "transcript")
    p.add_argument("--data", default=str(DEFAULT_MANIFEST.parent), help="the speech folder (manifest.tsv)")
    p.add_argument("--engine", choices=("micro", "openwakeword", "both"), default="both", help="acoustic engine")
    p.add_argument("--model", action="append", help="bundled model (repeatable; default: okay_nabu, hey_jarvis, "
                   "hey_mycroft, alexa)")
    p.add_argument("--threshold", type=float, help="probability cut-off (default: each model's own)")
    p.add_argument("--confirm-from", type=float, help="candidates from this probability to the cut-off count if "
                   "Whisper hears the phrase (listen.wake_word.confirm_from; default: off)")
    p.add_argument("--confirm-below", type=float, help="with --confirm-from, detections less sure than this are "
                   "confirmed too (listen.wake_word.confirm_below)")
    p.add_argument("--seed", type=int, default=0, help="noise choice and offsets")
    p.add_argument("--long-hours", type=float, default=1.0, help="hours of long negative audio (0: none)")
    p.add_argument("--long-engine", choices=("micro", "openwakeword", "both"), default="micro",
                   help="engines run on the long negatives")
    p.add_argument("--no-transcript", action="store_true", help="skip the Whisper + match_wake rows")
    p.add_argument("--no-piper", action="store_true", help="espeak-ng voices only")
    p.add_argument("--quick", action="store_true", help="few voices (a smoke run)")
    p.add_argument("--every", type=int, default=1, help="keep every Nth synthesised clip (openWakeWord and "
                   "Whisper take ~0.3-0.8 s of CPU per clip)")
    p.add_argument("--cpu-runs", type=int, default=3, help="runs for the CPU median")
    _add_common(p)
    p.set_defaults(handler=cmd_wake)

    p = sub.add_parser("speakers", help="who is speaking: accuracy, false accepts, CPU; the calibrated threshold")
    p.add_argument("--data", default=str(DEFAULT_MANIFEST.parent), help="the speech folder (manifest.tsv)")
    p.add_argument("--seed", type=int, default=0, help="enrolment choices, noise choice and offsets")
    p.add_argument("--trials", type=int, default=200, help="most trials (3 enrolled voices each)")
    p.add_argument("--no-piper", action="store_true", help="no Piper voice")
    p.add_argument("--write-background", metavar="JSON", help="also write the background voice (the mean "
                   "embedding of every real voice here) to this file (assistant/data/speaker_background.json)")
    _add_common(p)
    p.set_defaults(handler=cmd_speakers)

    p = sub.add_parser("asr-knobs", help="recognition time and WER for beam size, timestamps, threads, int8 variants")
    _add_recordings(p)
    _add_common(p)
    p.set_defaults(handler=cmd_asr_knobs)

    p = sub.add_parser("barge-in", help="echo-gate decision latency and false triggers on real recordings")
    _add_recordings(p)
    p.add_argument("--delay-ms", type=int, default=90, help="simulated speaker-to-mic delay")
    p.add_argument("--echo-gain", type=float, default=0.5, help="simulated echo level (1.0: as loud as played)")
    p.add_argument("--rt60-ms", type=int, default=0, help="simulated room reverberation time (0: direct path only)")
    p.add_argument("--replies", type=int, default=3, choices=(1, 2, 3), help="replies each recording is tried over")
    _add_common(p)
    p.set_defaults(handler=cmd_barge_in)
