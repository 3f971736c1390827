"""Knowing who speaks: Resemblyzer's speaker encoder (``frontend``, ``encoder``), enrolled voices on disk
(``store``), the closest voice above a threshold (``identify``) and the identification run beside Whisper
(``watch``). ``build_speaker_watch`` makes the last from a config."""
