"""Whisper's second opinion on a wake-word candidate, on real recordings: the phrase said is heard even where
tiny.en spells it wrong ("Hit my crossed." for "Hey Mycroft"); another phrase, or ordinary speech, is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.hearing.wake_confirm import hears_phrase
from assistant.hearing.whisper import Recognizer
from support.wav import read_wav


@pytest.mark.parametrize(("recording", "phrase", "said"), [
    ("hey_mycroft_test.wav", "Hey Mycroft", True),
    ("alexa_test.wav", "Alexa", True),
    ("hey_mycroft_test.wav", "Okay Computer", False),
    ("hey_mycroft_test.wav", "Okay Nabu", False),
    ("alexa_test.wav", "Hey Jarvis", False),
    ("whatstheweatherlike.wav", "Okay Nabu", False),
])
def test_the_phrase_is_heard_only_where_it_was_said(recognizer: Recognizer, data_dir: Path, recording: str,
                                                    phrase: str, said: bool) -> None:
    pcm = read_wav(data_dir / recording)[0].tobytes()
    heard, why = hears_phrase(recognizer, pcm, phrase)
    assert heard is said, why


def test_words_before_the_phrase_do_not_hide_it(recognizer: Recognizer, data_dir: Path) -> None:
    import numpy as np

    before = read_wav(data_dir / "whatstheweatherlike.wav")[0]
    word = read_wav(data_dir / "alexa_test.wav")[0]
    heard, why = hears_phrase(recognizer, np.concatenate([before[-12000:], word]).tobytes(), "Alexa")
    assert heard, why
