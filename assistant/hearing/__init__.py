"""Hearing: the endpointer (webrtcvad, Silero, Smart Turn), Whisper and its guards, vocabulary bias, listening modes."""
