"""Build the backends the config asks for. The pipeline only ever sees their Protocols."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assistant.audio.echo_gate import EchoGate
from assistant.audio.sinks import AudioSink, NullSink, PyAudioSink, WavSink
from assistant.audio.sources import AudioSource, Capture, PyAudioSource, StdinSource, WavSource
from assistant.brain.router import Router
from assistant.config.schema import Config, ConfigError
from assistant.hearing.listen import build_listener
from assistant.hearing.speculative import Speculator
from assistant.hearing.vad import Endpointer
from assistant.hearing.whisper import Recognizer, WhisperRecognizer
from assistant.speech.base import SilentSynthesizer, Synthesizer
from assistant.speech.earcons import Earcons
from assistant.turn.pipeline import Pipeline


def build_source(config: Config) -> AudioSource:
    audio = config.audio
    if audio.source == "wav":
        if not audio.input_wav:
            raise ConfigError(["audio.input_wav: required when audio.source is 'wav'"])
        return WavSource(audio.input_wav, realtime=audio.realtime, chunk_ms=audio.buffer_ms)
    if audio.source == "stdin":
        return StdinSource(audio.stdin_rate, chunk_ms=audio.buffer_ms)
    return PyAudioSource(audio.input_device, rate=audio.sample_rate, buffer_ms=audio.buffer_ms)


def build_sink(config: Config, output_wav: str | Path | None = None) -> AudioSink:
    audio = config.audio
    if output_wav is not None:
        return WavSink(output_wav)
    if audio.sink == "null":
        return NullSink()
    if audio.sink == "wav":
        if not audio.output_wav:
            raise ConfigError(["audio.output_wav: required when audio.sink is 'wav'"])
        return WavSink(audio.output_wav)
    return PyAudioSink(audio.output_device)


def build_synthesizer(config: Config) -> Synthesizer:
    if config.tts.engine == "null":
        return SilentSynthesizer()
    if config.tts.engine == "piper":
        from assistant.speech.piper_engine import PiperSynthesizer

        return PiperSynthesizer(config.tts)
    from assistant.speech.pyttsx3_engine import Pyttsx3Synthesizer

    return Pyttsx3Synthesizer(config.tts)


def build_recognizer(config: Config) -> WhisperRecognizer:
    return WhisperRecognizer(config.asr)


def build_router(config: Config, config_path: Path | None = None, *,
                 speak: Callable[[str], None] | None = None, llm: bool = True, dry_run: bool = False) -> Router:
    """Skills and user commands (commands.d includes resolve next to ``config_path``), then the LLM."""
    from assistant.app.router import build_router as build
    from assistant.brain.llm_fallback import LlmFallback

    fallback = LlmFallback(config) if llm else None
    router = build(config, speak=speak, fallback=fallback, config_path=config_path, dry_run=dry_run)
    if fallback is not None:
        fallback.bind(router)
    return router


def build_speculator(config: Config, recognizer: Recognizer,
                     prompt: Callable[[], str | None] | None = None,
                     complete: Callable[[str], bool] | None = None) -> Speculator | None:
    """Speculative ASR; with latency.adaptive_end, ``complete`` (a transcript that is a whole command) and
    the Smart Turn model (latency.turn_model) may end a turn before the full hangover."""
    latency = config.latency
    if not (latency.speculative or latency.adaptive_end):
        return None
    turn_model = None
    if latency.adaptive_end and latency.turn_model:
        from assistant.hearing.turn_model import TurnModel

        turn_model = TurnModel()
    return Speculator(recognizer, after_ms=latency.speculative_after_ms, turn_model=turn_model,
                      turn_threshold=latency.turn_threshold,
                      adaptive_min_ms=latency.adaptive_min_ms if latency.adaptive_end else None, prompt=prompt,
                      complete=complete if latency.adaptive_end else None,
                      quick_window_s=(latency.quick_window_s or None) if latency.adaptive_end else None)


def speculator_for(config: Config, recognizer: Recognizer, pipeline: Callable[[], Pipeline]) -> Speculator | None:
    """A pipeline's speculator: its prompt and its "a whole command?" check follow the pipeline's current
    listener and router, which a reload replaces."""
    def complete(text: str) -> bool:
        return pipeline().router.is_complete_request(pipeline().listener.request_text(text))

    return build_speculator(config, recognizer, prompt=lambda: pipeline().listener.initial_prompt, complete=complete)


def build_stop_phrase() -> Callable[[str], bool]:
    """Whether a transcript is one of the stop skill's phrases, matched as the router matches them (even
    when the stop skill is turned off: "stop" always interrupts a reply)."""
    from assistant.brain.intents import CommandSet, build_matcher

    matcher = build_matcher(CommandSet(), ["stop"])

    def is_stop(text: str) -> bool:
        match = matcher.match(text)
        return match is not None and match.intent == "stop"

    return is_stop


def build_endpointer(config: Config, speculator: Speculator | None) -> Endpointer:
    """The endpointer; with latency.adaptive_end it may end a turn early when the speculation says so."""
    end_early = speculator.should_end_early if speculator is not None and config.latency.adaptive_end else None
    return Endpointer(config.vad, end_early=end_early)


def build_turn_taking(config: Config, gate: EchoGate | None = None) -> tuple[EchoGate | None,
                                                                             Callable[[str], bool] | None]:
    """The echo gate and stop-phrase matcher ``config.turn`` needs. A reload passes the running ``gate``:
    it is kept, with what it learnt about the room, and takes the new ``barge_in`` settings."""
    barge_in = config.turn.policy == "barge_in"
    stop_words = config.turn.policy == "half_duplex" and config.turn.stop_words_while_speaking
    if not (barge_in or stop_words):
        return None, None
    if gate is None:
        gate = EchoGate(config.barge_in)
    gate.config = config.barge_in
    return gate, build_stop_phrase() if stop_words else None


def build_pipeline(config: Config, source: AudioSource, sink: AudioSink, *,
                   config_path: Path | None = None,
                   recognizer: WhisperRecognizer | None = None,
                   synthesizer: Synthesizer | None = None) -> Pipeline:
    # A live device that disappears is reopened; a file or pipe that ends is the end of the stream.
    reopen = (lambda: build_source(config)) if isinstance(source, PyAudioSource) else None
    announcer = _Announcer()
    router = build_router(config, config_path, speak=announcer)
    listener = build_listener(config, vocabulary=router.vocabulary())
    recognizer = recognizer or build_recognizer(config)
    speculator = speculator_for(config, recognizer, lambda: pipeline)
    echo_gate, stop_phrase = build_turn_taking(config)
    pipeline = Pipeline(
        capture=Capture(source, frame_ms=config.vad.frame_ms, queue_s=config.audio.queue_s, reopen=reopen),
        endpointer=build_endpointer(config, speculator),
        recognizer=recognizer,
        router=router,
        synthesizer=synthesizer or build_synthesizer(config),
        sink=sink,
        echo_tail_s=config.turn.echo_tail_ms / 1000,
        listener=listener,
        speculator=speculator,
        echo_gate=echo_gate,
        policy=config.turn.policy,
        stop_phrase=stop_phrase,
        earcons=Earcons(config.earcons, sink),
        lookahead=config.speech_out.lookahead,
        max_chars=config.speech_out.max_chars,
    )
    announcer.pipeline = pipeline
    return pipeline


def warm_up(pipeline: Pipeline) -> None:
    """Load what would otherwise load on first use (the LLM) and prime it, so the first turn is as fast
    as the rest: the daemon does this before READY=1, simulate and the benchmarks before audio starts."""
    fallback = getattr(pipeline.router, "fallback", None)
    load = getattr(fallback, "load", None)
    if callable(load):
        load(warm=True)


class _Announcer:
    """Lets skills (a timer going off) speak through the pipeline, which is built after the router."""

    pipeline: Pipeline | None = None

    def __call__(self, text: str) -> None:
        if self.pipeline is not None:
            self.pipeline.submit_text(text, route=False)
