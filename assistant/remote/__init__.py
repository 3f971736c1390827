"""Home Assistant's edges: wyoming/ (remote ASR, TTS and wake word; our own server) and esphome/ (this daemon
as a voice satellite)."""
