"""Vocabulary biasing: names from the config are recognised once they are in Whisper's initial prompt.

The recordings are real: LibriSpeech 1221-135766-0002 says "Hester Prynne" (tiny.en hears "Hester Prin")
and the AMI clip says "call me Abbie" (tiny.en writes "Abi").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.audio.sources import read_wav_pcm
from assistant.config.hearing import ListenConfig
from assistant.config.schema import Config
from assistant.hearing.biasing import MAX_PROMPT_CHARS, build_initial_prompt, vocabulary_terms
from assistant.hearing.listen import build_listener, prompt_for, words
from assistant.hearing.whisper import WhisperRecognizer


def test_prompt_from_terms() -> None:
    assert build_initial_prompt([]) is None
    assert build_initial_prompt(["  ", "{room}"]) is None
    assert build_initial_prompt(["Lumière lamp", "Spotify", "spotify", "turn on the {room} light"]) == (
        "Lumière lamp, Spotify, turn on the light.")
    assert vocabulary_terms(["a", "A", " b. "]) == ["a", "b"]


def test_prompt_is_capped_and_keeps_the_first_terms() -> None:
    terms = [f"device number {i}" for i in range(200)]
    prompt = build_initial_prompt(terms)
    assert prompt is not None and len(prompt) <= MAX_PROMPT_CHARS
    assert prompt.startswith("device number 0, device number 1,")


def test_wake_phrases_join_the_prompt_in_wake_mode_only() -> None:
    wake = ListenConfig(mode="wake_phrase", wake_phrases=["hey mycroft", "Jarvis"])
    # wake phrases first: a phrase at the end of the prompt may be taken as already said
    assert prompt_for(wake, ["Claflin"], ["Spotify"]) == "Hey Mycroft, Jarvis, Claflin, Spotify."
    assert prompt_for(ListenConfig(mode="always"), [], ["Spotify"]) == "Spotify."
    assert build_listener(Config(), vocabulary=["Hester Prynne"]).initial_prompt == "Hester Prynne."


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "term", "rare_word"),
    [("1221-135766-0002.wav", "Hester Prynne", "prynne"), ("ami_ES2011a_headset0_40-46s.wav", "Abbie", "abbie")],
)
def test_biasing_fixes_a_misrecognised_name(name: str, term: str, rare_word: str, data_dir: Path,
                                           recognizer: WhisperRecognizer) -> None:
    pcm = read_wav_pcm(data_dir / name)
    plain = recognizer.transcribe(pcm).text
    assert rare_word not in words(plain), plain  # the model alone gets the name wrong...
    prompt = build_listener(Config(), vocabulary=["Lumière lamp", term, "Spotify"]).initial_prompt
    biased = recognizer.transcribe(pcm, initial_prompt=prompt).text
    assert rare_word in words(biased), biased  # ...and right with the config's vocabulary


@pytest.mark.slow
def test_biasing_does_not_change_ordinary_speech(data_dir: Path, recognizer: WhisperRecognizer) -> None:
    prompt = build_initial_prompt(["Hester Prynne", "Lumière lamp", "Spotify", "kitchen", "set a timer"])
    for name, expected in [("whatstheweatherlike.wav", "what's the weather like"),
                           ("turn_on_the_living_room_lamp.wav", "turn on the living room lamp")]:
        text = recognizer.transcribe(read_wav_pcm(data_dir / name), initial_prompt=prompt).text
        assert words(text) == words(expected), text
