"""Speaking: TTS engines (espeak-ng through pyttsx3, Piper), sentence-by-sentence streaming, earcons."""
