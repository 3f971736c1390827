"""A local-first voice assistant daemon: mic -> VAD -> Whisper -> intents/LLM -> TTS -> speaker."""

__version__ = "0.1.0"
