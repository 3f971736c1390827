"""The one place that builds stages from a config: at start and on reload alike. The pipeline only ever
sees their Protocols."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.app.router import build_router as build_commands_router
from assistant.audio.echo_gate import EchoGate
from assistant.audio.sinks import AudioSink, NullSink, PyAudioSink, WavSink
from assistant.audio.sources import AudioSource, Capture, PyAudioSource, StdinSource, WavSource
from assistant.brain.intents import CommandSet, build_matcher
from assistant.brain.llm.base import LlmError
from assistant.brain.llm.weights import bundled, bundled_gguf
from assistant.brain.llm_fallback import LlmFallback
from assistant.brain.router import Router
from assistant.config.schema import Config, ConfigError
from assistant.hearing.listen import build_listener
from assistant.hearing.sentence_end import SentenceEnd
from assistant.hearing.speakers.watch import build_speaker_watch
from assistant.hearing.speculative import Speculator
from assistant.hearing.turn_model import TurnModel
from assistant.hearing.vad import Endpointer
from assistant.hearing.wake_confirm import hears_phrase
from assistant.hearing.wake_word import WakeDetector, WakeWordError, WakeWords
from assistant.hearing.whisper import Recognizer, WhisperRecognizer
from assistant.speech.base import SilentSynthesizer, Synthesizer
from assistant.speech.earcons import Earcons
from assistant.speech.streaming import Speaker
from assistant.turn.items import TurnPolicy
from assistant.turn.pipeline import Pipeline
from assistant.turn.stages import Stages, TurnTaking
from assistant.turn.wake import WakeListening

if TYPE_CHECKING:
    from assistant.remote.esphome.satellite import EsphomeSatellite

log = logging.getLogger(__name__)


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
    if config.tts.engine == "wyoming":
        from assistant.remote.wyoming.tts_client import WyomingSynthesizer

        tts, local = config.tts, config.tts.fallback
        fallback = (lambda: build_synthesizer(config.model_copy(update={"tts": tts.model_copy(
            update={"engine": local})}))) if local else None
        return WyomingSynthesizer(tts.uri, voice=tts.voice, timeout_s=tts.timeout_s, fallback=fallback)
    if config.tts.engine == "null":
        return SilentSynthesizer()
    if config.tts.engine == "piper":
        from assistant.speech.piper_engine import PiperSynthesizer

        return PiperSynthesizer(config.tts)
    from assistant.speech.pyttsx3_engine import Pyttsx3Synthesizer

    return Pyttsx3Synthesizer(config.tts)


def build_recognizer(config: Config) -> Recognizer:
    if config.asr.engine == "wyoming":
        from assistant.remote.wyoming.asr_client import WyomingRecognizer

        asr = config.asr
        return WyomingRecognizer(asr.uri, timeout_s=asr.timeout_s, language=asr.language,
                                 fallback=(lambda: WhisperRecognizer(asr)) if asr.fallback else None)
    return WhisperRecognizer(config.asr)


@functools.cache  # one per process: reloads and the stages they swap in share it (it holds a lock)
def load_sentence_end(model: str, cache_dir: str | None = None, threads: int = 2) -> SentenceEnd | None:
    """The model named in ``latency.sentence_end_model`` (a bundled model's name or a .gguf path), or None when
    it is turned off (""). A bundled model whose package or llama.cpp is not installed only costs the cue (a
    warning); a path that is not a model is an error."""
    if not model:
        return None
    if bundled(model) is None:
        gguf = Path(model).expanduser()
        try:
            return SentenceEnd(gguf, threads)
        except ImportError:
            raise ConfigError(["latency.sentence_end_model: needs llama-cpp-python (pip install llama-cpp-python)"]) \
                from None
        except ValueError as exc:  # llama.cpp's word for a missing file or one that is not a GGUF model
            raise ConfigError([f"latency.sentence_end_model: {gguf} is not a GGUF model ({exc})"]) from None
    try:
        return SentenceEnd(bundled_gguf(model, cache_dir), threads)
    except (ImportError, LlmError, ValueError) as exc:  # the cue is optional: the end of turn works without it
        why = "llama-cpp-python is not installed" if isinstance(exc, ImportError) else str(exc)
        log.warning("the end of turn goes without its language model: %s (latency.sentence_end_model: '' "
                    "turns it off)", why)
        return None


def build_speculator(config: Config, recognizer: Recognizer,
                     prompt: Callable[[], str | None] | None = None,
                     is_request: Callable[[str], bool] | None = None,
                     prepare: Callable[[str], object] | None = None) -> Speculator | None:
    """Speculative ASR; with latency.adaptive_end, the end of turn for every utterance (``is_request``: a
    transcript that is exactly a whole command; the Smart Turn model with latency.turn_model)."""
    latency = config.latency
    if not (latency.speculative or latency.adaptive_end):
        return None
    adaptive = latency.adaptive_end
    turn_model = TurnModel() if adaptive and latency.turn_model else None
    sentence_end = load_sentence_end(latency.sentence_end_model, config.llm.cache_dir) if adaptive else None
    return Speculator(recognizer, after_ms=latency.speculative_after_ms, turn_model=turn_model,
                      turn_threshold=latency.turn_threshold,
                      end_min_ms=latency.adaptive_min_ms if adaptive else None, max_pause_ms=latency.max_pause_ms,
                      maybe_pause_ms=latency.maybe_pause_ms,
                      prompt=prompt, is_request=is_request,
                      quick_window_s=(latency.quick_window_s or None) if adaptive else None, prepare=prepare,
                      sentence_end=sentence_end.log10_probability if sentence_end is not None else None)


def build_stop_phrase() -> Callable[[str], bool]:
    """Whether a transcript is one of the stop skill's phrases, matched as the router matches them (even
    when the stop skill is turned off: "stop" always interrupts a reply)."""
    matcher = build_matcher(CommandSet(), ["stop"])

    def is_stop(text: str) -> bool:
        match = matcher.match(text)
        return match is not None and match.intent == "stop"

    return is_stop


def build_wake_listening(config: Config, recognizer: Recognizer) -> WakeListening | None:
    """wake_word mode's detector and listening state (None in the other modes); a model that cannot be
    loaded is a config error, said in plain words. ``recognizer`` confirms candidates (wake_word.confirm_from)."""
    listen = config.listen
    if listen.mode != "wake_word":
        return None
    wake_word = listen.wake_word
    detector: WakeDetector
    try:
        if wake_word.engine == "wyoming":
            from assistant.remote.wyoming.wake_client import WyomingWakeWords

            detector = WyomingWakeWords(wake_word.uri, wake_word.models, refractory_s=wake_word.refractory_s)
        else:
            detector = WakeWords(wake_word.engine, wake_word.models, threshold=wake_word.threshold,
                                 refractory_s=wake_word.refractory_s, confirm_from=wake_word.confirm_from,
                                 confirm_below=wake_word.confirm_below)
    except (WakeWordError, ValueError) as exc:
        key = "uri" if wake_word.engine == "wyoming" else "models"
        raise ConfigError([f"listen.wake_word.{key}: {exc}"]) from None

    def confirm(pcm: bytes, phrase: str) -> tuple[bool, str]:
        return hears_phrase(recognizer, pcm, phrase, listen.wake_tolerance)

    return WakeListening(detector, window_s=listen.wake_only_window_s, earcon_after_s=wake_word.earcon_after_ms / 1000,
                         confirm=confirm if wake_word.confirm_from is not None else None)


def build_endpointer(config: Config, speculator: Speculator | None) -> Endpointer:
    """The endpointer; with latency.adaptive_end the speculation may end a turn early or keep it open longer."""
    end_of_turn = speculator.end_of_turn if speculator is not None and config.latency.adaptive_end else None
    return Endpointer(config.vad, end_of_turn=end_of_turn)


def build_turn_taking(config: Config, gate: EchoGate | None = None) -> TurnTaking:
    """The echo gate and stop-phrase matcher ``config.turn`` needs. ``gate``, when given, is used as it is
    (a reload passes the running one when neither the devices nor the barge_in settings changed)."""
    policy = TurnPolicy(config.turn.policy)
    barge_in = policy == TurnPolicy.BARGE_IN
    stop_words = policy == TurnPolicy.HALF_DUPLEX and config.turn.stop_words_while_speaking
    if not (barge_in or stop_words):
        return TurnTaking(policy)
    return TurnTaking(policy, gate or EchoGate(config.barge_in), build_stop_phrase() if stop_words else None)


@dataclass(frozen=True)
class Kept:
    """Parts of the running stages that a new config leaves as they were: a reload keeps them (no model
    loads twice, the echo gate keeps what it learnt of the room)."""

    recognizer: Recognizer | None = None
    synthesizer: Synthesizer | None = None
    fallback: LlmFallback | None = None
    echo_gate: EchoGate | None = None


def kept_parts(old: Config, new: Config, stages: Stages) -> Kept:
    """What of ``stages`` (built for ``old``) serves ``new`` unchanged."""
    fallback = stages.fallback if isinstance(stages.fallback, LlmFallback) else None
    # other devices are another room; the gate in use is never handed another room's memory
    same_room = (new.audio, new.barge_in, new.service.room) == (old.audio, old.barge_in, old.service.room)
    return Kept(
        recognizer=stages.recognizer if new.asr == old.asr else None,
        synthesizer=stages.speaker.synthesizer if new.tts == old.tts else None,
        fallback=fallback if (new.llm, new.camera, new.memory, new.router) == (
            old.llm, old.camera, old.memory, old.router) else None,
        echo_gate=stages.turn_taking.echo_gate if same_room else None,
    )


def build_stages(config: Config, sink: AudioSink, *, config_path: Path | None = None,
                 speak: Callable[[str], None] | None = None, kept: Kept = Kept()) -> Stages:
    """Every stage the config decides, for the pipeline (start) or to swap in whole (reload), taking the
    ``kept`` parts of the running set as they are. ``speak`` lets skills (a timer going off) talk."""
    recognizer = kept.recognizer or build_recognizer(config)
    synthesizer = kept.synthesizer or build_synthesizer(config)
    fallback = kept.fallback or LlmFallback(config)
    router = build_commands_router(config, speak=speak, fallback=fallback, config_path=config_path)
    wake = build_wake_listening(config, recognizer)
    phrases = {model.name: model.phrase for model in wake.detector.models} if wake is not None else None
    listener = build_listener(config, vocabulary=router.vocabulary(), wake_word_phrases=phrases)

    def is_request(text: str) -> bool:  # a whole command: the turn may end before the full hangover
        return router.is_complete_request(listener.request_text(text))

    def prefetch(text: str) -> None:  # the seeing skills look while the hangover runs
        router.prefetch(listener.request_text(text))

    speculator = build_speculator(config, recognizer, prompt=lambda: listener.initial_prompt, is_request=is_request,
                                  prepare=prefetch)

    def activate(previous: Stages | None) -> None:
        fallback.bind(router)  # offer this router's commands to the LLM as tools
        router.start()

    return Stages(
        endpointer=build_endpointer(config, speculator),
        recognizer=recognizer,
        listener=listener,
        router=router,
        speaker=Speaker(synthesizer, sink, lookahead=config.speech_out.lookahead,
                        max_chars=config.speech_out.max_chars),
        turn_taking=build_turn_taking(config, kept.echo_gate),
        speculator=speculator,
        wake=wake,
        speaker_id=build_speaker_watch(config),
        earcons=Earcons(config.earcons, sink),
        echo_tail_s=config.turn.echo_tail_ms / 1000,
        fallback=fallback,
        on_activate=activate,
    )


def build_capture(config: Config, source: AudioSource) -> Capture:
    # A live device that disappears is reopened; a file or pipe that ends is the end of the stream.
    reopen = (lambda: build_source(config)) if isinstance(source, PyAudioSource) else None
    return Capture(source, frame_ms=config.vad.frame_ms, queue_s=config.audio.queue_s, reopen=reopen)


def build_pipeline(config: Config, source: AudioSource, sink: AudioSink, *,
                   config_path: Path | None = None, kept: Kept = Kept()) -> Pipeline:
    """A pipeline on its own (simulate, the benchmarks); the daemon puts one together itself, around it."""
    announcer = Announcer()
    stages = build_stages(config, sink, config_path=config_path, speak=announcer, kept=kept)
    pipeline = Pipeline(build_capture(config, source), stages)
    announcer.pipeline = pipeline
    return pipeline


def build_satellite(config: Config, pipeline: Pipeline, *, advertise: bool = True) -> EsphomeSatellite | None:
    """The Home Assistant voice satellite (ESPHome API), started and joined to the pipeline; None when off."""
    if not config.satellite.esphome.enabled:
        return None
    from assistant.remote.esphome.satellite import EsphomeSatellite  # aioesphomeapi: only when enabled

    wake = pipeline.stages.wake
    satellite = EsphomeSatellite(config.satellite, pipeline, wake.detector.models if wake is not None else [],
                                 advertise=advertise).start()
    pipeline.remote = satellite
    return satellite


def warm_up(pipeline: Pipeline) -> None:
    """Load what would otherwise load on first use (the LLM) and prime it, so the first turn is as fast
    as the rest: the daemon does this before READY=1, simulate and the benchmarks before audio starts."""
    fallback = pipeline.stages.fallback
    if isinstance(fallback, LlmFallback):
        fallback.load(warm=True)
    router = pipeline.stages.router
    if isinstance(router, Router):
        router.warm_up()


class Announcer:
    """Lets skills (a timer going off) speak through the pipeline, which is built after the router."""

    pipeline: Pipeline | None = None

    def __call__(self, text: str) -> None:
        if self.pipeline is not None:
            self.pipeline.submit_text(text, route=False)
