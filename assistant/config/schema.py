"""The whole configuration tree: pydantic models, YAML loading, ``${ENV}`` expansion, readable errors.

Every field has a default and a one-line description; unknown keys are errors that name their path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from assistant.config.base import ConfigFileError, StrictModel, load_yaml, read_config_text
from assistant.config.commands import CommandsConfig, SkillsConfig
from assistant.config.hearing import GuardsConfig, ListenConfig
from assistant.config.llm import CameraConfig, LlmConfig, MemoryConfig
from assistant.config.satellite import SatelliteConfig
from assistant.config.service import ServiceConfig
from assistant.config.speakers import SpeakersConfig
from assistant.config.speech import BargeInConfig, EarconsConfig, LatencyConfig, SpeechOutConfig

__all__ = ["Config", "ConfigError", "StrictModel", "load", "validate"]

CONFIG_ENV = "ASSISTANT_CONFIG"
EX_CONFIG = 78  # sysexits EX_CONFIG: systemd's RestartPreventExitStatus uses it


DeviceSpec = Annotated[
    str | int | None,
    Field(description="PortAudio device: index, a substring of its name, or null for the default"),
]


class AudioConfig(StrictModel):
    source: Literal["device", "wav", "stdin"] = Field(
        "device", description="where audio comes from: a PortAudio device, a WAV file, or raw PCM on stdin"
    )
    input_device: DeviceSpec = None
    output_device: DeviceSpec = None
    sink: Literal["device", "wav", "null"] = Field(
        "device", description="where replies go: a PortAudio device, a WAV file, or nowhere"
    )
    input_wav: str | None = Field(None, description="WAV file to read when source is 'wav'")
    output_wav: str | None = Field(None, description="WAV file to write when sink is 'wav'")
    realtime: bool = Field(True, description="pace WAV/stdin input at real time, like a microphone")
    sample_rate: int = Field(
        16000, ge=8000, le=192000, description="rate to open the input device at; resampled to 16 kHz if not 16000"
    )
    stdin_rate: int = Field(16000, ge=8000, le=192000, description="sample rate of raw s16le mono PCM on stdin")
    buffer_ms: int = Field(
        50, ge=10, le=500, description="size of one read from the device: larger wakes the CPU less, adds latency"
    )
    @field_validator("sink", mode="before")
    @classmethod
    def _yaml_null(cls, value: Any) -> Any:
        return "null" if value is None else value  # `sink: null` parses as None in YAML

    queue_s: float = Field(
        120.0, gt=0, le=3600, description="seconds of audio the capture queue holds before it drops frames"
    )


class VadConfig(StrictModel):
    engine: Literal["webrtc", "silero", "both"] = Field(
        "both", description="webrtc: endpointer only; silero: Silero must also hear speech; both: and agree with webrtc"
    )
    aggressiveness: int = Field(2, ge=0, le=3, description="webrtcvad mode: 0 lets most through, 3 is strictest")
    frame_ms: Literal[10, 20, 30] = Field(30, description="VAD frame length (webrtcvad accepts 10, 20 or 30)")
    preroll_ms: int = Field(300, ge=0, le=2000, description="audio kept before speech onset so first words are whole")
    hangover_ms: int = Field(500, ge=0, le=5000, description="silence that ends an utterance")
    start_ms: int = Field(90, ge=0, le=1000, description="voiced audio within the window needed to start an utterance")
    min_speech_ms: int = Field(250, ge=0, le=5000, description="utterances with less voiced audio are ignored")
    max_utterance_s: float = Field(20.0, gt=0, le=120, description="utterances are cut at this length")


class AsrConfig(StrictModel):
    model: str = Field("tiny.en", description="local folder, bundled model name (tiny.en, base) or hub id")
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="where Whisper runs")
    compute_type: str = Field("int8", description="CTranslate2 compute type (int8, int8_float32, float16, ...)")
    beam_size: int = Field(1, ge=1, le=10, description="1 is greedy decoding (fastest); 5 is Whisper's default")
    language: str | None = Field("en", description="spoken language code, or null to detect it")
    cpu_threads: int = Field(0, ge=0, le=256, description="CPU threads for Whisper; 0: one per available core")
    cache_dir: str | None = Field(None, description="where assembled bundled models go (default: XDG cache)")
    hotwords: list[str] = Field(default_factory=list, description="names and words Whisper should expect (prompt)")
    bias_vocabulary: bool = Field(
        True, description="prompt Whisper with the wake phrases, command phrases and slot values"
    )
    lead_in_ms: int = Field(
        300, ge=0, le=2000, description="silence put before each utterance: Whisper mishears speech at sample 0"
    )
    second_pass_model: str | None = Field(
        None, description="a larger model (e.g. base) that transcribes again when tiny.en sounds unsure; null: off"
    )
    second_pass_below_logprob: float = Field(
        -0.8, le=0.0, description="second pass when a segment's average token log-probability is below this"
    )
    engine: Literal["whisper", "wyoming"] = Field(
        "whisper", description="whisper: on this machine; wyoming: a Wyoming speech-to-text server at asr.uri"
    )
    uri: str = Field("tcp://127.0.0.1:10300", description="wyoming: the server (tcp://host:port)")
    timeout_s: float = Field(15.0, gt=0, le=600, description="wyoming: a server slower than this counts as down")
    fallback: bool = Field(
        False, description="wyoming: while the server is down, transcribe here with asr.model (loaded at start)"
    )


class TtsConfig(StrictModel):
    engine: Literal["pyttsx3", "piper", "wyoming", "null"] = Field(
        "pyttsx3", description="speech synthesizer: pyttsx3 (espeak-ng), piper (neural, the 'piper' extra), "
        "wyoming (a server at tts.uri; tts.voice picks its voice), null"
    )
    voice: str | None = Field(None, description="voice id or name substring (see `assistant voices`)")
    rate: int = Field(
        175, ge=50, le=500, description="speaking rate in words per minute (piper: 175 is the voice's own pace)"
    )
    volume: float = Field(1.0, ge=0.0, le=1.0, description="output volume, 0.0 to 1.0")
    piper_model: str | None = Field(
        None, description="piper: a voice's .onnx file (its .onnx.json beside it) or a folder holding one; "
        "null: the bundled en_US joe voice"
    )
    uri: str = Field("tcp://127.0.0.1:10200", description="wyoming: the text-to-speech server (tcp://host:port)")
    timeout_s: float = Field(15.0, gt=0, le=600, description="wyoming: a server slower than this counts as down")
    fallback: Literal["pyttsx3", "piper"] | None = Field(
        None, description="wyoming: the local engine that speaks while the server is down (null: none)"
    )

    @field_validator("engine", mode="before")
    @classmethod
    def _yaml_null(cls, value: Any) -> Any:
        return "null" if value is None else value  # `engine: null` parses as None in YAML


class TurnConfig(StrictModel):
    policy: Literal["half_duplex", "barge_in"] = Field(
        "half_duplex", description="half_duplex: the mic is ignored while speaking; barge_in: the user's "
        "speech over the reply (told apart from its echo, see barge_in:) stops it and is answered"
    )
    echo_tail_ms: int = Field(
        300, ge=0, le=3000, description="after speaking, keep ignoring the mic this long (room echo)"
    )
    stop_words_while_speaking: bool = Field(
        True, description="half_duplex: a stop phrase (the stop skill's: stop, be quiet, ...) said over the reply "
        "still cuts it; anything else said while speaking stays ignored"
    )


class RouterConfig(StrictModel):
    acknowledgement: str = Field(
        "I heard: {text}", description="reply for requests nothing else handles; {text} is the transcript"
    )


class LoggingConfig(StrictModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    format: Literal["auto", "text", "json"] = Field(
        "auto", description="auto: plain under systemd (journald adds time), timestamps on a terminal"
    )


class Config(StrictModel):
    audio: AudioConfig = Field(default_factory=AudioConfig, description="microphone and speaker")
    vad: VadConfig = Field(default_factory=VadConfig, description="voice activity detection and endpointing")
    asr: AsrConfig = Field(default_factory=AsrConfig, description="speech recognition (faster-whisper)")
    tts: TtsConfig = Field(default_factory=TtsConfig, description="speech synthesis")
    listen: ListenConfig = Field(default_factory=ListenConfig, description="which utterances are requests")
    guards: GuardsConfig = Field(default_factory=GuardsConfig, description="dropping Whisper's hallucinations")
    turn: TurnConfig = Field(default_factory=TurnConfig, description="turn-taking while the assistant speaks")
    router: RouterConfig = Field(default_factory=RouterConfig, description="what answers a request")
    commands: CommandsConfig = Field(
        default_factory=CommandsConfig, description="spoken commands: slots, sentence templates, actions, includes"
    )
    skills: SkillsConfig = Field(
        default_factory=SkillsConfig, description="built-in skills: time, date, timers, stop, repeat, help, volume"
    )
    llm: LlmConfig = Field(default_factory=LlmConfig, description="the language model that answers open questions")
    camera: CameraConfig = Field(default_factory=CameraConfig, description="a camera the LLM can look through")
    memory: MemoryConfig = Field(
        default_factory=MemoryConfig, description="conversation memory kept across turns and restarts"
    )
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="log output")
    service: ServiceConfig = Field(default_factory=ServiceConfig, description="control socket and turn history")
    speech_out: SpeechOutConfig = Field(default_factory=SpeechOutConfig, description="streamed speech output")
    earcons: EarconsConfig = Field(default_factory=EarconsConfig, description="tones for listening, thinking, error")
    barge_in: BargeInConfig = Field(
        default_factory=BargeInConfig, description="echo gate: barge-in, and stop phrases while speaking in half duplex"
    )
    latency: LatencyConfig = Field(default_factory=LatencyConfig, description="speculative ASR, adaptive end of turn")
    speakers: SpeakersConfig = Field(
        default_factory=SpeakersConfig, description="who is speaking: enrolled voices, per-person memory and commands"
    )
    satellite: SatelliteConfig = Field(
        default_factory=SatelliteConfig, description="a Home Assistant voice satellite (ESPHome native API)")

    @field_validator("*", mode="before")
    @classmethod
    def _none_is_default(cls, value: Any) -> Any:
        # `vad:` with nothing under it parses as None; treat it as "all defaults".
        return {} if value is None else value


class ConfigError(Exception):
    """A configuration problem a user can fix; ``problems`` holds one plain sentence each."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(problems))


