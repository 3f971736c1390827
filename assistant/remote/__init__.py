"""Home Assistant edges: the Wyoming clients (remote ASR, TTS and wake word) and server (ours, offered)."""
