"""What the Wyoming server offers: our own recognizer (with its guards and vocabulary prompt), synthesizer and
wake-word engine, already built (``app``/``cli`` build them from the config), and the ``describe`` answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    Info,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)

from assistant import __version__
from assistant.hearing.guards import Guards
from assistant.hearing.wake_word import WakeModelInfo, WakeWords
from assistant.hearing.whisper import Recognizer
from assistant.speech.base import Synthesizer

PROJECT_URL = ""  # the project has no public address yet
WHISPER_URL = "https://github.com/SYSTRAN/faster-whisper"
ENGINE_URLS = {"piper": "https://github.com/rhasspy/piper", "pyttsx3": "https://github.com/espeak-ng/espeak-ng",
               "micro": "https://github.com/OHF-Voice/pymicro-wakeword",
               "openwakeword": "https://github.com/dscripka/openWakeWord"}


@dataclass
class Backends:
    """Each part is optional: the server offers what it was given."""

    name: str = "assistant"  # the zeroconf service name and the programs' prefix
    recognizer: Recognizer | None = None
    guards: Guards | None = None  # drops Whisper's hallucinations before a transcript goes out
    initial_prompt: str | None = None  # the vocabulary bias (wake phrases, hotwords, command words)
    language: str = "en"
    synthesizer: Synthesizer | None = None
    voice: str | None = None  # tts.voice: the one voice offered (None: the engine's default voice)
    wake: Callable[[], WakeWords] | None = None  # a fresh detector per connection (each has its own state)
    wake_models: list[WakeModelInfo] = field(default_factory=list)


def _attribution(what: str, url: str = PROJECT_URL) -> Attribution:
    return Attribution(name=what, url=url)


def offered_voices(synthesizer: Synthesizer, wanted: str | None) -> list[dict[str, str]]:
    """The voices a client may pick: the configured one (every engine speaks one voice per server); a
    one-voice engine's voice; else the engine's default voice."""
    voices = synthesizer.voices()
    if len(voices) == 1:
        return voices
    if wanted:
        lowered = wanted.lower()
        chosen = [v for v in voices if lowered in (v["id"].lower(), v.get("name", "").lower())]
        chosen = chosen or [v for v in voices if lowered in v["id"].lower() or lowered in v.get("name", "").lower()]
        if chosen:
            return chosen[:1]
    return [{"id": "default", "name": f"{synthesizer.name} default voice", "languages": ""}]


def describe(backends: Backends) -> Info:
    """The ``info`` answer: one program per offered stage, with its models, voices, languages and streaming."""
    info = Info()
    if backends.recognizer is not None:
        model = backends.recognizer.model_name
        info.asr.append(AsrProgram(
            name=f"{backends.name}-asr", attribution=_attribution("assistant (faster-whisper)"), installed=True,
            description="Whisper with hallucination guards and vocabulary bias", version=__version__,
            models=[AsrModel(name=model, attribution=_attribution("OpenAI Whisper (CTranslate2: Systran)", WHISPER_URL),
                             installed=True, description=f"Whisper {model}", version=None,
                             languages=[backends.language])],
            supports_transcript_streaming=False,  # one transcript per utterance: Whisper is not incremental
        ))
    if backends.synthesizer is not None:
        voices = [TtsVoice(name=v["id"], attribution=_attribution(backends.synthesizer.name,
                                                             ENGINE_URLS.get(backends.synthesizer.name, "")),
                           installed=True,
                           description=v.get("name") or v["id"], version=None,
                           languages=[lang for lang in str(v.get("languages", "")).split(",") if lang] or
                           [backends.language])
                  for v in offered_voices(backends.synthesizer, backends.voice)]
        info.tts.append(TtsProgram(
            name=f"{backends.name}-tts", attribution=_attribution(f"assistant ({backends.synthesizer.name})"),
            installed=True, description=f"{backends.synthesizer.name}, sentence by sentence", version=__version__,
            voices=voices, supports_synthesize_streaming=True,
        ))
    if backends.wake is not None:
        info.wake.append(WakeProgram(
            name=f"{backends.name}-wake", attribution=_attribution("assistant"), installed=True,
            description="acoustic wake words", version=__version__,
            models=[WakeModel(name=m.name, attribution=_attribution(m.engine, ENGINE_URLS.get(m.engine, "")),
                              installed=True,
                              description=m.phrase, version=None, languages=[backends.language],
                              phrase=m.phrase) for m in backends.wake_models],
        ))
    return info
