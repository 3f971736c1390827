"""Core subcommands: run, simulate, transcribe, segments, say, voices, devices, config check/show."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from assistant.cli.main import UserError, print_json
from assistant.config.schema import EX_CONFIG, Config, ConfigError, LoggingConfig, dump, load
from assistant.events import TurnReport
from assistant.service import logs

log = logging.getLogger("assistant")


def setup_logging(args: argparse.Namespace, config: Config | None = None) -> None:
    """Logging for a one-shot command: warnings only, unless -v."""
    logging_config = config.logging if config is not None else LoggingConfig()
    logs.setup_logging(logs.level_for(logging_config, verbose=args.verbose, daemon=False))


def _load(args: argparse.Namespace) -> Config:
    config, _ = load(args.config)
    return config


def _configured(args: argparse.Namespace) -> Config:
    """The config, with logging set up from it."""
    config = _load(args)
    setup_logging(args, config)
    return config


# ---- run ---------------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    from assistant.app.daemon import run_daemon

    return run_daemon(args)


# ---- simulate ------------------------------------------------------------------------------------

def cmd_simulate(args: argparse.Namespace) -> int:
    from assistant.app.build import build_pipeline, warm_up
    from assistant.audio.sinks import NullSink, WavSink
    from assistant.audio.sources import WavSource

    config, config_path = load(args.config)
    setup_logging(args, config)
    # trailing silence lets the endpointer's hangover run out as it would after a live utterance
    source = WavSource(args.wav, realtime=args.realtime, chunk_ms=config.audio.buffer_ms,
                       tail_silence_s=config.vad.hangover_ms / 1000 + 0.5)
    # unpaced, a whole file lands in the capture queue at once: make room for all of it
    config.audio.queue_s = min(3600.0, max(config.audio.queue_s, source.duration_s + 30))
    sink = WavSink(args.output) if args.output else NullSink(realtime=args.realtime)
    turns: list[TurnReport] = []
    pipeline = build_pipeline(config, source, sink, config_path=config_path)
    pipeline.on_turn = turns.append
    warm_up(pipeline)
    try:
        pipeline.run()
    finally:
        pipeline.close()
        sink.close()
        source.close()
    out = [t.as_dict() for t in turns]
    if args.json:
        print_json({"turns": out, "model": config.asr.model, "realtime": args.realtime})
    else:
        for turn in out:
            latency = ", ".join(f"{k} {v:.0f} ms" for k, v in turn["latency_ms"].items())
            print(f"[{turn['speech_start']:.2f}-{turn['speech_end']:.2f} s] you: {turn['transcript']!r}")
            print(f"    assistant: {turn['reply'] or '(' + str(turn['dropped'] or turn['error']) + ')'}")
            print(f"    latency: {latency}")
        if args.output:
            print(f"reply audio written to {args.output}")
    return 0


# ---- transcribe / segments -------------------------------------------------------------------------

def cmd_transcribe(args: argparse.Namespace) -> int:
    from assistant.app.build import build_recognizer
    from assistant.audio.sources import read_wav_pcm

    config = _configured(args)
    if args.model:
        config.asr.model = args.model
    pcm = read_wav_pcm(args.wav)
    recognizer = build_recognizer(config)
    transcript = recognizer.transcribe(pcm, vad_filter=True)
    if args.json:
        print_json({
            "text": transcript.text,
            "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in transcript.segments],
            "model": transcript.model,
            "asr_ms": round(transcript.asr_s * 1000, 1),
        })
    else:
        print(transcript.text)
    return 0


def cmd_segments(args: argparse.Namespace) -> int:
    from assistant.audio.sources import read_wav_pcm
    from assistant.events import SAMPLE_RATE, SAMPLE_WIDTH, AudioFrame
    from assistant.hearing.vad import segments

    config = _configured(args)
    pcm = read_wav_pcm(args.wav)
    frame_bytes = SAMPLE_RATE * config.vad.frame_ms // 1000 * SAMPLE_WIDTH
    frames = [AudioFrame(pcm[i : i + frame_bytes], i / SAMPLE_WIDTH / SAMPLE_RATE, 0.0)
              for i in range(0, len(pcm) - frame_bytes + 1, frame_bytes)]
    found = segments(frames, config.vad)
    if args.json:
        print_json({"segments": [{"start": round(s.start, 3), "end": round(s.end, 3)} for s in found]})
    else:
        for s in found:
            print(f"{s.start:8.2f} {s.end:8.2f}")
    return 0


# ---- speech out ----------------------------------------------------------------------------------

def cmd_say(args: argparse.Namespace) -> int:
    from assistant.app.build import build_sink, build_synthesizer
    from assistant.speech.text import split_sentences

    config = _configured(args)
    if args.voice:
        config.tts.voice = args.voice
    text = " ".join(args.text)
    sentences = split_sentences(text)
    if not sentences:
        raise UserError("nothing to say: the text is empty (after removing markup and control characters)")
    synthesizer = build_synthesizer(config)
    sink = build_sink(config, args.output)
    try:
        for sentence in sentences:
            pcm, rate = synthesizer.synthesize(sentence)
            sink.play(pcm, rate)
    finally:
        sink.close()
    if args.output:
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from assistant.app.build import build_synthesizer

    config = _load(args)
    voices = build_synthesizer(config).voices()
    if args.json:
        print_json({"voices": voices})
    else:
        for voice in voices:
            print(f"{voice['id']:<24} {voice['name']:<32} {voice['languages']}")
    return 0


def cmd_wake_words(args: argparse.Namespace) -> int:
    """The bundled wake-word models; with a WAV file, where the configured ones fire in it."""
    from dataclasses import asdict

    from assistant.hearing.wake_word import WakeWordError, WakeWords, bundled_models

    if not args.wav:
        models = bundled_models()
        if args.json:
            print_json({"wake_words": [asdict(model) for model in models]})
        for model in [] if args.json else models:
            print(f"{model.name:<14} {model.engine:<13} \"{model.phrase}\" (threshold {model.threshold:g})")
        return 0
    wake_word = _load(args).listen.wake_word
    try:
        detector = WakeWords(args.engine or wake_word.engine, args.model or wake_word.models,
                             threshold=wake_word.threshold, refractory_s=wake_word.refractory_s)
    except WakeWordError as exc:
        raise UserError(str(exc)) from None
    from assistant.audio.sources import WavSource

    source = WavSource(args.wav, realtime=False)
    detections = []
    while (pcm := source.read()) is not None:
        detection = detector.feed(pcm)
        if detection is not None:
            detections.append(asdict(detection))
    if args.json:
        print_json({"detections": detections, "audio_s": round(detector.audio_s, 3)})
    for found in [] if args.json else detections:
        print(f"{found['end_s']:8.2f} s  {found['model']} (p={found['probability']:.2f})")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from assistant.audio.devices import list_devices, open_pyaudio

    pa = open_pyaudio()
    try:
        devices = list_devices(pa)
    finally:
        pa.terminate()
    if args.json:
        print_json({"devices": devices})
        return 0
    if not devices:
        print("no audio devices found (no sound card, and no PulseAudio/PipeWire server reachable)")
    for d in devices:
        kinds = "/".join(k for k, n in (("in", d["inputs"]), ("out", d["outputs"])) if n)
        print(f"#{d['index']:<3} {kinds:<7} {d['default_rate']:>6} Hz  {d['name']}")
    return 0


# ---- config ----------------------------------------------------------------------------------------

def config_problems(config: Config, path: Path | None) -> list[str]:
    """Problems that need more than the schema: files, models, commands."""
    from assistant.app.checks import deep_check

    return deep_check(config, path)


def cmd_config_check(args: argparse.Namespace) -> int:
    explicit = args.path or args.config
    try:
        config, path = load(explicit)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{exc.source + ': ' if exc.source else ''}{problem}")
        return EX_CONFIG
    problems = config_problems(config, path)
    for problem in problems:
        print(f"{path or 'built-in defaults'}: {problem}")
    if problems:
        return EX_CONFIG
    print(f"OK: {path or 'built-in defaults (no config file found)'}")
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    config, path = load(args.config)
    print(f"# effective configuration from {path or 'built-in defaults'}")
    print(dump(config), end="")
    return 0


def cmd_config_default(args: argparse.Namespace) -> int:
    from assistant.config.doc import documented_default

    print(documented_default(), end="")
    return 0


# ---- registration ----------------------------------------------------------------------------------

def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the assistant daemon in the foreground")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("simulate", help="run the whole pipeline on a recording as if it came from the mic")
    p.add_argument("wav", help="16-bit PCM WAV file")
    p.add_argument("--realtime", action="store_true", help="feed the audio at real-time pace (honest latencies)")
    p.add_argument("--output", metavar="WAV", help="write the spoken replies to this WAV file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_simulate)

    p = sub.add_parser("transcribe", help="transcribe a WAV file with the configured Whisper model")
    p.add_argument("wav")
    p.add_argument("--model", help="override asr.model (bundled name, folder or hub id)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_transcribe)

    p = sub.add_parser("segments", help="the speech segments the endpointer finds in a WAV file")
    p.add_argument("wav")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_segments)

    p = sub.add_parser("say", help="speak text through the configured output (or into a WAV file)")
    p.add_argument("text", nargs="+")
    p.add_argument("--output", metavar="WAV", help="write the speech to this WAV file instead of playing it")
    p.add_argument("--voice", help="voice id or name (see `assistant voices`)")
    p.set_defaults(handler=cmd_say)

    p = sub.add_parser("voices", help="list the synthesizer's voices")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_voices)

    p = sub.add_parser("wake-words", help="list the bundled wake words, or find the configured ones in a WAV file")
    p.add_argument("wav", nargs="?", help="a recording to run the wake word detector on")
    p.add_argument("--engine", choices=["micro", "openwakeword"], help="override listen.wake_word.engine")
    p.add_argument("--model", action="append", help="override listen.wake_word.models (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_wake_words)

    p = sub.add_parser("devices", help="list audio input and output devices")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_devices)

    p = sub.add_parser("config", help="check or show the configuration")
    config_sub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = config_sub.add_parser("check", help="validate a config file: exit 0, or 78 with one problem per line")
    c.add_argument("path", nargs="?", help="file to check (default: the one `run` would use)")
    c.set_defaults(handler=cmd_config_check)
    c = config_sub.add_parser("show", help="print the effective configuration as YAML")
    c.set_defaults(handler=cmd_config_show)
    c = config_sub.add_parser("default", help="print every key at its default, with a comment on each")
    c.set_defaults(handler=cmd_config_default)