_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: Any, path: str = "", missing: list[str] | None = None) -> Any:
    """Replace ``${NAME}`` / ``${NAME:-default}`` in every string of a parsed YAML tree."""
    if missing is None:
        missing = []
    if isinstance(value, dict):
        return {k: expand_env(v, f"{path}.{k}" if path else str(k), missing) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, f"{path}[{i}]", missing) for i, v in enumerate(value)]
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            missing.append(f"{path}: environment variable {name} is not set (use ${{{name}:-default}} for a default)")
            return ""

        return _ENV_PATTERN.sub(substitute, value)
    return value


def _plain(error: dict[str, Any]) -> str:
    """One pydantic error as 'key.path: what is wrong' in plain words."""
    loc = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
    kind, ctx = error["type"], error.get("ctx") or {}
    messages = {
        "extra_forbidden": "unknown key (check the spelling; `assistant config show` lists every key)",
        "greater_than_equal": f"must be >= {ctx.get('ge')}",
        "greater_than": f"must be > {ctx.get('gt')}",
        "less_than_equal": f"must be <= {ctx.get('le')}",
        "less_than": f"must be < {ctx.get('lt')}",
        "literal_error": f"must be one of {ctx.get('expected')}",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "bool_parsing": "must be true or false",
        "string_type": "must be text",
        "model_type": "must be a mapping of keys to values",
        "dict_type": "must be a mapping of keys to values",
        "list_type": "must be a list",
        "missing": "is required",
    }
    message = messages.get(kind, error["msg"])
    if kind.startswith("value_error"):
        message = str(ctx.get("error", error["msg"]))
    return f"{loc}: {message}" if loc else message


