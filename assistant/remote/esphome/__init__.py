"""This daemon as a Home Assistant voice satellite over the ESPHome native API (as linux-voice-assistant is):
frames.py (plaintext and Noise framing), server.py (connections), device.py (what the device says it is),
voice.py (the voice-assistant run), media.py (fetching and decoding a URL), satellite.py (the pipeline's
side: wake word, audio, playback), advertise.py (zeroconf), errors.py."""