def validate(data: Any, source: str = "") -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["the top level must be a mapping of sections (audio:, vad:, asr:, ...)"], source)
    missing: list[str] = []
    data = expand_env(data, missing=missing)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(missing + [_plain(dict(e)) for e in exc.errors()], source) from None
    if missing:
        raise ConfigError(missing, source)
    return config


def candidate_paths(explicit: str | None = None) -> Iterable[Path]:
    """Where a config file is looked for, first match wins."""
    if explicit:
        yield Path(explicit).expanduser()
        return
    if os.environ.get(CONFIG_ENV):
        yield Path(os.environ[CONFIG_ENV]).expanduser()
        return
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    yield Path(xdg) / "assistant" / "config.yaml"
    yield Path("/etc/assistant/config.yaml")


def find_config(explicit: str | None = None) -> Path | None:
    paths = list(candidate_paths(explicit))
    if explicit or os.environ.get(CONFIG_ENV):
        return paths[0]  # an explicitly named file must exist; load() reports it if not
    return next((p for p in paths if p.is_file()), None)


def load(explicit: str | None = None, *, allow_empty: bool = True) -> tuple[Config, Path | None]:
    """Load the effective config; return it with the file it came from (None: built-in defaults)."""
    path = find_config(explicit)
    if path is None:
        return Config(), None
    return load_file(path, allow_empty=allow_empty), path


def load_file(path: Path, *, allow_empty: bool = True) -> Config:
    """The config in ``path``; ``allow_empty=False`` (a reload) refuses an empty file: that is a file caught
    while it is being written (opened, truncated, not yet written), and all defaults in its place would switch
    the microphone and drop every command (the hundred-reloads test caught it on CI)."""
    try:
        text = read_config_text(path)
    except FileNotFoundError:
        raise ConfigError([f"file not found: {path}"], str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read {path}: {exc}"], str(path)) from None
    if not allow_empty and not text.strip():
        raise ConfigError(["the file is empty (still being written?); for all the defaults, write {}"], str(path))
    try:
        data = load_yaml(text)
    except ConfigFileError as exc:
        raise ConfigError([str(exc)], str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"not valid YAML{where}: {problem}"], str(path)) from None
    return validate(data, str(path))


def dump(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
